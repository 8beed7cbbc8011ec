"""The public views in a real browser against the real API: home visit, queue board (live), where
and when, report a fee. Each view is also screenshotted at phone and desktop size and checked by axe."""

from datetime import date, timedelta

import httpx
import pytest

from tests.e2e.conftest import DESKTOP, PHONE, nav_to, serious_axe_violations, shoot


def adult_nik(kecamatan: str = "367401", *, born: date = date(1990, 7, 15), woman: bool = True, serial: int = 917) -> str:
    """A NIK as the civil registry writes it: kecamatan, DDMMYY (women's day + 40), serial."""
    day = born.day + (40 if woman else 0)
    return f"{kecamatan}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


def admin_headers(server) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token('e2e.admin')}"}


def check_view(page, name: str) -> None:
    """Screenshots at phone and desktop size, no sideways scrolling on the phone, no serious axe findings."""
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} scrolls sideways at 360 px"
    shoot(page, f"{name}-phone")
    page.set_viewport_size(DESKTOP)
    shoot(page, f"{name}-desktop")
    assert serious_axe_violations(page) == []
    page.set_viewport_size(PHONE)


def choose_area(page, prefix: str, *codes: str) -> None:
    levels = ["kecamatan", "kelurahan", "rw", "rt"]
    for level, code in zip(levels, codes, strict=False):
        select = page.locator(f"#{prefix}-{level}")
        select.locator(f"option[value='{code}']").wait_for(state="attached")
        select.select_option(code)


# --- home visit ------------------------------------------------------------------------------


def test_home_visit_request_is_submitted_and_tracked(page, server) -> None:
    nik = adult_nik()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/#/visit")
    page.wait_for_selector("h1:text-is('Minta kunjungan ke rumah')")
    form = page.locator("[data-form=visit]")
    # Nothing filled: each required field says so, next to it.
    form.locator("[type=submit]").click()
    assert page.inner_text("[data-error-for=name]") == "Wajib diisi."
    assert page.get_attribute("#visit-nik", "aria-invalid") == "true"
    page.fill("#visit-name", "Sri Wahyuni <b>e2e</b>")
    page.fill("#visit-nik", nik)
    page.fill("#visit-phone", "0812-3456-7890")
    choose_area(page, "visit-area", "36.74.01", "36.74.01.1001", "36.74.01.1001.003")
    page.fill("#visit-address", "Jl. Kenari No. 5, dekat musala")
    page.check("input[name=reason][value=elderly]")
    page.fill("#visit-date-1", (date.today() + timedelta(days=2)).isoformat())
    check_view(page, "visit-form")
    page.check("input[name=consent]")
    form.locator("[type=submit]").click()
    page.wait_for_selector("h1:text-is('Permintaan terkirim')")
    code = page.inner_text("[data-code]")
    assert code.startswith("HV-") and len(code) == 12
    page.click("[data-action=copy-code]")
    page.wait_for_selector("[data-copied]:has-text('disalin')")
    assert page.evaluate("navigator.clipboard.readText()") == code
    check_view(page, "visit-receipt")
    # What the API stored is what was typed (the NIK never shows on the public pages).
    stored = httpx.get(f"{server.base}/api/v1/home-visits", params={"area": "36.74.01.1001.003"}, headers=admin_headers(server)).json()["items"]
    assert any(v["nik_masked"].endswith(nik[-4:]) and v["reason"] == "elderly" for v in stored)
    page.click("[data-link=track]")
    page.wait_for_url(f"**/#/visit/track/{code}")
    page.wait_for_selector("[data-status=submitted]")
    assert page.inner_text("[data-tracking-code]") == code
    assert "Diterima" in page.inner_text(".status-label")
    assert nik not in page.content() and "Sri Wahyuni" not in page.content()
    check_view(page, "visit-track")
    # A typed code is forgiving about case and dashes; a wrong one is a message, not a blank page.
    page.fill("#visit-track-code", code.lower().replace("-", ""))
    page.click("[data-form=visit-track] [type=submit]")
    page.wait_for_selector(f"[data-tracking-code]:text-is('{code}')")
    page.goto("/#/visit/track/HV-AAAA-BBBB")
    page.wait_for_selector("[role=alert]:has-text('tidak ditemukan')")
    # The same NIK again while the first is open: answered like any new request (a 409 would tell
    # anyone that this resident has an open, health-related request; docs/security.md item 11).
    page.goto("/#/visit")
    page.fill("#visit-name", "Sri Wahyuni")
    page.fill("#visit-nik", nik)
    page.fill("#visit-phone", "081234567890")
    choose_area(page, "visit-area", "36.74.01", "36.74.01.1002")
    page.fill("#visit-address", "Jl. Kenari No. 5")
    page.check("input[name=consent]")
    page.click("[data-form=visit] [type=submit]")
    page.wait_for_selector("h1:text-is('Permintaan terkirim')")
    second = page.inner_text("[data-code]")
    assert second.startswith("HV-") and second != code


@pytest.mark.parametrize(
    ("nik", "message"),
    [
        ("36740155079", "NIK harus tepat 16 angka."),
        (adult_nik("367499"), "Enam angka pertama NIK bukan kode kecamatan"),
        (adult_nik("360301"), "kota lain"),
        ("3674017002900001", "bukan tanggal lahir yang benar"),  # 30 February
        (adult_nik(born=date.today() - timedelta(days=365 * 10)), "17 tahun atau lebih"),
    ],
)
def test_each_nik_problem_is_its_own_message_next_to_the_field(page, server, nik: str, message: str) -> None:
    page.goto("/#/visit")
    page.fill("#visit-name", "Budi e2e")
    page.fill("#visit-nik", nik)
    page.fill("#visit-phone", "08123")  # too short: its own message too
    choose_area(page, "visit-area", "36.74.01", "36.74.01.1001")
    page.fill("#visit-address", "Jl. Kenari No. 7")
    page.click("[data-form=visit] [type=submit]")
    error = page.locator("[data-error-for=nik]")
    error.wait_for()
    assert message in error.inner_text()
    assert page.get_attribute("#visit-nik", "aria-invalid") == "true"
    assert "nomor HP Indonesia" in page.inner_text("[data-error-for=phone]")
    assert "persetujuan" in page.inner_text("[data-error-for=consent]")
    if nik == "36740155079":
        shoot(page, "visit-errors-phone")


def test_home_visit_speaks_english_too(page, server) -> None:
    page.goto("/#/visit")
    page.click("[data-action=language]")
    page.wait_for_selector("h1:text-is('Ask for a home visit')")
    page.fill("#visit-nik", "12")
    page.click("[data-form=visit] [type=submit]")
    page.fill("#visit-name", "Budi")
    page.fill("#visit-phone", "081234567890")
    page.fill("#visit-address", "Jl. Kenari No. 7")
    choose_area(page, "visit-area", "36.74.01", "36.74.01.1001")
    page.check("input[name=consent]")
    page.click("[data-form=visit] [type=submit]")
    page.wait_for_selector("[data-error-for=nik]:text-is('The NIK must be exactly 16 digits.')")
    page.click("[data-action=language]")


# --- queue board -------------------------------------------------------------------------------
# Numbers taken here with httpx are issued as a kiosk would (signed in, so not capped per phone);
# the browser's are a resident's phone (tests/e2e/conftest.py gives each test its own address).


@pytest.fixture(scope="module")
def open_point(server) -> dict:
    """A point open around the clock, so that the test does not depend on the hour it runs."""
    always = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    body = {"kind": "kelurahan_office", "name": "Kantor Kelurahan Ciater <i>e2e</i>", "area": "36.74.01.1001", "counters": 2, "opening_hours": always}
    response = httpx.post(f"{server.base}/api/v1/service-points", json=body, headers=admin_headers(server))
    response.raise_for_status()
    return response.json()


def test_the_board_updates_live_when_a_number_is_taken_and_called(page, server, open_point) -> None:
    point = open_point["id"]
    page.goto(f"/#/board/{point}")
    page.wait_for_selector("[data-connection=live]")
    assert page.inner_text("h1") == "Kantor Kelurahan Ciater <i>e2e</i>"
    assert page.locator(".site-header").is_hidden()  # the TV shows the board only
    waiting_before = int(page.inner_text("[data-board=waiting]"))
    page.evaluate("window.__sameDocument = true")
    ticket = httpx.post(f"{server.base}/api/v1/service-points/{point}/tickets", json={}, headers=admin_headers(server))
    ticket.raise_for_status()
    number = ticket.json()["number"]
    page.wait_for_selector(f"[data-board=waiting]:text-is('{waiting_before + 1}')")
    called = httpx.post(f"{server.base}/api/v1/service-points/{point}/call-next", json={"counter": 2}, headers=admin_headers(server))
    assert called.status_code == 200, called.text
    page.wait_for_selector(f"[data-counter='2'] [data-number]:text-is('{number}')")
    assert page.inner_text("[data-board=waiting]") == str(waiting_before)
    banner = page.locator("[data-call-number]")
    assert banner.get_attribute("data-call-number") == str(number)
    assert f"Nomor {number}" in banner.inner_text() and "loket 2" in banner.inner_text()
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    # On a phone the counters go two a row (scrollbar or not), so the waiting count is on the first screen.
    assert page.evaluate("getComputedStyle(document.querySelector('.counters')).gridTemplateColumns.split(' ').length") == 2
    check_view(page, "board")
    # Leaving the board gives the site its header back.
    page.goto("/#/where")
    page.wait_for_selector("h1:text-is('Tempat dan jadwal perekaman')")
    assert page.locator(".site-header").is_visible()


def test_the_board_shows_reconnecting_and_recovers_by_itself(page, server, open_point) -> None:
    point = open_point["id"]
    events = f"**/api/v1/service-points/{point}/queue/events"
    page.route(events, lambda route: route.abort("connectionreset"))
    page.goto(f"/#/board/{point}")
    page.wait_for_selector("[data-connection=reconnecting]")
    assert "menyambung kembali" in page.inner_text("[data-connection]")
    shoot(page, "board-reconnecting-phone")
    page.unroute(events)
    page.wait_for_selector("[data-connection=live]", timeout=15_000)
    # And the live stream works after the recovery.
    waiting = int(page.inner_text("[data-board=waiting]"))
    httpx.post(f"{server.base}/api/v1/service-points/{point}/tickets", json={"priority": "elderly"}, headers=admin_headers(server)).raise_for_status()
    page.wait_for_selector(f"[data-board=waiting]:text-is('{waiting + 1}')")


def test_a_resident_takes_a_number_from_the_page(page, server, open_point) -> None:
    page.goto(f"/#/ticket/{open_point['id']}")
    page.click("[data-form=ticket] [type=submit]")
    page.wait_for_selector("[data-ticket-number]")
    assert int(page.inner_text("[data-ticket-number]")) >= 1
    check_view(page, "ticket")


def test_a_board_that_does_not_exist_is_a_message(page, server) -> None:
    page.goto("/#/board/999999")
    page.wait_for_selector("[role=alert]:has-text('tidak ditemukan')")
    assert page.locator(".site-header").is_visible()


# --- where and when --------------------------------------------------------------------------


def test_where_and_when_lists_open_points_and_filters_by_area(page, server, open_point) -> None:
    page.goto("/#/where")
    page.wait_for_selector("h1:text-is('Tempat dan jadwal perekaman')")
    days = page.locator("[data-day]")
    assert days.count() == 15
    first = days.first.get_attribute("data-day")
    today = server.get("/schedule", params={"from": first, "to": first}).json()["items"][0]
    shown = days.first.locator("[data-point]").evaluate_all("els => els.map(e => Number(e.dataset.point))")
    assert sorted(shown) == sorted(p["id"] for p in today["points"])
    open_now = days.first.locator("[data-point]").evaluate_all("els => els.map(e => !!e.querySelector('.badge-ok'))")
    assert open_now == sorted(open_now, reverse=True) and open_now[shown.index(open_point["id"])]  # open now first
    # Today's cards have the queue and the board link; the test's point is open now: a ticket link too.
    card = page.locator(f"[data-day] >> nth=0 >> [data-point='{open_point['id']}']")
    assert "00.00–24.00" in card.inner_text()  # Indonesian clock times (fmt.timeRange)
    assert card.locator(f"a[href='#/board/{open_point['id']}']").count() == 1
    assert card.locator(f"a[href='#/ticket/{open_point['id']}']").count() == 1
    assert "menunggu" in card.locator("[data-queue]").inner_text()
    check_view(page, "where")
    # Filter: Pamulang only; the address keeps the choice.
    page.focus("#where-area-kecamatan")
    page.select_option("#where-area-kecamatan", "36.74.06")
    page.wait_for_url("**/#/where?area=36.74.06")
    page.wait_for_selector("[data-days]:not([aria-busy]) [data-day] >> nth=0 >> .point-name:has-text('Pamulang')")
    assert page.locator(f"[data-point='{open_point['id']}']").count() == 0
    names = page.locator("[data-day] >> nth=0 >> .point-name").all_inner_texts()
    assert names and all("Pamulang" in n for n in names if "Kantor" in n)
    assert page.evaluate("document.activeElement.id") == "where-area-kecamatan"  # focus stays on the filter
    # Back from the menu (no area in the link): the phone remembers the resident's choice.
    page.goto("/#/progress")
    page.goto("/#/where")
    page.wait_for_url("**/#/where?area=36.74.06")
    page.wait_for_selector("[data-day] >> nth=0 >> .point-name:has-text('Pamulang')")
    page.wait_for_selector("#where-area-kecamatan option[value='36.74.06']:checked", state="attached")
    # Kelurahan: its own points plus its kecamatan's office.
    page.goto("/#/where?area=36.74.01.1001")
    page.wait_for_selector(f"[data-day] >> nth=0 >> [data-point='{open_point['id']}']")
    page.wait_for_selector("#where-area-kelurahan option[value='36.74.01.1001']:checked", state="attached")
    assert page.input_value("#where-area-kecamatan") == "36.74.01"
    texts = page.locator("[data-day] >> nth=0 >> .point-name").all_inner_texts()
    assert "Kantor Kecamatan Serpong" in texts and not any("Pamulang" in n for n in texts)
    # A shared link's area is not kept: the menu's link still shows Pamulang. All kecamatan is a choice too.
    page.goto("/#/where")
    page.wait_for_url("**/#/where?area=36.74.06")
    page.wait_for_selector("#where-area-kecamatan option[value='36.74.06']:checked", state="attached")
    page.select_option("#where-area-kecamatan", "")
    page.wait_for_url("**/#/where")
    page.goto("/#/progress")
    page.goto("/#/where")
    page.wait_for_selector(f"[data-days]:not([aria-busy]) [data-day] >> nth=0 >> [data-point='{open_point['id']}']")
    assert page.input_value("#where-area-kecamatan") == ""
    page.click(f"[data-day] >> nth=0 >> a[href='#/board/{open_point['id']}']")
    page.wait_for_selector("[data-connection=live]")


# --- report a fee ----------------------------------------------------------------------------


def test_a_fee_is_reported_confidentially_and_followed_with_the_receipt(page, server) -> None:
    page.goto("/#/report")
    page.wait_for_selector("h1:text-is('Laporkan pungutan liar')")
    assert "rahasia" in page.inner_text("[data-confidential]") and "boleh dikosongkan" in page.inner_text("[data-confidential]")
    page.click("[data-form=report] [type=submit]")
    assert page.inner_text("[data-error-for=amount]") == "Wajib diisi."
    assert "kecamatan" in page.inner_text("[data-error-for=area]")
    # A date in the future: the API's rule, in Indonesian, next to the date.
    page.select_option("#report-point", "1")
    page.fill("#report-date", (date.today() + timedelta(days=3)).isoformat())
    page.fill("#report-amount", "Rp 50.000")
    page.fill("#report-who", "Petugas berkemeja batik di loket 2")
    page.fill("#report-description", "Diminta uang agar cepat dilayani.")
    check_view(page, "report-form")
    page.click("[data-form=report] [type=submit]")
    page.wait_for_selector("[data-error-for=occurred_on]:text-is('Tanggal kejadian tidak boleh di masa depan.')")
    page.fill("#report-date", date.today().isoformat())
    page.click("[data-form=report] [type=submit]")
    page.wait_for_selector("h1:text-is('Laporan terkirim')")
    receipt = page.inner_text("[data-code]")
    assert receipt.startswith("PGL-")
    check_view(page, "report-receipt")
    # The city replies (handler side), then the reporter follows up with the receipt.
    admin = admin_headers(server)
    complaints = httpx.get(f"{server.base}/api/v1/complaints", params={"limit": 100}, headers=admin).json()["items"]
    mine = next(c for c in complaints if c["description"] == "Diminta uang agar cepat dilayani.")
    assert mine["amount"] == 50_000 and mine["service_point_id"] == 1 and not mine["reporter_contactable"]
    reply = httpx.post(f"{server.base}/api/v1/complaints/{mine['id']}/replies", json={"text": "Terima kasih, <b>kami</b> periksa."}, headers=admin)
    assert reply.status_code == 201, reply.text
    page.click("[data-link=track]")
    page.wait_for_url("**/#/report/track")
    assert receipt not in page.url
    page.wait_for_selector("[data-status=received]")
    city = page.locator("[data-conversation] [data-author=city]")
    assert city.locator(".message-text").inner_text() == "Terima kasih, <b>kami</b> periksa."
    page.fill("#report-message-text", "Kejadiannya sekitar pukul 10 pagi.")
    page.click("[data-form=report-message] [type=submit]")
    page.wait_for_selector("[data-author=reporter] .message-text:text-is('Kejadiannya sekitar pukul 10 pagi.')")
    assert "Keterangan terkirim" in page.inner_text("[data-tracking]")
    check_view(page, "report-track")
    # A fresh page: the receipt is typed; a wrong one is a message next to the field.
    page.goto("/")
    page.reload()
    page.goto("/#/report/track")
    page.fill("#report-track-receipt", "PGL-0000-0000-0000-0000")
    page.click("[data-form=report-track] [type=submit]")
    page.wait_for_selector("[data-error-for=receipt]:has-text('Periksa kembali')")
    page.fill("#report-track-receipt", receipt.lower())
    page.click("[data-form=report-track] [type=submit]")
    page.wait_for_selector("[data-author=reporter]")


def test_a_fee_at_another_place_needs_the_area_and_the_place(page, server) -> None:
    page.goto("/#/report")
    page.wait_for_selector("[data-form=report]")
    assert page.locator("#report-place").is_visible()
    choose_area(page, "report-area", "36.74.03", "36.74.03.1001")
    page.fill("#report-place", "Balai warga RW 002")
    page.fill("#report-amount", "20000")
    page.fill("#report-description", "Pungutan di layanan akhir pekan.")
    page.click("[data-form=report] [type=submit]")
    page.wait_for_selector("h1:text-is('Laporan terkirim')")


def test_every_public_view_is_in_the_menu(page, server) -> None:
    page.goto("/")
    page.wait_for_selector("[data-figure=recorded]")
    links = page.locator(".site-nav a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert links[:5] == ["#/progress", "#/where", "#/board", "#/visit", "#/report"]
    nav_to(page, "#/board")
    page.wait_for_selector("[data-boards]")
    check_view(page, "board-index")
    page.click("[data-boards] a >> nth=0")
    page.wait_for_selector("[data-connection=live]")


def _last_weekend_day_within(days: int) -> date:
    """The last Saturday or Sunday from today (Jakarta) to `days` days ahead: past the old 7-day window."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo("Asia/Jakarta")).date()
    return next(d for d in (today + timedelta(days=n) for n in range(days, -1, -1)) if d.weekday() >= 5)


def test_where_lists_two_weeks_folded_with_places_what_to_bring_and_map_links(page, server, open_point) -> None:
    event_day = _last_weekend_day_within(14)
    body = {
        "kind": "weekend_event",
        "name": "Layanan RW 005 Pondok Betung e2e",
        "area": "36.74.03.1001.005",
        "counters": 1,
        "event_date": event_day.isoformat(),
        "event_start": "08:00",
        "event_end": "12:00",
        "address": "Balai warga RW 005, Jl. Mawar 3",
        "latitude": -6.3012,
        "longitude": 106.6543,
    }
    created = httpx.post(f"{server.base}/api/v1/service-points", json=body, headers=admin_headers(server))
    assert created.status_code == 201, created.text
    event = created.json()["id"]
    page.goto("/#/where")
    page.wait_for_selector("h1:text-is('Tempat dan jadwal perekaman')")
    assert page.locator("[data-day]").count() == 15  # today and the next 14 days
    # What to bring is said once; the coming days are folded, each naming its RT/RW services.
    assert page.inner_text("[data-bring]") == "Yang dibawa: Bawa Kartu Keluarga (KK) asli atau fotokopi"
    assert page.locator("details[data-day][open]").count() == 0
    day = page.locator(f"details[data-day='{event_day.isoformat()}']")
    assert "Layanan RW 005 Pondok Betung e2e" in day.locator("[data-day-events]").inner_text()
    assert "tempat buka" in day.locator("[data-day-count]").inner_text()
    entry = day.locator(f"[data-point='{event}']")
    assert not entry.is_visible()
    day.locator("summary").click()
    entry.wait_for()
    assert day.locator("[data-point]").first.get_attribute("data-point") == str(event)  # its RT/RW services first
    assert "08.00–12.00" in entry.inner_text()
    assert "Jl. Mawar 3" in entry.locator("[data-address]").inner_text()
    place = entry.locator("[data-place]").inner_text()
    assert "Kec. Pondok Aren" in place and "Kel. Pondok Betung" in place and "RW 005" in place, place
    osm = entry.locator("a[data-map=osm]").get_attribute("href")
    assert osm == "https://www.openstreetmap.org/?mlat=-6.3012&mlon=106.6543#map=18/-6.3012/106.6543"
    assert entry.locator("a[data-map=geo]").get_attribute("href") == "geo:-6.3012,106.6543"
    # Today: the points open now come first.
    today = page.locator("[data-day] >> nth=0")
    flags = today.locator("[data-queue] .badge").evaluate_all("els => els.map(e => e.classList.contains('badge-ok'))")
    assert flags == sorted(flags, reverse=True), flags
    check_view(page, "where-two-weeks")


HARI = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
BULAN = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"]


def test_a_closed_office_offers_no_number_and_says_when_it_opens_again(page, server) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tomorrow = datetime.now(ZoneInfo("Asia/Jakarta")).date() + timedelta(days=1)
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[tomorrow.weekday()]
    body = {
        "kind": "kelurahan_office",
        "name": "Kantor Kelurahan Tutup e2e",
        "area": "36.74.01.1001",
        "counters": 2,
        "opening_hours": {weekday: [["08:00", "12:00"]]},
    }
    created = httpx.post(f"{server.base}/api/v1/service-points", json=body, headers=admin_headers(server))
    assert created.status_code == 201, created.text
    point = created.json()["id"]
    opens = f"Buka lagi {HARI[tomorrow.weekday()]}, {tomorrow.day} {BULAN[tomorrow.month - 1]} {tomorrow.year} pukul 08.00"
    page.goto(f"/#/ticket/{point}")
    page.wait_for_selector("[data-next-opening]")
    assert page.inner_text("[data-next-opening]") == opens
    assert page.locator("[data-form=ticket]").count() == 0 and page.locator("button:has-text('Ambil nomor')").count() == 0
    assert page.locator("dt:has-text('Perkiraan tunggu setelah buka')").count() == 1  # the wait counts from the opening
    check_view(page, "ticket-closed")
    page.goto(f"/#/board/{point}")
    page.wait_for_selector("[data-connection=live]")
    assert page.inner_text("[data-board=open] [data-next-opening]") == opens
    assert page.locator("[data-take-ticket], a[href^='#/ticket/']").count() == 0
    assert page.locator("[data-counter]").count() == 0 and page.locator("[data-counters-empty]").is_visible()
    assert page.inner_text("[data-board=wait]") == "0 menit"  # nobody waits
    assert page.inner_text(".board-figure:has([data-board=wait]) .board-figure-label") == "Perkiraan tunggu setelah buka"


def test_a_number_survives_a_reload_and_a_return_to_the_app(page, server, open_point) -> None:
    import re

    point = open_point["id"]
    page.goto(f"/#/ticket/{point}")
    page.click("[data-form=ticket] [type=submit]")
    page.wait_for_url(re.compile(rf"#/ticket/{point}/\d+/[A-Za-z0-9_-]{{16,}}$"))
    page.wait_for_selector("[data-ticket-number]")
    number = page.inner_text("[data-ticket-number]")
    position = page.inner_text("[data-ticket-position]")
    assert position.startswith("Urutan ke-") and "menit" in position
    address = page.url
    page.reload()
    page.wait_for_selector("[data-ticket-number]")
    assert page.url == address
    assert page.inner_text("[data-ticket-number]") == number and page.inner_text("[data-ticket-position]").startswith("Urutan ke-")
    check_view(page, "ticket-mine")
    # Returning to the app: the where page links to the number, and the point's page shows it, not a new one.
    page.goto("/#/where")
    link = page.locator(f"[data-my-tickets] a:has-text('Nomor {number}')")
    link.wait_for()
    page.goto(f"/#/ticket/{point}")
    page.wait_for_url(address)
    page.wait_for_selector(f"[data-ticket-number]:text-is('{number}')")
    assert page.locator("[data-form=ticket]").count() == 0
    # A wrong code reads nothing.
    page.goto(address.rsplit("/", 1)[0] + "/wrongcode1234")
    page.wait_for_selector("[role=alert]")


def test_indonesian_number_words(page, server) -> None:
    page.goto("/#/where")
    page.wait_for_selector("h1")
    words = page.evaluate(
        """async () => {
          const { terbilang, callWords } = await import('/js/lib/speak.js');
          const numbers = [0, 1, 10, 11, 12, 17, 20, 21, 99, 100, 101, 111, 115, 200, 999, 1000, 1001, 1500, 2024, 11000, 100000, 1000000, 2500000];
          return { words: numbers.map(terbilang), call: callWords(17, 2, { prefix: 'A' }) };
        }"""
    )
    assert words["words"] == [
        "nol",
        "satu",
        "sepuluh",
        "sebelas",
        "dua belas",
        "tujuh belas",
        "dua puluh",
        "dua puluh satu",
        "sembilan puluh sembilan",
        "seratus",
        "seratus satu",
        "seratus sebelas",
        "seratus lima belas",
        "dua ratus",
        "sembilan ratus sembilan puluh sembilan",
        "seribu",
        "seribu satu",
        "seribu lima ratus",
        "dua ribu dua puluh empat",
        "sebelas ribu",
        "seratus ribu",
        "satu juta",
        "dua juta lima ratus ribu",
    ]
    assert words["call"] == "Nomor A tujuh belas, silakan ke loket dua"


def test_the_board_speaks_a_call_in_indonesian_once_the_sound_is_on(page, server, open_point) -> None:
    page.add_init_script(
        """window.__spoken = [];
        window.speechSynthesis.speak = (u) => window.__spoken.push({ text: u.text, lang: u.lang });"""
    )
    point = open_point["id"]
    page.goto(f"/#/board/{point}")
    page.wait_for_selector("[data-connection=live]")
    httpx.post(f"{server.base}/api/v1/service-points/{point}/tickets", json={}, headers=admin_headers(server)).raise_for_status()
    # Sound off: a call is shown, not spoken.
    first = httpx.post(f"{server.base}/api/v1/service-points/{point}/call-next", json={"counter": 1}, headers=admin_headers(server))
    assert first.status_code == 200, first.text
    page.wait_for_selector(f"[data-call-number='{first.json()['number']}']")
    page.wait_for_timeout(1200)
    assert page.evaluate("window.__spoken") == []
    page.click("[data-action=sound]")
    assert page.get_attribute("[data-action=sound]", "aria-pressed") == "true"
    httpx.post(f"{server.base}/api/v1/service-points/{point}/tickets", json={}, headers=admin_headers(server)).raise_for_status()
    called = httpx.post(f"{server.base}/api/v1/service-points/{point}/call-next", json={"counter": 2}, headers=admin_headers(server))
    assert called.status_code == 200, called.text
    number = called.json()["number"]  # the next in line (earlier tests' numbers may still wait)
    page.wait_for_selector(f"[data-call-number='{number}']")
    for _ in range(50):  # the words follow the chime (the CSP forbids wait_for_function's eval)
        if spoken := page.evaluate("window.__spoken"):
            break
        page.wait_for_timeout(100)
    words = page.evaluate(f"import('/js/lib/speak.js').then(m => m.terbilang({number}))")
    assert spoken == [{"text": f"Nomor {words}, silakan ke loket dua", "lang": "id-ID"}]
    check_view(page, "board-sound")


def test_only_the_active_language_catalogue_is_loaded(page, server) -> None:
    catalogues: list[str] = []
    page.on("request", lambda request: catalogues.append(request.url.rsplit("/", 1)[1]) if "/js/i18n/" in request.url else None)
    page.goto("/#/where")
    page.wait_for_selector("h1:text-is('Tempat dan jadwal perekaman')")
    # A language is its interface texts and the words for the API's codes.
    assert sorted(catalogues) == ["id.js", "problems.id.js"]
    page.click("[data-action=language]")
    page.wait_for_selector("h1:text-is('Where and when to get recorded')")
    assert sorted(catalogues) == ["en.js", "id.js", "problems.en.js", "problems.id.js"]
