"""Offline first (issue 20) in a real browser with the service worker running: the app reloads
without signal and shows the last figures with their "as of" time; a crew marks two visits
offline and both arrive once when the signal returns; a mark for a visit cancelled meanwhile is
a conflict shown to the person; sign-out deletes the personal caches; a new release's worker
takes over only when asked, and no file or cache of the old release is left.

The module has a demo server of its own (marks change the demo's visits) serving a copy of the
frontend, which the release test changes.
"""

import shutil
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from api.visits.demo import nik
from tests.e2e.conftest import PHONE, ROOT, Server, demo_server, id_number, open_point_with_operator, serious_axe_violations, shoot
from tests.e2e.test_devices import auth
from tests.e2e.test_staff import sign_in as sign_in_as

CREW = "kit.operator"
CITY = "36.74"
KELURAHAN = "36.74.01.1003"
# What a page may log while offline: the browser's own network errors, not the app's.
EXPECTED_NOISE = ("Failed to load resource", "ERR_INTERNET_DISCONNECTED", "FetchEvent")


@pytest.fixture(scope="module")
def frontend(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("frontend") / "frontend"
    shutil.copytree(ROOT / "frontend", copy)
    return copy


@pytest.fixture(scope="module")
def server(chromium_path: str, frontend: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with demo_server(tmp_path_factory.mktemp("e2e-offline"), frontend=frontend) as live:
        yield live


@pytest.fixture
def context(browser, server: Server) -> Iterator:
    """A fresh context with service workers allowed; fails on the app's script errors."""
    context = browser.new_context(base_url=server.base, viewport=PHONE)
    errors: list[str] = []
    context.on("weberror", lambda error: errors.append(f"pageerror: {error.error}"))

    def on_console(message) -> None:
        if message.type == "error" and not any(noise in message.text for noise in EXPECTED_NOISE):
            errors.append(message.text)

    context.on("console", on_console)
    yield context
    context.close()
    assert errors == [], errors


@pytest.fixture
def page(context) -> Iterator:
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page


def today() -> date:
    return datetime.now(ZoneInfo("Asia/Jakarta")).date()


def controlled(page) -> None:
    """Wait until the service worker controls the page (it claims it when first activated)."""
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def schedule_today(server: Server, serial: int, name: str) -> int:
    """A resident's request put on the crew's kit today; its id."""
    crew, admin = auth(server, CREW), auth(server, "e2e.admin")
    petugas = server.get("/auth/me", headers=crew).json()["operator_id"]
    kit = server.get("/mobile-kits/mine", headers=crew).json()["items"][0]["device_id"]
    request = {
        "name": name,
        "nik": nik("367401", date(1950, 1, 2), woman=False, serial=serial),
        "phone": "0812 0000 0100",
        "address": "Jl. Ciater Raya No. 3",
        "area": "36.74.01.1001",
        "reason": "elderly",
        "note": None,
        "consent": True,
    }
    created = httpx.post(f"{server.base}/api/v1/home-visits", json=request)
    assert created.status_code == 201, created.text
    waiting = server.get("/home-visits", params={"area": "36.74.01.1001", "status": "submitted", "limit": 200}, headers=admin).json()["items"]
    visit_id = next(v["id"] for v in waiting if v["nik_masked"].endswith(str(serial)))
    hour = 16 + serial % 10  # one window per visit: a kit is on one visit at a time
    for path, body in (
        ("status", {"status": "triaged"}),
        ("schedule", {"device_id": kit, "operator_id": petugas, "date": today().isoformat(), "window": {"start": f"{hour}:00", "end": f"{hour}:30"}}),
    ):
        answer = httpx.post(f"{server.base}/api/v1/home-visits/{visit_id}/{path}", json=body, headers=admin)
        assert answer.status_code == 200, answer.text
    return visit_id


def history(server: Server, visit_id: int) -> list[tuple[str, str | None]]:
    entries = server.get(f"/home-visits/{visit_id}", headers=auth(server, "e2e.admin")).json()["history"]
    return [(e["to_status"], e["note"]) for e in entries]


def crew_offline(page, context, server: Server) -> None:
    """The crew signs in with signal, opens today's visits (kept by the worker), then loses the signal and reloads."""
    sign_in_as(page, CREW, start="/#/staff/visits", password=server.password(CREW))
    page.locator("[data-kit]").first.wait_for()
    controlled(page)
    page.reload()  # now through the worker: the day plan and who is signed in are kept
    page.locator("[data-kit]").first.wait_for()
    context.set_offline(True)
    page.reload()
    page.locator("[data-kit]").first.wait_for()
    assert "Data per" in page.inner_text("[data-offline=cached]")


def test_the_app_reloads_offline_and_shows_the_last_figures(page, context, server) -> None:
    city = server.progress(CITY)
    page.goto("/#/progress")
    page.wait_for_selector("[data-figure=recorded]")
    assert page.locator("link[rel=manifest]").get_attribute("href") == "manifest.webmanifest"
    controlled(page)
    page.reload()
    page.wait_for_selector("[data-figure=recorded]")
    assert page.locator("[data-offline]").count() == 0

    context.set_offline(True)
    page.reload()
    page.wait_for_selector("[data-figure=recorded]")
    assert page.text_content("[data-figure=recorded]") == id_number(city["recorded"])
    assert page.text_content("[data-figure=target]") == "760.097"
    banner = page.inner_text("[data-offline=cached]")
    assert "Anda sedang offline" in banner and "Data per" in banner
    # A view never opened has no saved answer: its own message and a retry, not the browser's error page.
    page.goto("/#/where")
    alert = page.locator("main [role=alert]")
    alert.wait_for()
    assert "Server tidak dapat dihubungi" in alert.inner_text()
    assert page.locator("[data-offline]").count() == 1
    context.set_offline(False)


def test_views_opened_from_the_kept_files_share_one_copy_of_each_module(page, context, server) -> None:
    """The page asks for its files by version (v/<version>/js/...); the service worker answers from
    files kept under their plain names. A module's imports must still resolve under the version:
    otherwise a second copy of i18n.js (without its texts) draws keys instead of Indonesian."""
    page.goto("/#/progress")
    page.wait_for_selector("[data-figure=recorded]")
    controlled(page)
    plain: list[str] = []
    page.on("request", lambda request: plain.append(request.url) if "/js/" in request.url and "/v/" not in request.url else None)
    page.goto("/#/board")  # a view not loaded yet: its module comes from the service worker
    page.wait_for_selector("main h1")
    assert page.inner_text("main h1") == "Papan antrean"
    assert plain == []


def test_a_crew_marks_two_visits_offline_and_both_arrive_once(page, context, server) -> None:
    first = schedule_today(server, 9201, "Budi Offline Satu")
    second = schedule_today(server, 9202, "Sari Offline Dua")
    crew_offline(page, context, server)

    one, two = page.locator(f"[data-stop='{first}']"), page.locator(f"[data-stop='{second}']")
    one.locator("textarea[name=note]").fill("Direkam di tempat tidur.")
    one.locator("button[value=visited]").click()
    one.locator("[data-outcome=queued]").wait_for()
    two.locator("textarea[name=note]").fill("Rumah kosong.")
    two.locator("button[value=unreachable]").click()
    two.locator("[data-outcome=queued]").wait_for()
    # The badge follows the outbox after its write to IndexedDB: wait for it, then read it whole.
    page.wait_for_selector("[data-shell=outbox]:has-text('2 menunggu dikirim')")
    assert page.inner_text("[data-shell=outbox]") == "2 menunggu dikirim"
    assert page.locator("[data-outbox=pending] li").count() == 2
    assert "Budi Offline Satu" in page.inner_text("[data-outbox=pending]")
    assert serious_axe_violations(page) == []
    shoot(page, "offline-crew-phone")
    # Nothing reached the server yet.
    assert history(server, first)[-1][0] == "scheduled" and history(server, second)[-1][0] == "scheduled"
    # A reload without signal keeps them waiting.
    page.reload()
    one.locator("[data-outcome=queued]").wait_for()
    assert page.locator("[data-outbox=pending] li").count() == 2

    context.set_offline(False)
    page.wait_for_selector(f"[data-stop='{first}'][data-status=visited]")
    page.wait_for_selector(f"[data-stop='{second}'][data-status=unreachable]")
    page.wait_for_selector("[data-shell=outbox]:empty", state="attached")
    assert page.locator("[data-outbox=pending]").count() == 0
    # Each arrived once, with its note, in the order they were made.
    assert [h for h in history(server, first) if h[0] == "visited"] == [("visited", "Direkam di tempat tidur.")]
    assert [h for h in history(server, second) if h[0] == "unreachable"] == [("unreachable", "Rumah kosong.")]


def test_a_mark_for_a_visit_cancelled_meanwhile_is_a_conflict(page, context, server) -> None:
    visit = schedule_today(server, 9203, "Tono Dibatalkan")
    crew_offline(page, context, server)
    card = page.locator(f"[data-stop='{visit}']")
    card.locator("button[value=visited]").click()
    card.locator("[data-outcome=queued]").wait_for()
    cancelled = httpx.post(f"{server.base}/api/v1/home-visits/{visit}/status", json={"status": "cancelled"}, headers=auth(server, "e2e.admin"))
    assert cancelled.status_code == 200, cancelled.text

    context.set_offline(False)
    page.wait_for_selector(f"[data-stop='{visit}'][data-status=cancelled]")
    assert 'sudah berstatus "Dibatalkan"' in card.locator("[data-outcome=cancelled]").inner_text()
    refused = page.locator("[data-outbox=refused] [data-refused]")
    assert refused.count() == 1
    assert "Tono Dibatalkan" in refused.inner_text() and "berstatus dibatalkan" in refused.locator("[data-field=detail]").inner_text()
    assert "1 ditolak" in page.inner_text("[data-shell=outbox]")
    assert history(server, visit)[-1][0] == "cancelled"
    # Read and dismissed: gone from the list and the header.
    refused.locator("[data-action=outbox-dismiss]").click()
    page.wait_for_selector("[data-outbox=refused]", state="detached")
    page.wait_for_selector("[data-shell=outbox]:empty", state="attached")


def test_a_sign_in_that_expired_offline_keeps_the_outbox_until_the_person_signs_in_again(page, context, server) -> None:
    visit = schedule_today(server, 9204, "Wati Sesi Habis")
    crew_offline(page, context, server)
    card = page.locator(f"[data-stop='{visit}']")
    card.locator("button[value=unreachable]").click()
    card.locator("[data-outcome=queued]").wait_for()
    # Meanwhile the sign-in ends (here: the token is revoked on the server).
    token = page.evaluate("sessionStorage.getItem('rekam.token')")
    assert httpx.post(f"{server.base}/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}).status_code in (200, 204)

    context.set_offline(False)
    page.wait_for_selector("[data-outbox-signin]")
    assert "1 menunggu dikirim" in page.inner_text("[data-shell=outbox]")
    assert history(server, visit)[-1][0] == "scheduled"
    page.click("[data-outbox-signin]")
    page.fill("#signin-username", CREW)
    page.fill("#signin-password", server.password(CREW))
    page.click("[data-form=signin] [type=submit]")
    page.wait_for_selector("[data-shell=outbox]:empty", state="attached")
    assert [h[0] for h in history(server, visit)].count("unreachable") == 1


def test_a_day_count_entered_offline_is_sent_once_when_the_signal_returns(page, context, server) -> None:
    """A weekend service's operator (here the kecamatan's supervisor) enters the day's count in a hall without signal."""
    sign_in_as(page, "e2e.supervisor", start="/#/staff/tallies")
    day = (today() - timedelta(days=1)).isoformat()
    cell = page.locator(f"input.cell[data-area='{KELURAHAN}'][data-date='{day}']")
    cell.wait_for()
    context.set_offline(True)
    cell.fill("77")
    page.locator("[data-form=grid] [type=submit]").click()
    page.wait_for_selector("[data-form=grid] [data-summary=queued]")
    # The badge follows the outbox after its write to IndexedDB: wait for it, then read it whole.
    page.wait_for_selector("[data-shell=outbox]:has-text('1 menunggu dikirim')")
    assert page.inner_text("[data-shell=outbox]") == "1 menunggu dikirim"
    assert "77" not in [str(t["count"]) for t in tallies_of(server, day)]

    context.set_offline(False)
    page.wait_for_selector("[data-shell=outbox]:empty", state="attached")
    assert [t["count"] for t in tallies_of(server, day)] == [77]
    history = server.get(f"/campaigns/{server.campaign_id}/tallies/history", params={"area": KELURAHAN, "date": day}, headers=auth(server, "e2e.admin")).json()[
        "items"
    ]
    assert len([c for c in history if c["area"] == KELURAHAN]) == 1  # sent once


def tallies_of(server: Server, day: str) -> list[dict]:
    items = server.get(
        f"/campaigns/{server.campaign_id}/tallies", params={"area": KELURAHAN, "from": day, "to": day, "limit": 500}, headers=auth(server, "e2e.admin")
    ).json()["items"]
    return [t for t in items if t["area"] == KELURAHAN and t["service_point"] is None and t["device"] is None]


def test_the_counter_shows_its_last_queue_offline(page, context, server) -> None:
    point = open_point_with_operator(
        server,
        point={"kind": "kecamatan_office", "name": "Loket Offline", "area": "36.74.01", "counters": 1},
        username="e2e.offline.counter",
        display_name="Operator Offline",
    )["id"]
    assert httpx.post(f"{server.base}/api/v1/service-points/{point}/tickets", json={"name": "Warga Antre"}).status_code == 201
    sign_in_as(page, "e2e.offline.counter", start=f"/#/staff/counter/{point}")
    page.wait_for_selector("[data-figure=waiting]:text-is('1')")
    controlled(page)
    page.reload()
    page.wait_for_selector("[data-figure=waiting]:text-is('1')")
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("[data-figure=waiting]:text-is('1')")
    assert "Loket Offline" in page.inner_text(".lede")
    assert "Data per" in page.inner_text("[data-offline=cached]")
    context.set_offline(False)


def test_sign_out_clears_personal_caches(page, context, server) -> None:
    sign_in_as(page, CREW, start="/#/staff/visits", password=server.password(CREW))
    page.locator("[data-kit]").first.wait_for()
    controlled(page)
    page.reload()
    page.locator("[data-kit]").first.wait_for()
    me = page.evaluate("JSON.parse(sessionStorage.getItem('rekam.me')).id")
    assert f"rekam-user-{me}" in page.evaluate("caches.keys()")
    kept = page.evaluate(f"caches.open('rekam-user-{me}').then(c => c.keys()).then(ks => ks.map(r => new URL(r.url).pathname))")
    assert "/api/v1/mobile-kits/mine" in kept and "/api/v1/auth/me" in kept

    page.click("[data-action=signout]")
    page.wait_for_selector(".site-footer a[href='#/staff/signin']")
    page.wait_for_function("() => caches.keys().then(ks => !ks.some(k => k.startsWith('rekam-user-')))")
    assert not any(k.startswith("rekam-user-") for k in page.evaluate("caches.keys()"))
    assert "rekam-outbox" not in page.evaluate("indexedDB.databases().then(ds => ds.map(d => d.name))")
    assert page.evaluate("[sessionStorage.getItem('rekam.token'), sessionStorage.getItem('rekam.me')]") == [None, None]
    # Offline, the crew's page now asks for a sign-in and shows nobody's visits.
    context.set_offline(True)
    page.goto("/#/staff/visits")
    page.wait_for_selector("#signin-username")
    assert page.locator("[data-stop]").count() == 0
    context.set_offline(False)


def test_a_new_release_takes_over_without_a_mixed_state(page, context, server, frontend) -> None:
    sw, main = frontend / "sw.js", frontend / "js" / "main.js"
    sw_text, main_text = sw.read_text(encoding="utf-8"), main.read_text(encoding="utf-8")
    old = next(line for line in sw_text.splitlines() if line.startswith("const RELEASE = ")).split('"')[1]
    page.goto("/#/progress")
    page.wait_for_selector("[data-figure=recorded]")
    controlled(page)
    assert [k for k in page.evaluate("caches.keys()") if k.startswith("rekam-shell-")] == [f"rekam-shell-{old}"]
    try:
        sw.write_text(sw_text.replace(f'const RELEASE = "{old}";', 'const RELEASE = "e2e-next";'), encoding="utf-8")
        main.write_text(main_text + "// release e2e-next\n", encoding="utf-8")
        page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
        page.wait_for_selector("[data-update]")
        assert "Versi baru tersedia" in page.inner_text("[data-update]")
        # Waiting: the page still gets the old release's files, never a mix.
        assert "e2e-next" not in page.evaluate("fetch('js/main.js').then(r => r.text())")
        assert page.evaluate("navigator.serviceWorker.getRegistration().then(r => Boolean(r.waiting))")

        with page.expect_navigation():
            page.click("[data-action=update]")
        page.wait_for_selector("[data-figure=recorded]")
        controlled(page)
        assert "e2e-next" in page.evaluate("fetch('js/main.js').then(r => r.text())")
        assert page.evaluate("navigator.serviceWorker.controller.scriptURL").endswith("/sw.js")
        assert [k for k in page.evaluate("caches.keys()") if k.startswith("rekam-shell-")] == ["rekam-shell-e2e-next"]
        assert page.locator("[data-update]").count() == 0
        assert page.evaluate("navigator.serviceWorker.getRegistration().then(r => !r.waiting && !r.installing)")
    finally:
        sw.write_text(sw_text, encoding="utf-8")
        main.write_text(main_text, encoding="utf-8")


def test_a_points_operator_enters_the_days_count_offline_and_it_arrives_once(page, context, server) -> None:
    point = open_point_with_operator(
        server, point={"kind": "kelurahan_office", "name": "Kantor Kelurahan Hitung Luring", "area": KELURAHAN, "counters": 1},
        username="e2e.count.operator", display_name="Petugas Hitung",
    )  # fmt: skip
    sign_in_as(page, "e2e.count.operator", start="/#/staff/counter")
    form = page.locator("[data-form=daycount]")
    form.wait_for()
    context.set_offline(True)
    form.locator("[name=count]").fill("37")
    form.locator("[type=submit]").click()
    page.wait_for_selector("[data-daycount-state]:has-text('Menunggu sinyal')")
    assert page.locator("[data-outbox=pending] li").count() == 1
    shoot(page, "offline-daycount-phone")
    admin = auth(server, "e2e.admin")

    def stored() -> list[tuple[int, str]]:
        answer = server.get(f"/campaigns/{server.campaign_id}/tallies", params={"area": KELURAHAN, "limit": 200}, headers=admin).json()["items"]
        return [(t["count"], t["source"]) for t in answer if t["service_point"] == point["id"]]

    assert stored() == []
    context.set_offline(False)
    page.wait_for_selector("[data-outbox=pending]", state="detached")
    assert stored() == [(37, "manual")]
    # Corrected with signal: the same key, replaced, not added.
    form.locator("[name=count]").fill("41")
    form.locator("[type=submit]").click()
    page.wait_for_selector("[data-daycount-state]:has-text('Tersimpan: 41')")
    assert stored() == [(41, "manual")]
