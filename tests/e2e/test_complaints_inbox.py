"""The complaints inbox in a real browser: a fee reported through the public form reaches the
handler's inbox without the reporter's identity; the handler replies and moves it on; the reporter's
status page shows the reply (not the internal note); only an admin opens the identity, audited."""

from datetime import date

import httpx
import pytest

from tests.e2e.conftest import DESKTOP, PASSWORD, PHONE, serious_axe_violations, shoot
from tests.e2e.test_staff import sign_in

DESCRIPTION = "Diminta Rp 75.000 <script>window.__pwned = 1</script> agar KTP cepat jadi (e2e inbox)."
REPORTER_NAME = "Rina Rahasia E2E"
REPORTER_CONTACT = "0812-5555-0101"


def admin_headers(server) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token('e2e.admin')}"}


@pytest.fixture(scope="module")
def handler(server) -> dict:
    """A complaint handler account (the demo's own has a password printed once)."""
    response = httpx.post(
        f"{server.base}/api/v1/users",
        headers=admin_headers(server),
        json={"username": "e2e.handler", "display_name": "Handler E2E", "password": PASSWORD, "role": "handler"},
    )
    response.raise_for_status()
    return response.json()


@pytest.fixture
def second_page(browser, server, console_errors):
    """Another person's browser (its own storage), failing on script errors like `page`."""
    context = browser.new_context(base_url=server.base, viewport=PHONE)
    other = context.new_page()
    other.set_default_timeout(20_000)
    other.on("pageerror", lambda error: console_errors.append(f"pageerror: {error}"))
    other.on("console", lambda m: m.type == "error" and "Failed to load resource" not in m.text and console_errors.append(m.text))
    yield other
    context.close()


def report_a_fee(page) -> str:
    """The resident's side: the public form, with name and contact; returns the receipt."""
    page.goto("/#/report")
    page.wait_for_selector("[data-form=report]")
    page.select_option("#report-point", "1")
    page.fill("#report-date", date.today().isoformat())
    page.fill("#report-amount", "75.000")
    page.fill("#report-who", "Petugas berompi biru")
    page.fill("#report-description", DESCRIPTION)
    page.fill("#report-name", REPORTER_NAME)
    page.fill("#report-contact", REPORTER_CONTACT)
    page.click("[data-form=report] [type=submit]")
    page.wait_for_selector("h1:text-is('Laporan terkirim')")
    return page.inner_text("[data-code]")


def open_in_inbox(page) -> int:
    """From the inbox to the complaint with DESCRIPTION; returns its id."""
    row = page.locator("[data-table=complaints] tr", has_text="(e2e inbox)").first
    row.wait_for()
    complaint_id = int(row.get_attribute("data-complaint"))
    row.locator("a").click()
    page.wait_for_url(f"**/#/staff/complaints/{complaint_id}")
    page.wait_for_selector(f"h1:text-is('Pengaduan #{complaint_id}')")
    return complaint_id


def test_a_reported_fee_reaches_the_handler_who_replies_and_the_reporter_reads_it(page, second_page, server, handler) -> None:
    receipt = report_a_fee(page)

    staff = second_page
    sign_in(staff, "e2e.handler")
    staff.wait_for_selector("h1:text-is('Halo, e2e.handler')")
    # The handler is offered the inbox (menu and tools), not the users view.
    assert staff.locator(".site-nav a[href='#/staff/complaints']").count() == 1
    assert staff.locator("a[href='#/staff/users']").count() == 0
    staff.click(".cards a[href='#/staff/complaints']")
    staff.wait_for_selector("h1:text-is('Pengaduan pungutan liar')")
    assert "Rahasia" in staff.inner_text("[data-confidential]")
    row = staff.locator("[data-table=complaints] tr", has_text="(e2e inbox)")
    row.wait_for()
    # The description is text (the script did not run), the reporter is nowhere in the list.
    assert "<script>window.__pwned = 1</script>" in row.locator("[data-snippet]").inner_text()
    assert staff.evaluate("window.__pwned") is None
    assert REPORTER_NAME not in staff.content() and REPORTER_CONTACT not in staff.content()
    assert row.locator("[data-complaint-status=received]").count() == 1
    assert serious_axe_violations(staff) == []
    shoot(staff, "staff-complaints-phone")

    complaint_id = open_in_inbox(staff)
    assert staff.inner_text("[data-description]") == DESCRIPTION
    assert staff.inner_text("[data-amount]") == "Rp75.000"  # one style for money: fmt.money
    assert "Petugas berompi biru" in staff.inner_text("[data-operator]")
    # A handler is told that a contact exists, and that only an admin can open it.
    assert staff.locator("[data-reporter=closed]").count() == 1
    assert staff.locator("[data-form=reporter]").count() == 0
    assert REPORTER_NAME not in staff.content()

    # Empty reply: a message next to the field, nothing sent.
    staff.click("[data-form=reply] [type=submit]")
    assert staff.inner_text("[data-form=reply] [data-error-for=text]") == "Wajib diisi."
    staff.fill("#reply-text", "Terima kasih, kami periksa <b>segera</b>.")
    staff.click("[data-form=reply] [type=submit]")
    staff.wait_for_selector("[data-done]:has-text('Balasan terkirim')")
    assert staff.locator("[data-log] [data-kind=reply] .message-text").inner_text() == "Terima kasih, kami periksa <b>segera</b>."
    # The status moves on with an internal note.
    staff.select_option("#step-status", "investigating")
    staff.fill("#step-note", "Cek rekaman CCTV loket 2.")
    staff.click("[data-form=transition] [type=submit]")
    staff.wait_for_selector("[data-done]:has-text('Sedang diperiksa')")
    assert staff.locator("dl [data-complaint-status=investigating]").count() == 1
    step = staff.locator("[data-log] [data-kind=transition]")
    assert "Cek rekaman CCTV loket 2." in step.inner_text() and "internal" in step.inner_text()
    # A note without a step: the status stays, the note is in the log, marked internal.
    staff.fill("#note-text", "Saksi kedua sudah ditelepon.")
    staff.click("[data-form=note] [type=submit]")
    staff.wait_for_selector("[data-done]:has-text('Catatan ditambahkan')")
    note = staff.locator("[data-log] [data-kind=note]")
    assert "Saksi kedua sudah ditelepon." in note.inner_text() and "internal" in note.inner_text()
    assert staff.locator("dl [data-complaint-status=investigating]").count() == 1
    staff.set_viewport_size(DESKTOP)
    assert serious_axe_violations(staff) == []
    shoot(staff, "staff-complaint-detail-desktop")
    staff.set_viewport_size(PHONE)

    stored = httpx.get(f"{server.base}/api/v1/complaints/{complaint_id}", headers=admin_headers(server)).json()
    assert stored["status"] == "investigating" and stored["first_response_at"] is not None

    # The reporter's status page: the reply and the new status, never the internal note.
    page.click("[data-link=track]")
    page.wait_for_selector("[data-status=investigating]")
    assert page.locator("[data-conversation] [data-author=city] .message-text").inner_text() == "Terima kasih, kami periksa <b>segera</b>."
    assert "CCTV" not in page.content() and "Saksi kedua" not in page.content()
    assert receipt not in page.url

    # Someone else moved it meanwhile: the API's refusal is shown, not swallowed.
    moved = httpx.post(
        f"{server.base}/api/v1/complaints/{complaint_id}/transitions",
        headers=admin_headers(server),
        json={"status": "unsubstantiated", "note": "Tidak ada bukti."},
    )
    assert moved.status_code == 200, moved.text
    staff.select_option("#step-status", "substantiated")
    staff.fill("#step-note", "Saksi membenarkan.")
    staff.click("[data-form=transition] [type=submit]")
    alert = staff.locator("[data-form=transition] [data-form-status] [role=alert]")
    alert.wait_for()
    # The refusal in Indonesian, from its code (complaint.step) and params, statuses included.
    assert "bertentangan" in alert.inner_text() and "tidak dapat menjadi terbukti" in alert.inner_text()


def test_filters_assignment_and_the_admins_audited_look_at_the_reporter(page, server, handler) -> None:
    complaint = httpx.post(
        f"{server.base}/api/v1/complaints",
        json={
            "area": "36.74.06",
            "place": "Balai warga RW 05",
            "occurred_on": date.today().isoformat(),
            "amount": 30000,
            "description": "Pungutan di Pamulang (e2e filter).",
            "reporter_name": "Budi Pelapor",
            "reporter_contact": "budi@example.org",
        },
    )
    assert complaint.status_code == 201, complaint.text
    sign_in(page, "e2e.handler")
    page.wait_for_selector("h1:text-is('Halo, e2e.handler')")
    page.goto("/#/staff/complaints?area=36.74.06")
    page.wait_for_selector("[data-table=complaints] tr:has-text('(e2e filter)')")
    assert page.input_value("#complaints-area") == "36.74.06"
    # Every listed complaint is in Pamulang.
    areas = page.locator("[data-table=complaints] tbody th a").all_inner_texts()
    assert areas and all("Pamulang" in a for a in areas)
    # Assign it to oneself; "mine" then lists it.
    row = page.locator("[data-table=complaints] tr:has-text('(e2e filter)')")
    complaint_id = row.get_attribute("data-complaint")
    row.locator("a").click()
    page.wait_for_selector("[data-form=assign]")
    page.select_option("#assign-handler", str(handler["id"]))
    page.click("[data-form=assign] [type=submit]")
    page.wait_for_selector("[data-handler]:text-is('Anda')")
    assert page.locator("[data-log] [data-kind=assignment]").count() == 1
    page.goto("/#/staff/complaints?status=received&mine=1")
    page.wait_for_selector("[data-table=complaints] tr:has-text('(e2e filter)')")
    assert page.locator("[data-table=complaints] tbody tr").count() == 1
    # Closed only: it is not there.
    page.select_option("#complaints-status", "closed")
    page.click("[data-form=complaint-filter] [type=submit]")
    page.wait_for_url("**/#/staff/complaints?status=closed*")
    page.wait_for_selector("[data-complaints=none], [data-table=complaints]")
    assert page.locator("tr:has-text('(e2e filter)')").count() == 0
    page.click("[data-action=signout]")
    page.wait_for_selector("[data-figure=recorded]")

    # The admin opens the reporter: a reason first, then the identity, and the audit has it.
    sign_in(page, "e2e.admin")
    page.wait_for_selector("h1:text-is('Halo, e2e.admin')")
    page.goto("/#/staff/complaints?area=36.74.06")
    page.click("[data-table=complaints] tr:has-text('(e2e filter)') a")
    form = page.locator("[data-form=reporter]")
    form.wait_for()
    assert "Budi Pelapor" not in page.content()
    form.locator("input[name=reason]").fill("perlu")
    form.locator("[type=submit]").click()
    assert "10 huruf" in form.locator("[data-error-for=reason]").inner_text()
    form.locator("input[name=reason]").fill("Perlu menanyakan jam kejadian.")
    form.locator("[type=submit]").click()
    page.wait_for_selector("[data-reporter-name]:text-is('Budi Pelapor')")
    assert page.inner_text("[data-reporter-contact]") == "budi@example.org"
    entries = httpx.get(
        f"{server.base}/api/v1/audit",
        params={"entity": "complaint", "entity_id": complaint_id, "action": "complaint.read_reporter"},
        headers=admin_headers(server),
    ).json()["items"]
    assert [e["after"] for e in entries] == [{"reason": "Perlu menanyakan jam kejadian."}]
    assert entries[0]["actor_name"] == "e2e.admin"
    assert all("Budi Pelapor" not in str(e) for e in entries)
    # The admin assigns from the list of handlers, and names the accused operator (a name with markup stays text).
    options = page.locator("#assign-handler option").all_inner_texts()
    assert any("Handler E2E" in o for o in options)
    operator = httpx.post(
        f"{server.base}/api/v1/operators",
        headers=admin_headers(server),
        json={"name": "<script>window.__op = 1</script> Joko", "staff_number": "E2E-PUNGLI-1"},
    )
    assert operator.status_code == 201, operator.text
    page.reload()
    page.wait_for_selector(f"#assign-operator option[value='{operator.json()['id']}']", state="attached")
    page.select_option("#assign-operator", str(operator.json()["id"]))
    page.click("[data-form=assign] [type=submit]")
    page.wait_for_selector("[data-operator]:text-is('<script>window.__op = 1</script> Joko (E2E-PUNGLI-1)')")
    assert page.evaluate("window.__op") is None
    # The whole workflow through the page: investigating, substantiated, a sanction, action taken, closed.
    for status, note in (("investigating", "Mulai diperiksa."), ("substantiated", "Dua saksi membenarkan.")):
        page.select_option("#step-status", status)
        page.fill("#step-note", note)
        page.click("[data-form=transition] [type=submit]")
        page.wait_for_selector(f"dl [data-complaint-status={status}]")
    sanction = page.locator("[data-form=sanction]")
    sanction.locator("select[name=kind]").select_option("warning")
    sanction.locator("textarea[name=note]").fill("Teguran tertulis.")
    sanction.locator("[type=submit]").click()
    page.wait_for_selector("[data-sanction=warning]")
    for status, note in (("action_taken", "Teguran diserahkan."), ("closed", "Selesai.")):
        page.select_option("#step-status", status)
        page.fill("#step-note", note)
        page.click("[data-form=transition] [type=submit]")
        page.wait_for_selector(f"dl [data-complaint-status={status}]")
    assert page.locator("[data-form=transition]").count() == 0
    assert page.locator("[data-log] [data-kind=transition]").count() == 4
    assert page.locator("[data-log] [data-kind=sanction]").count() == 1
    # The log says it in Indonesian, with the kind the form offered ("teguran", not "warning"), and who wrote it.
    assert page.inner_text("[data-log] [data-kind=sanction] .log-step").startswith("Sanksi teguran mulai ")
    assert " · Anda · " in page.inner_text("[data-log] [data-kind=sanction] .message-meta")


def test_a_step_rekam_itself_took_is_signed_by_the_system_not_nobody(page, server) -> None:
    # The demo's complaints were worked by the loader (no staff account): their log says "Sistem".
    demo = httpx.get(f"{server.base}/api/v1/complaints", params={"status": "substantiated", "limit": 100}, headers=admin_headers(server)).json()["items"]
    mine = next(c for c in demo if c["description"].startswith("Diminta Rp50.000"))  # the demo's substantiated one, with its warning
    sign_in(page, "e2e.admin")
    page.wait_for_selector("h1:text-is('Halo, e2e.admin')")
    page.goto(f"/#/staff/complaints/{mine['id']}")
    page.wait_for_selector("[data-log] [data-kind=sanction]")
    meta = page.inner_text("[data-log] [data-kind=sanction] .message-meta")
    assert " · Sistem · " in meta and "Belum ditugaskan" not in meta


def test_staff_who_do_not_handle_complaints_neither_see_nor_open_the_inbox(page, server) -> None:
    sign_in(page, "e2e.supervisor")
    page.wait_for_selector("h1:text-is('Halo, e2e.supervisor')")
    assert page.locator("a[href='#/staff/complaints']").count() == 0
    page.goto("/#/staff/complaints")
    page.wait_for_selector("h1:text-is('Tidak tersedia untuk peran Anda')")
    # The API says the same, whatever the page shows.
    answer = httpx.get(f"{server.base}/api/v1/complaints", headers={"Authorization": f"Bearer {server.token('e2e.supervisor')}"})
    assert answer.status_code == 403


def test_who_was_there_offers_the_operators_at_that_point_that_day_first(page, server, handler) -> None:
    """Issue 19: to name the operator at "loket 2" that day, the handler scanned all 65 petugas."""
    from api import calendar

    day = calendar.today().isoformat()
    point = 1
    reported = httpx.post(
        f"{server.base}/api/v1/complaints",
        json={
            "service_point_id": point,
            "occurred_on": day,
            "amount": 50000,
            "operator_description": "loket 2",
            "description": "Diminta uang di loket 2 (e2e who).",
        },
    )
    assert reported.status_code == 201, reported.text
    headers = {"Authorization": f"Bearer {server.token('e2e.handler')}"}
    complaint = next(c for c in server.get("/complaints", params={"limit": 200}, headers=headers).json()["items"] if c["description"].endswith("(e2e who)."))
    there = server.get("/operators", params={"service_point_id": point, "date": day, "limit": 200}, headers=headers).json()["items"]
    assert there, "the demo posts operators at its offices"
    page.set_viewport_size(DESKTOP)
    sign_in(page, "e2e.handler", start=f"/#/staff/complaints/{complaint['id']}")
    page.wait_for_selector(f"h1:text-is('Pengaduan #{complaint['id']}')")
    select = page.locator("[data-form=assign] [name=operator_id]")
    offered = select.locator("[data-present] option").evaluate_all("os => os.map(o => Number(o.value))")
    assert offered == [o["id"] for o in there]
    # The first group, right under "unknown".
    assert select.locator("option").nth(1).get_attribute("value") == str(there[0]["id"])
    select.select_option(str(there[0]["id"]))
    page.click("[data-form=assign] [type=submit]")
    page.wait_for_selector(f"[data-operator]:has-text('{there[0]['name']}')")
    assert server.get(f"/complaints/{complaint['id']}", headers=headers).json()["operator_id"] == there[0]["id"]
    assert serious_axe_violations(page) == []
    shoot(page, "staff-complaint-who-desktop")
