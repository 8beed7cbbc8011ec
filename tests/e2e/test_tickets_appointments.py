"""Issue 23 at phone size: a ticket's QR code (of its own address), the cap of one remote number
per point and day per phone, and appointments (pick a day and a slot, code and QR, cancel, check in)."""

import re
from datetime import date, timedelta

import httpx
import pytest

from tests.e2e.conftest import DESKTOP, PHONE, open_point_with_operator, serious_axe_violations, shoot
from tests.e2e.test_staff import sign_in

NIK = "3674014507900917"

# The QR code as the library makes it for `url`, and as the page drew it: the dark modules' (row,
# column) pairs. The page's SVG path is read back square by square ("M<x> <y>h1v1h-1z", offset by
# the quiet zone); the library is asked directly, not through the app's qr.js.
QR_MODULES = """async (url) => {
  const { qrcode } = await import('/vendor/qrcode-generator/qrcode.js');
  const code = qrcode(0, 'M'); code.addData(url); code.make();
  const expected = [];
  for (let r = 0; r < code.getModuleCount(); r++) for (let c = 0; c < code.getModuleCount(); c++) if (code.isDark(r, c)) expected.push(`${r},${c}`);
  const svg = document.querySelector('[data-qr]');
  const quiet = (svg.viewBox.baseVal.width - code.getModuleCount()) / 2;
  const drawn = [...svg.querySelector('path').getAttribute('d').matchAll(/M(\\d+) (\\d+)h1v1h-1z/g)].map((m) => `${m[2] - quiet},${m[1] - quiet}`);
  return { expected, drawn };
}"""


def assert_qr_of(page, url: str) -> None:
    slot = page.locator("[data-qr-slot]")
    slot.locator("svg[data-qr]").wait_for()
    assert slot.get_attribute("data-qr-url") == url
    modules = page.evaluate(QR_MODULES, url)
    assert modules["drawn"] == modules["expected"] and len(modules["drawn"]) > 100


@pytest.fixture(scope="module")
def booking_point(server) -> dict:
    point = {"kind": "kelurahan_office", "name": "Kelurahan Janji Temu e2e", "area": "36.74.01.1003", "counters": 2}
    return open_point_with_operator(server, point=point, username="e2e.operator.janji", display_name="Operator Janji")


def test_a_ticket_shows_the_qr_of_its_address_and_a_second_number_is_refused(page, server, booking_point) -> None:
    point = booking_point["id"]
    page.goto(f"/#/ticket/{point}")
    page.click("[data-form=ticket] [type=submit]")
    page.wait_for_url(re.compile(rf"#/ticket/{point}/\d+/[A-Za-z0-9_-]{{16,}}$"))
    page.wait_for_selector("[data-ticket-number]")
    address = page.url
    assert_qr_of(page, address)
    number = page.inner_text("[data-ticket-number]")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shoot(page, "ticket-qr-phone")
    assert serious_axe_violations(page) == []
    # A reload keeps the number (and its QR code).
    page.reload()
    page.wait_for_selector(f"[data-ticket-number]:text-is('{number}')")
    assert page.url == address
    assert_qr_of(page, address)
    # The phone forgets its number (storage cleared, as a calo would): the API still refuses a second.
    page.evaluate("localStorage.clear()")
    page.goto(f"/#/ticket/{point}")
    page.click("[data-form=ticket] [type=submit]")
    alert = page.locator("[data-form-status] [role=alert]")
    alert.wait_for()
    assert "Ponsel ini sudah memegang nomor antrean di tempat ini hari ini" in alert.inner_text()
    assert "already" not in alert.inner_text()  # no English from the API
    shoot(page, "ticket-refused-phone")


def test_an_appointment_is_booked_shown_with_code_and_qr_and_cancelled(page, server, booking_point) -> None:
    point = booking_point["id"]
    # "Where and when" offers a booking at every point; the take-a-number page too.
    page.goto("/#/where")
    page.locator(f"[data-point='{point}'] a[data-book]").first.wait_for()
    page.goto(f"/#/ticket/{point}")
    page.click("[data-book-link]")
    page.wait_for_url(re.compile(rf"#/appointment/{point}$"))
    page.wait_for_selector("select[data-slots]")
    # The server's today (api.calendar), as its board gives it.
    today = httpx.get(f"{server.base}/api/v1/service-points/{point}/queue").json()["day"]
    tomorrow = (date.fromisoformat(today) + timedelta(days=1)).isoformat()
    page.select_option("#booking-date", tomorrow)
    page.wait_for_selector(f"[data-slots='{tomorrow}'] option[value='09:00']", state="attached")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shoot(page, "appointment-book-phone")
    assert serious_axe_violations(page) == []
    # No slot picked, then a short NIK: Indonesian messages.
    page.click("[data-form=booking] [type=submit]")
    page.wait_for_selector("[data-error-for=start]:text-is('Pilih jam janji temu dulu.')")
    page.select_option("[data-slots]", "09:00")
    page.fill("#booking-nik", "12345")
    page.click("[data-form=booking] [type=submit]")
    page.wait_for_selector("[data-error-for=nik]:text-is('NIK harus 16 angka.')")
    page.fill("#booking-nik", NIK)
    page.click("[data-form=booking] [type=submit]")
    page.wait_for_url(re.compile(r"#/appointment/c/[A-Za-z0-9_-]{8,24}$"))
    page.wait_for_selector("[data-booking-status=booked]")
    code = page.url.rsplit("/", 1)[1]
    assert page.inner_text("[data-code]") == code
    assert page.inner_text("[data-booking-slot]") == "09:00–09:20" or page.inner_text("[data-booking-slot]").startswith("09:00")
    assert_qr_of(page, page.url)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shoot(page, "appointment-mine-phone")
    assert serious_axe_violations(page) == []
    # The phone keeps it: "where" links to it.
    page.goto("/#/where")
    page.locator(f"[data-my-bookings] a[href='#/appointment/c/{code}']").wait_for()
    # The same NIK cannot book a second appointment that day.
    page.goto(f"/#/appointment/{point}")
    page.select_option("#booking-date", tomorrow)
    page.wait_for_selector(f"[data-slots='{tomorrow}'] option[value='10:00']", state="attached")
    page.select_option("[data-slots]", "10:00")
    page.fill("#booking-nik", NIK)
    page.click("[data-form=booking] [type=submit]")
    page.wait_for_selector("[data-error-for=nik]:has-text('NIK ini sudah punya janji temu pada hari itu')")
    # Cancel (asked twice), then the seat is free again.
    page.goto(f"/#/appointment/c/{code}")
    page.click("[data-action=cancel]")
    page.click("[data-action=cancel-yes]")
    page.wait_for_selector("[data-booking-status=cancelled]")
    assert page.inner_text("[data-booking-state]") == "Dibatalkan"
    assert page.locator("[data-action=cancel], [data-qr-slot]").count() == 0
    assert httpx.get(f"{server.base}/api/v1/appointments/{code}").json()["status"] == "cancelled"
    page.goto("/#/where")
    page.wait_for_selector("h1")
    page.locator("[data-point] a[data-book]").first.wait_for()
    assert page.locator(f"a[href='#/appointment/c/{code}']").count() == 0  # a cancelled booking is forgotten


def test_staff_check_in_a_booking_of_today_from_its_page(page, server, booking_point) -> None:
    point = booking_point["id"]
    # A booking for later today, made by a resident's phone (its own address, its own NIK).
    day = httpx.get(f"{server.base}/api/v1/service-points/{point}/queue").json()["day"]
    slots = httpx.get(f"{server.base}/api/v1/service-points/{point}/slots", params={"date": day, "limit": 500}).json()["items"]
    start = next(s["start"] for s in slots if s["available"])
    booked = httpx.post(
        f"{server.base}/api/v1/service-points/{point}/appointments",
        json={"date": day, "start": start, "nik": "3674015508900001"},
        headers={"X-Forwarded-For": "203.0.113.77"},
    )
    assert booked.status_code == 201, booked.text
    code = booked.json()["code"]
    # The operator scans the QR code: the booking's page, with a check-in button for staff.
    sign_in(page, "e2e.operator.janji", password=server.password("e2e.operator.janji"))
    page.wait_for_url(re.compile(r"#/staff$"))
    page.goto(f"/#/appointment/c/{code}")
    page.click("[data-action=check-in]")
    page.wait_for_selector("[data-checked-in]")
    assert "Nomor antrean" in page.inner_text("[data-checked-in]")
    assert page.inner_text("[data-booking-state]") == "Sudah hadir" and page.locator("[data-action=check-in], [data-qr-slot]").count() == 0
    assert httpx.get(f"{server.base}/api/v1/appointments/{code}").json()["status"] == "checked_in"
    page.set_viewport_size(PHONE)
    shoot(page, "appointment-checked-in-phone")


def test_the_booking_page_speaks_english_too_and_fits_a_desktop(page, server, booking_point) -> None:
    page.goto(f"/#/appointment/{booking_point['id']}")
    page.wait_for_selector("select[data-slots]")
    page.click("[data-action=language]")
    page.wait_for_selector("h1:text-is('Book an appointment')")
    assert page.inner_text("label[for=booking-nik]") == "NIK (16 digits)"
    page.set_viewport_size(DESKTOP)
    shoot(page, "appointment-book-desktop-en")
    assert serious_axe_violations(page) == []
    page.click("[data-action=language]")  # back to Indonesian for the next tests


def test_a_ticket_page_refreshes_while_seen_and_not_in_a_pocket(page, server, booking_point) -> None:
    # A number taken from another phone; this one opens its address (the code is its secret).
    taken = httpx.post(f"{server.base}/api/v1/service-points/{booking_point['id']}/tickets", json={}, headers={"X-Forwarded-For": "10.23.0.7"})
    assert taken.status_code == 201, taken.text
    ticket = taken.json()
    reads: list[str] = []
    page.on("requestfinished", lambda request: reads.append(request.url) if f"/tickets/{ticket['id']}/status/" in request.url else None)

    def reads_reach(count: int) -> None:
        for _ in range(100):  # the page's own timers are the test's clock: wait here, in real time
            if len(reads) >= count:
                break
            page.wait_for_timeout(50)
        assert len(reads) == count

    seen = "seen => { Object.defineProperty(document, 'hidden', {value: !seen, configurable: true}); document.dispatchEvent(new Event('visibilitychange')); }"
    page.clock.install()
    page.goto(f"/#/ticket/{booking_point['id']}/{ticket['id']}/{ticket['code']}")
    page.wait_for_selector("[data-ticket-status=waiting]")
    reads_reach(1)
    page.clock.run_for(20_000)  # in view: the place in line again every 20 s
    reads_reach(2)
    page.evaluate(seen, False)
    page.clock.run_for(120_000)  # in a pocket for two minutes: nothing asked
    page.wait_for_timeout(300)
    assert len(reads) == 2
    page.evaluate(seen, True)  # looked at again: fresh at once
    reads_reach(3)
