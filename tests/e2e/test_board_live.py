"""Issue 9's "an operator calls the next ticket and an open board page updates without reload":
the public board open in one browser context (the TV), the operator signed in on the counter
console in another; the call made with the console's button reaches the board through the
events stream, in the same document (a marker set on the board's window survives)."""

import httpx
import pytest

from tests.e2e.conftest import DESKTOP, PASSWORD, open_point_with_operator


@pytest.fixture(scope="module")
def point_and_operator(server) -> dict:
    point = {"kind": "kelurahan_office", "name": "Kelurahan Papan Langsung e2e", "area": "36.74.01.1002", "counters": 3}
    return open_point_with_operator(server, point=point, username="e2e.operator.board", display_name="Operator Papan")


def test_an_operator_calls_the_next_ticket_and_the_open_board_updates_without_reload(browser, page, server, point_and_operator) -> None:
    point = point_and_operator["id"]
    waiting = httpx.post(f"{server.base}/api/v1/service-points/{point}/tickets", json={})
    waiting.raise_for_status()
    number = waiting.json()["number"]

    # The TV: the board, live, with a marker on its window and no number at any counter yet.
    tv = browser.new_context(base_url=server.base, viewport=DESKTOP).new_page()
    tv.set_default_timeout(20_000)
    navigations: list[str] = []
    tv.on("framenavigated", lambda frame: frame == tv.main_frame and navigations.append(frame.url))
    tv.goto(f"/#/board/{point}")
    tv.wait_for_selector("[data-connection=live]")
    tv.wait_for_selector("[data-board=waiting]:text-is('1')")
    assert tv.locator("[data-counters-empty]").count() == 1
    tv.evaluate("window.__boardMarker = 'still the same document'")
    loads_before = len(navigations)

    # The operator, in another browser context: signs in, opens the console, presses "call next".
    page.goto("/#/staff/signin?next=/staff/counter")
    page.fill("#signin-username", "e2e.operator.board")
    page.fill("#signin-password", PASSWORD)
    page.click("[data-form=signin] [type=submit]")
    page.wait_for_url(f"**/#/staff/counter/{point}")
    page.wait_for_selector("[data-ticket=none]")
    page.click("[data-move=call-next]")
    page.wait_for_selector("[data-ticket][data-status=called]")
    assert page.inner_text("[data-figure=number]") == str(number)

    # The board shows the number at the operator's counter, the banner, and the queue now empty.
    counter = tv.locator("[data-counter] [data-number]")
    counter.wait_for()
    tv.wait_for_selector(f"[data-counter] [data-number]:text-is('{number}')")
    tv.wait_for_selector("[data-board=waiting]:text-is('0')")
    assert tv.locator("[data-call-number]").get_attribute("data-call-number") == str(number)
    # No reload and no navigation: the marker survived, and only the first load happened.
    assert tv.evaluate("window.__boardMarker") == "still the same document"
    assert len(navigations) == loads_before
    assert tv.url.endswith(f"#/board/{point}")
    tv.context.close()
