"""A mobile kit's operator in a real browser (issue 7 at the door): the demo's `kit.operator`
sees their stops of the day per kit in route order exactly as the API gives them, marks one
visited and one not reachable (the API's refusals as messages), and the resident's public
tracking page shows the visit; operator accounts without a petugas, and other roles, are not
offered the view.

Marking visits changes the demo's home visits (and the day's tally), so this module has a demo
server of its own.
"""

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from api.visits.demo import nik
from tests.e2e.conftest import DESKTOP, Server, demo_server, nav_to, serious_axe_violations, shoot
from tests.e2e.test_devices import auth, id_date
from tests.e2e.test_staff import sign_in as sign_in_as

CREW = "kit.operator"
SCRIPT_NAME = "Ani <script>window.__xss = 1</script> Lestari (e2e)"
REASONS = {"sick": "Sakit", "disabled": "Disabilitas", "elderly": "Lansia", "other": "Lainnya"}


@pytest.fixture(scope="module")
def server(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with demo_server(tmp_path_factory.mktemp("e2e-crew")) as live:
        assert CREW in live.demo_passwords, "the demo creates kit.operator once a visit is scheduled on a petugas"
        yield live


def today() -> date:
    return datetime.now(ZoneInfo("Asia/Jakarta")).date()


def sign_in(page, server: Server, username: str, *, start: str = "/#/staff/visits") -> None:
    """The demo's own accounts have the passwords the demo printed."""
    sign_in_as(page, username, start=start, password=server.password(username))


def plans_of(server: Server, day: date) -> list[dict]:
    """The crew's day as the API gives it: each of their kits' day plans."""
    crew = auth(server, CREW)
    kits = server.get("/mobile-kits/mine", params={"date": day.isoformat()}, headers=crew).json()["items"]
    return [server.get(f"/mobile-kits/{k['device_id']}/day-plan", params={"date": day.isoformat()}, headers=crew).json() for k in kits]


def schedule_a_resident_named_with_markup(server: Server) -> tuple[int, str]:
    """A public request from a resident whose name has a <script>, put on the crew's kit today."""
    crew, admin = auth(server, CREW), auth(server, "e2e.admin")
    petugas = server.get("/auth/me", headers=crew).json()["operator_id"]
    kit = server.get("/mobile-kits/mine", headers=crew).json()["items"][0]["device_id"]
    request = {
        "name": SCRIPT_NAME,
        "nik": nik("367401", date(1958, 6, 9), woman=True, serial=9101),
        "phone": "0812 0000 0199",
        "address": "Jl. <b>Ciater</b> Tengah No. 7, RT 001/RW 002",
        "area": "36.74.01.1001",
        "reason": "disabled",
        "note": "Uses a wheelchair; <i>ring twice</i>.",
        "consent": True,
    }
    created = httpx.post(f"{server.base}/api/v1/home-visits", json=request)
    assert created.status_code == 201, created.text
    waiting = server.get("/home-visits", params={"area": "36.74.01.1001", "status": "submitted", "limit": 200}, headers=admin).json()["items"]
    visit_id = next(v["id"] for v in waiting if v["nik_masked"].endswith("9101"))
    moves = [
        ("status", {"status": "triaged"}),
        ("schedule", {"device_id": kit, "operator_id": petugas, "date": today().isoformat(), "window": {"start": "13:00", "end": "14:00"}}),
    ]
    for path, body in moves:
        answer = httpx.post(f"{server.base}/api/v1/home-visits/{visit_id}/{path}", json=body, headers=admin)
        assert answer.status_code == 200, answer.text
    return visit_id, created.json()["tracking_code"]


def assert_stops_as_the_api_gives_them(page, plans: list[dict]) -> None:
    assert page.locator("[data-kit]").evaluate_all("ks => ks.map(k => Number(k.dataset.kit))") == [p["device_id"] for p in plans]
    for plan in plans:
        kit = page.locator(f"[data-kit='{plan['device_id']}']")
        assert plan["serial"] in kit.locator("h3").inner_text()
        shown = kit.locator("[data-stop]").evaluate_all("cs => cs.map(c => Number(c.dataset.stop))")
        assert shown == [s["id"] for s in sorted(plan["stops"], key=lambda s: s["order"])]
        for stop in plan["stops"]:
            card = kit.locator(f"[data-stop='{stop['id']}']")
            text = {f: card.locator(f"[data-field={f}]") for f in ("name", "window", "address", "phone", "reason", "status")}
            assert text["name"].inner_text() == stop["name"]
            # Indonesian clock times: 09.00–10.00 (fmt.timeRange).
            assert text["window"].inner_text() == f"{stop['window_start']}–{stop['window_end']}".replace(":", ".")
            assert text["address"].inner_text() == stop["address"]
            assert text["phone"].inner_text() == stop["phone"] and text["phone"].get_attribute("href") == f"tel:{stop['phone']}"
            assert text["reason"].inner_text() == REASONS[stop["reason"]]
            assert card.get_attribute("data-status") == stop["status"]
            if stop["note"]:
                assert card.locator("[data-field=note]").inner_text() == stop["note"]
            else:
                assert card.locator("[data-field=note]").count() == 0


def test_kit_operator_marks_todays_stops_and_the_resident_sees_the_visit(page, server) -> None:
    visit_id, code = schedule_a_resident_named_with_markup(server)
    plans = plans_of(server, today())
    stops = {s["id"]: s for p in plans for s in p["stops"]}
    assert visit_id in stops and len(stops) >= 2  # the demo's stop of today, and the one above

    sign_in(page, server, CREW)
    page.wait_for_selector("h1:text-is('Kunjungan rumah saya')")
    page.locator("[data-kit]").first.wait_for()
    assert page.inner_text("[data-slot=day] h2") == f"{id_date(today().isoformat())} · hari ini"
    assert_stops_as_the_api_gives_them(page, plans)
    # The name with a <script> is text, and no script element came with it.
    card = page.locator(f"[data-stop='{visit_id}']")
    assert card.locator("h4").inner_text() == SCRIPT_NAME
    assert page.locator("main script, main b, main i").count() == 0
    assert page.evaluate("window.__xss") is None
    assert serious_axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing sideways on a phone
    shoot(page, "staff-crew-phone")

    # Tomorrow's stop cannot be marked visited yet: the API's 409 as a sentence with the date.
    page.click("[data-step='1']")
    tomorrow = today() + timedelta(days=1)
    page.wait_for_selector(f"[data-slot=day] h2[data-day='{tomorrow.isoformat()}']")
    later = plans_of(server, tomorrow)
    assert later, "the demo schedules a visit on the crew's kit tomorrow"
    assert_stops_as_the_api_gives_them(page, later)
    assert page.evaluate("location.hash") == f"#/staff/visits?date={tomorrow.isoformat()}"
    first = page.locator("[data-stop]").first
    first_id = int(first.get_attribute("data-stop"))
    assert id_date(tomorrow.isoformat()) in first.locator("[data-hint=future]").inner_text()
    first.locator("button[value=visited]").click()
    alert = first.locator("[data-form-status] [role=alert]")
    alert.wait_for()
    assert f"Belum bisa: kunjungan ini dijadwalkan {id_date(tomorrow.isoformat())}" in alert.inner_text()
    assert first.get_attribute("data-status") == "scheduled"
    # The dispatcher cancels it meanwhile: the card says so instead of offering the buttons again.
    cancelled = httpx.post(f"{server.base}/api/v1/home-visits/{first_id}/status", json={"status": "cancelled"}, headers=auth(server, "e2e.admin"))
    assert cancelled.status_code == 200, cancelled.text
    first.locator("button[value=unreachable]").click()
    page.wait_for_selector(f"[data-stop='{first_id}'][data-status=cancelled]")
    assert 'sudah berstatus "Dibatalkan"' in first.locator("[data-outcome=cancelled]").inner_text()
    assert first.locator("button").count() == 0
    page.click("[data-action=today]")
    card.wait_for()

    # Keyboard only: the note, then Tab to "Visited" and Enter.
    card.locator("textarea[name=note]").fill("Direkam di tempat tidur <b>ok</b>")
    card.locator("textarea[name=note]").press("Tab")
    assert page.evaluate("document.activeElement.value") == "visited"
    page.keyboard.press("Enter")
    page.wait_for_selector(f"[data-stop='{visit_id}'][data-status=visited]")
    assert card.locator("[data-field=status]").inner_text() == "Sudah dikunjungi"
    outcome = card.locator("[data-outcome=visited]")
    assert outcome.evaluate("el => el === document.activeElement")
    assert "Direkam di tempat tidur <b>ok</b>" in outcome.inner_text()
    assert card.locator("button").count() == 0
    assert server.get(f"/home-visits/track/{code}").json()["status"] == "visited"

    # The demo's stop today: nobody home, marked not reachable with a note.
    other = next(i for i, s in stops.items() if i != visit_id and s["status"] == "scheduled")
    other_card = page.locator(f"[data-stop='{other}']")
    other_card.locator("textarea[name=note]").fill("Rumah kosong, kata tetangga dirawat.")
    other_card.locator("button[value=unreachable]").click()
    page.wait_for_selector(f"[data-stop='{other}'][data-status=unreachable]")
    history = server.get(f"/home-visits/{other}", headers=auth(server, "e2e.admin")).json()["history"]
    assert (history[-1]["to_status"], history[-1]["note"]) == ("unreachable", "Rumah kosong, kata tetangga dirawat.")
    for plan in plans_of(server, today()):
        still_open = sum(s["status"] == "scheduled" for s in plan["stops"])
        summary = page.locator(f"[data-kit='{plan['device_id']}'] [data-kit-summary]").inner_text()
        assert summary == f"Kunjungan: {len(plan['stops'])} · belum selesai: {still_open}"
    assert serious_axe_violations(page) == []
    page.set_viewport_size(DESKTOP)
    shoot(page, "staff-crew-desktop")

    # The resident's tracking page shows the visit.
    page.goto(f"/#/visit/track/{code}")
    status = page.locator(".status-card[data-status=visited]")
    status.wait_for()
    assert "Sudah dikunjungi" in status.inner_text()


def test_only_operators_linked_to_a_petugas_are_offered_the_view(page, server) -> None:
    sign_in(page, server, CREW, start="/#/staff")
    page.wait_for_selector(".site-nav a[href='#/staff/visits']", state="attached")
    # A crew's phone: the header is one row (menu, sign-out, language), its tools under "daily work".
    assert page.locator(".site-header .header-bar").bounding_box()["height"] < 70
    assert page.locator("[data-group=daily] a[href='#/staff/visits']").count() == 1
    page.wait_for_selector(".cards a[href='#/staff/visits']")  # the home's cards come after the header's links
    assert page.locator(".cards a[href='#/staff/visits']").count() == 1
    # A kit's crew has no counter to run, so the counter console is not offered.
    assert page.locator("a[href='#/staff/counter']").count() == 0
    # In English too, with the date through Intl (en-GB).
    page.click("[data-action=language]")
    nav_to(page, "#/staff/visits")
    page.wait_for_selector("h1:text-is('My home visits')")
    day = today()
    assert page.inner_text("[data-slot=day] h2") == f"{day.strftime('%A')}, {day.day} {day.strftime('%B %Y')} · today"
    assert page.locator("[data-kit] h3").first.inner_text().startswith("Mobile kit ")
    page.click("[data-action=language]")
    page.click("[data-action=signout]")
    page.wait_for_selector(".site-footer a[href='#/staff/signin']")

    # The counter's operator account is nobody's petugas: no such menu entry, and a plain note if opened.
    sign_in(page, server, "serpong.operator", start="/#/staff")
    page.wait_for_selector("h1:has-text('Halo')")
    assert page.locator("a[href='#/staff/visits']").count() == 0
    assert page.locator(".cards a[href='#/staff/counter']").count() == 1
    page.goto("/#/staff/visits")
    page.wait_for_selector("h1:text-is('Kunjungan rumah saya')")
    assert "belum terhubung dengan data petugas" in page.inner_text("main .notice")
    page.click("[data-action=signout]")
    page.wait_for_selector(".site-footer a[href='#/staff/signin']")

    # Other roles are not offered it either.
    sign_in(page, server, "e2e.supervisor", start="/#/staff")
    page.wait_for_selector("h1:text-is('Halo, e2e.supervisor')")
    assert page.locator("a[href='#/staff/visits']").count() == 0
    page.goto("/#/staff/visits")
    page.wait_for_selector("h1:text-is('Tidak tersedia untuk peran Anda')")
