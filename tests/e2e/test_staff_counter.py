"""The counter console in a real browser: an operator calls, starts and completes a walk-in ticket."""

import httpx
import pytest

from tests.e2e.conftest import DESKTOP, PHONE, open_point_with_operator, serious_axe_violations, shoot
from tests.e2e.test_staff import sign_in


@pytest.fixture(scope="module")
def counter_point(server) -> dict:
    point = {"kind": "kecamatan_office", "name": "Loket <b>Uji</b> E2E", "area": "36.74.01", "counters": 2}
    return open_point_with_operator(server, point=point, username="e2e.operator", display_name="Operator E2E")


def test_operator_calls_the_next_ticket_and_the_console_shows_it(page, server, counter_point) -> None:
    point = counter_point["id"]
    taken = httpx.post(f"{server.base}/api/v1/service-points/{point}/tickets", json={"name": "Siti <i>Aminah</i>"})
    assert taken.status_code == 201, taken.text
    number = taken.json()["number"]
    sign_in(page, "e2e.operator")
    page.wait_for_selector("h1:text-is('Halo, e2e.operator')")
    # The operator is offered the console only (no tallies, no targets).
    assert page.locator(".cards a[href='#/staff/counter']").count() == 1
    assert page.locator(".cards a[href='#/staff/tallies']").count() == 0
    page.click(".cards a[href='#/staff/counter']")
    page.wait_for_url(f"**/#/staff/counter/{point}")
    page.wait_for_selector("[data-ticket=none]")
    assert "Loket <b>Uji</b> E2E" in page.inner_text(".lede")  # a name with markup stays text
    assert page.inner_text("[data-figure=waiting]") == "1"
    assert page.is_disabled("[data-move=start]") and page.is_enabled("[data-move=call-next]")
    assert page.is_visible("[data-keys]") and page.is_visible("[data-move=call-next] kbd")  # a mouse and keyboard: the shortcuts are said
    # N calls the next resident.
    page.locator("body").press("n")
    page.wait_for_selector("[data-ticket][data-status=called]")
    assert page.inner_text("[data-figure=number]") == str(number)
    assert page.inner_text(".ticket-name") == "Siti <i>Aminah</i>"
    page.wait_for_selector("[data-figure=waiting]:text-is('0')")
    board = server.get(f"/service-points/{point}/queue").json()
    assert board["waiting"] == 0 and {"counter": 1, "number": number, "status": "called"} in board["now_serving"]
    assert serious_axe_violations(page) == []
    shoot(page, "staff-counter-phone")
    # R recalls, S starts, C completes; the ticket survives a reload in between.
    page.locator("body").press("r")
    page.wait_for_selector(".ticket-status >> text=dipanggil ulang 1×")
    page.reload()
    page.wait_for_selector("[data-ticket][data-status=called]")
    page.locator("body").press("s")
    page.wait_for_selector("[data-ticket][data-status=serving]")
    page.click("[data-move=complete]")
    page.wait_for_selector("[data-ticket=none]")
    assert "selesai direkam" in page.inner_text("[data-slot=message]")
    page.wait_for_selector("[data-figure=served]:text-is('1')")
    # Nobody waits now: a plain message, not an error.
    page.click("[data-move=call-next]")
    page.wait_for_selector("[data-slot=message]:text-is('Tidak ada warga yang menunggu.')")
    page.set_viewport_size(DESKTOP)
    shoot(page, "staff-counter-desktop")


def test_a_supervisor_chooses_a_point_and_counter(page, server, counter_point) -> None:
    sign_in(page, "e2e.supervisor", start="/#/staff/counter")
    page.wait_for_selector("[data-form=choose]")
    page.select_option("#counter-point", str(counter_point["id"]))
    page.click("[data-form=choose] [type=submit]")
    page.wait_for_selector("[data-ticket]")
    page.select_option("#counter-no", "2")
    page.click("[data-move=call-next]")
    page.wait_for_selector("[data-slot=message]:text-is('Tidak ada warga yang menunggu.')")


def test_a_touch_phone_is_not_told_of_keyboard_shortcuts(browser, server, counter_point) -> None:
    context = browser.new_context(base_url=server.base, viewport=PHONE, is_mobile=True, has_touch=True, service_workers="block")
    try:
        page = context.new_page()
        sign_in(page, "e2e.operator")
        page.wait_for_selector("h1:text-is('Halo, e2e.operator')")
        page.goto(f"/#/staff/counter/{counter_point['id']}")
        page.wait_for_selector("[data-move=call-next]")
        assert page.locator("[data-keys]").count() == 1 and not page.is_visible("[data-keys]")
        assert not page.is_visible("[data-move=call-next] kbd")
        assert page.get_attribute("[data-move=call-next]", "aria-keyshortcuts") == "N"  # a keyboard plugged in still works
        # Nor is the tallies grid's Alt+H said to a supervisor on a touch phone (a new tab: a session of its own).
        tab = context.new_page()
        sign_in(tab, "e2e.supervisor", start="/#/staff/tallies")
        tab.wait_for_selector("input.cell")
        assert tab.locator("[data-keys]").count() == 1 and not tab.is_visible("[data-keys]")
    finally:
        context.close()
