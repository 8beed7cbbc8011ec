"""Notifications and accounts in a real browser (issues #17 and #21): an admin manages a webhook
(its secret shown once, its delivery log, a redelivery, removal) against a real receiver on
127.0.0.1; residents opt in to messages on the home-visit and fee forms and on the ticket page;
staff see the failed sign-ins to their account and the expiry of the API keys they answer for."""

import json
import time
from datetime import date

import httpx
import pytest
from standardwebhooks import Webhook

from tests.e2e.conftest import PASSWORD, PHONE, open_point_with_operator, serious_axe_violations, shoot
from tests.e2e.test_public import adult_nik, choose_area
from tests.e2e.test_staff import sign_in
from tests.notifications.receiver import Receiver


def admin(server) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token('e2e.admin')}"}


@pytest.fixture
def receiver():
    receiver = Receiver(default_status=500).start()  # refuses until the test says otherwise
    yield receiver
    receiver.stop()


def open_deliveries_until(page, subscription_id: int, selector: str, timeout: float = 30.0) -> None:
    """The delivery log is read when opened: open it again until `selector` shows (the worker sends after commit)."""
    deadline = time.monotonic() + timeout
    while True:
        page.click(f"[data-table=webhooks] tr[data-webhook='{subscription_id}'] [data-action=deliveries]")
        try:
            page.wait_for_selector(selector, timeout=1500)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise


def test_admin_creates_a_webhook_sees_its_secret_once_its_deliveries_redelivers_and_removes_it(page, server, receiver) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, "e2e.admin")
    page.wait_for_selector("h1:text-is('Halo, e2e.admin')")
    page.goto("/#/staff/webhooks")
    # The list is loaded (and the form wired) before anything is typed.
    page.wait_for_selector("[data-slot=webhooks] [data-webhooks=none], [data-slot=webhooks] [data-table=webhooks]")
    form = page.locator("[data-form=create-webhook]")
    form.locator("input[name=url]").fill(receiver.url + "/rekam")
    form.locator("input[name=event][value='ticket.called']").check()
    form.locator("input[name=description]").fill("Dasbor kota <b>e2e</b>")
    form.locator("[type=submit]").click()
    # The signing secret: shown once, with a copy button.
    box = page.locator("[data-secret]")
    box.wait_for()
    secret = page.inner_text("[data-secret] [data-code]")
    assert secret.startswith("whsec_")
    page.click("[data-secret] [data-action=copy-code]")
    page.wait_for_selector("[data-secret] [data-copied]:has-text('disalin')")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    assert serious_axe_violations(page) == []
    shoot(page, "staff-webhook-secret-phone")
    subscription = next(s for s in server.get("/webhooks", params={"limit": 100}, headers=admin(server)).json()["items"] if s["url"] == receiver.url + "/rekam")
    row = page.locator(f"[data-table=webhooks] tr[data-webhook='{subscription['id']}']")
    row.wait_for()
    assert "Dasbor kota <b>e2e</b>" in row.inner_text()  # markup stays text
    page.click("[data-action=forget-secret]")
    assert secret not in page.content()
    page.reload()
    row.wait_for()
    assert secret not in page.content()
    assert page.evaluate("JSON.stringify(sessionStorage) + JSON.stringify(localStorage)").find(secret) == -1

    # An event: a resident is called at a counter. The receiver refuses it (500): a failed delivery.
    point = open_point_with_operator(
        server,
        point={"kind": "kelurahan_office", "name": "Kantor Kelurahan Webhook e2e", "area": "36.74.01.1001", "counters": 1},
        username="e2e.webhook.operator",
        display_name="Operator Webhook",
    )
    httpx.post(f"{server.base}/api/v1/service-points/{point['id']}/tickets", json={}).raise_for_status()
    operator = {"Authorization": f"Bearer {server.token('e2e.webhook.operator')}"}
    httpx.post(f"{server.base}/api/v1/service-points/{point['id']}/call-next", json={"counter": 1}, headers=operator).raise_for_status()
    receiver.wait_for(1, 30.0)
    open_deliveries_until(page, subscription["id"], "[data-table=deliveries] tr[data-status=failed]")
    failed = page.locator("[data-table=deliveries] tr[data-status=failed]")
    assert "ticket.called" in failed.inner_text() and "500" in failed.text_content()  # the answer's column is wide-only
    # What arrived is signed with the secret shown once (Standard Webhooks).
    first = receiver.requests[0]
    payload = Webhook(secret).verify(first.body, first.headers)
    assert payload["type"] == "ticket.called" and payload["data"]["service_point_id"] == point["id"]
    shoot(page, "staff-webhook-deliveries-phone")

    # The receiver is fixed; "send again" delivers it now, with the same webhook-id.
    receiver.default_status = 200
    delivered_before = receiver.count()
    failed.locator("[data-action=redeliver]").click()
    receiver.wait_for(delivered_before + 1, 30.0)
    open_deliveries_until(page, subscription["id"], "[data-table=deliveries] tr[data-status=succeeded]")
    assert receiver.requests[-1].headers["webhook-id"] == first.headers["webhook-id"]
    assert serious_axe_violations(page) == []

    # Remove: asks once more, then the subscription and its log are gone.
    remove = row.locator("[data-action=remove]")
    remove.click()
    assert remove.inner_text() == "Yakin? Klik lagi"
    remove.click()
    row.wait_for(state="detached")
    assert page.locator("[data-table=deliveries]").count() == 0
    remaining = server.get("/webhooks", params={"limit": 100}, headers=admin(server)).json()["items"]
    assert subscription["id"] not in {s["id"] for s in remaining}


def test_residents_opt_in_to_messages_on_the_forms_and_the_ticket_page(page, server) -> None:
    # The home-visit form: the box sends the tracking code and each change to the phone given.
    page.goto("/#/visit")
    page.fill("#visit-name", "Warga Kabar e2e")
    page.fill("#visit-nik", adult_nik(serial=931))
    page.fill("#visit-phone", "0812-5555-0931")
    choose_area(page, "visit-area", "36.74.01", "36.74.01.1001")
    page.fill("#visit-address", "Jl. Kenari No. 9")
    page.check("input[name=reason][value=sick]")
    page.check("input[name=consent]")
    page.check("input[name=messages]")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/home-visits") and r.request.method == "POST") as answer:
        page.click("[data-form=visit] [type=submit]")
    assert answer.value.status == 201
    assert json.loads(answer.value.request.post_data)["messages"] == "whatsapp"
    page.wait_for_selector("h1:text-is('Permintaan terkirim')")
    # The tracking page offers "kirim ulang kode" for a lost code.
    page.click("[data-link=track]")
    page.wait_for_selector("[data-resend]")

    # The fee form: an optional number for news of the report.
    page.goto("/#/report")
    page.wait_for_selector("h1:text-is('Laporkan pungutan liar')")
    page.select_option("#report-point", "1")
    page.fill("#report-date", date.today().isoformat())
    page.fill("#report-amount", "Rp 20.000")
    page.fill("#report-who", "Petugas e2e kabar")
    page.fill("#report-description", "Diminta uang, ingin dikabari lewat WhatsApp.")
    page.fill("#report-notify", "0812 5555 0932")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/complaints") and r.request.method == "POST") as answer:
        page.click("[data-form=report] [type=submit]")
    assert answer.value.status == 201, answer.value.text()
    assert json.loads(answer.value.request.post_data)["notify_phone"] == "0812 5555 0932"
    page.wait_for_selector("h1:text-is('Laporan terkirim')")

    # The ticket page: the number taken, then "tell me when my turn is near" by WhatsApp.
    point = httpx.post(
        f"{server.base}/api/v1/service-points",
        headers=admin(server),
        json={
            "kind": "kelurahan_office",
            "name": "Kantor Kelurahan Kabar e2e",
            "area": "36.74.01.1001",
            "counters": 1,
            "opening_hours": {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        },
    )
    point.raise_for_status()
    page.goto(f"/#/ticket/{point.json()['id']}")
    page.click("[data-form=ticket] [type=submit]")
    page.wait_for_selector("[data-ticket-alerts]")
    alerts = page.locator("[data-form=ticket-notify]")
    alerts.locator("[type=submit]").click()  # nothing filled: both asked for, next to the fields
    alerts.locator("[data-error-for=phone]:not([hidden])").wait_for()
    alerts.locator("input[name=phone]").fill("0812 5555 0933")
    alerts.locator("input[name=consent]").check()
    with page.expect_response(lambda r: r.url.endswith("/notify") and r.request.method == "POST") as answer:
        alerts.locator("[type=submit]").click()
    assert answer.value.status == 204
    sent = json.loads(answer.value.request.post_data)
    ticket_code = page.url.rsplit("/", 1)[1]
    assert sent["phone"] == "0812 5555 0933" and sent["consent"] is True and sent["code"] == ticket_code  # the ticket's own code
    alerts.locator("[role=status]:has-text('Baik, kami kabari')").wait_for()
    assert serious_axe_violations(page) == []
    shoot(page, "ticket-alerts-phone")


def test_staff_see_failed_sign_ins_to_their_account_and_their_keys_expiry(page, server) -> None:
    username = "e2e.account"
    created = httpx.post(
        f"{server.base}/api/v1/users",
        headers=admin(server),
        json={"username": username, "display_name": "Akun e2e", "password": PASSWORD, "role": "supervisor", "area": "36.74.01"},
    )
    created.raise_for_status()
    # Someone guesses the password twice, from elsewhere.
    for _ in range(2):
        assert httpx.post(f"{server.base}/api/v1/auth/token", data={"username": username, "password": "tebakan-salah-1"}).status_code == 401
    # Two keys the account answers for: one expires in 10 days, one in 200.
    body = {"role": "supervisor", "area": "36.74.01", "owner": username}
    soon = httpx.post(f"{server.base}/api/v1/api-keys", headers=admin(server), json={**body, "name": "Impor harian e2e", "expires_in_days": 10}).json()
    later = httpx.post(f"{server.base}/api/v1/api-keys", headers=admin(server), json={**body, "name": "Dasbor e2e", "expires_in_days": 200}).json()

    sign_in(page, username)
    page.wait_for_selector("h1:text-is('Halo, e2e.account')")
    failures = page.locator("[data-account] [data-failed-sign-ins='2']")
    failures.wait_for()
    assert "2 kali gagal masuk" in failures.inner_text() and failures.locator("[data-failed-sign-in]").count() == 2
    keys = page.locator("[data-own-keys] [data-own-key]")
    assert keys.count() == 2
    assert "Impor harian e2e" in keys.nth(0).inner_text()  # soonest first
    assert page.locator(f"[data-own-key='{soon['id']}'] [data-expiry=soon]").inner_text() == "Segera kedaluwarsa"
    assert page.locator(f"[data-own-key='{later['id']}'] [data-expiry]").count() == 0
    assert "Berlaku sampai" in page.locator(f"[data-own-key='{later['id']}']").inner_text()
    assert page.locator("[data-expiring-keys]").count() == 0  # the city-wide list is the admins'
    assert serious_axe_violations(page) == []
    shoot(page, "staff-account-phone")
    page.click("[data-action=signout]")
    page.wait_for_selector("[data-figure=recorded]")

    # An admin's home lists every key about to expire; the users screen shows each key's expiry.
    sign_in(page, "e2e.admin")
    page.wait_for_selector("h1:text-is('Halo, e2e.admin')")
    expiring = page.locator("[data-expiring-keys]")
    expiring.wait_for()
    assert expiring.locator(f"[data-expiring-key='{soon['id']}']").count() == 1
    assert expiring.locator(f"[data-expiring-key='{later['id']}']").count() == 0
    expiring.locator("a[href='#/staff/users']").click()
    page.wait_for_selector(f"[data-table=keys] tr[data-key='{soon['id']}'] [data-expiry=soon]")
    assert "Berlaku sampai" in page.locator(f"[data-table=keys] tr[data-key='{later['id']}'] [data-expiry-cell]").inner_text()
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for key in (soon, later):
        httpx.delete(f"{server.base}/api/v1/api-keys/{key['id']}", headers=admin(server)).raise_for_status()
