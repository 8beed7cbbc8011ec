"""One trustworthy figure (#16) in a real browser: queue tickets completed today are provisional on
the public page until the kecamatan's official daily figure arrives; the staff's reconciliation
view sets the official figure next to what the queues counted."""

from datetime import date

import httpx
import pytest

from tests.e2e.conftest import (
    DESKTOP,
    open_point_with_operator,
    serious_axe_violations,
    shoot,
    tables_scrolling_sideways,
)
from tests.e2e.test_staff import sign_in

SETU = "36.74.07"


@pytest.fixture(scope="module")
def setu_point(server) -> dict:
    point = {"kind": "kecamatan_office", "name": "Loket Setu E2E", "area": SETU, "counters": 1}
    return open_point_with_operator(server, point=point, username="e2e.setu", display_name="Operator Setu")


def _complete_tickets(server, point_id: int, n: int) -> None:
    headers = {"Authorization": f"Bearer {server.token('e2e.setu')}"}
    for _ in range(n):
        assert httpx.post(f"{server.base}/api/v1/service-points/{point_id}/tickets", json={"name": "Warga"}).status_code == 201
        called = httpx.post(f"{server.base}/api/v1/service-points/{point_id}/call-next", json={"counter": 1}, headers=headers)
        assert called.status_code == 200, called.text
        for move in ("start", "complete"):
            assert httpx.post(f"{server.base}/api/v1/tickets/{called.json()['id']}/{move}", headers=headers).status_code == 200


def _setu(server) -> dict:
    return next(c for c in server.progress("36.74")["children"] if c["code"] == SETU)


def test_provisional_then_official_on_the_public_and_staff_pages(page, server, setu_point) -> None:
    _complete_tickets(server, setu_point["id"], 2)
    setu = _setu(server)
    assert setu["provisional"] >= 2 and setu["by_source"]["queue"] >= 2
    # Public: the city's figure, its provisional part said in plain words, and Setu's row marks its provisional count.
    page.goto("/")
    page.wait_for_selector("[data-figure=provisional-note]")
    city = server.progress("36.74")
    assert city["recorded"] == city["official"] + city["provisional"]
    note = page.inner_text("[data-figure=provisional-note]")
    assert f"{city['provisional']:,}".replace(",", ".") in note and "sementara" in note
    assert page.inner_text(f"tr[data-area='{SETU}'] [data-col=provisional]") == f"{setu['provisional']} sementara"
    # The city's own reported total against its kecamatan stays visible, in plain words; staff notes do not.
    city_note = page.inner_text("[data-discrepancy='36.74']")
    assert "554.702" in city_note and "553.486" in city_note
    # A kecamatan's kelurahan without any report say so, and are not ranked as the most behind.
    page.click("tr[data-area='36.74.01'] a")
    page.wait_for_selector("h1:text-is('Serpong')")
    serpong = server.progress("36.74.01")
    silent = [c for c in serpong["children"] if not c["reported"]]
    if silent:
        rows = page.locator("[data-table=children] tbody tr").evaluate_all("rows => rows.map(r => r.dataset.area)")
        assert rows[-len(silent) :] == sorted((c["code"] for c in silent), key=lambda code: next(c["name"] for c in silent if c["code"] == code))
        assert page.locator(f"tr[data-area='{silent[0]['code']}'] [data-not-reported]").inner_text() == "belum melapor"

    # The kecamatan's official daily total arrives: the tickets are in it, not added to it.
    admin = {"Authorization": f"Bearer {server.token('e2e.admin')}"}
    today = date.fromisoformat(server.get(f"/campaigns/{server.campaign_id}/progress/daily", params={"area": SETU}).json()["end"])
    posted = httpx.post(
        f"{server.base}/api/v1/campaigns/{server.campaign_id}/tallies",
        headers=admin,
        json={"tallies": [{"area": SETU, "date": today.isoformat(), "count": 50, "source": "script"}]},
    )
    assert posted.status_code == 200, posted.text
    after = _setu(server)
    assert after["provisional"] == 0 and after["recorded"] == setu["recorded"] - setu["provisional"] + 50
    # Public reads may be cached for 15 s (api/caching.py); a resident coming back later sees the new figure.
    page.context.new_cdp_session(page).send("Network.clearBrowserCache")
    page.goto("/#/progress")
    page.reload()
    shown = f"{after['recorded']:,}".replace(",", ".")
    page.wait_for_selector(f"tr[data-area='{SETU}'] [data-col=recorded]:has-text('{shown}')")
    assert page.locator(f"tr[data-area='{SETU}'] [data-col=provisional]").count() == 0

    # Staff: the reconciliation view lists Setu's day with the official 50 next to the queue's count.
    sign_in(page, "e2e.admin")
    page.wait_for_selector("h1:text-is('Halo, e2e.admin')")
    page.goto("/#/staff/reconciliation")
    page.wait_for_selector("[data-table=reconciliation]")
    reconciliation = server.get(f"/campaigns/{server.campaign_id}/reconciliation", headers=admin).json()
    # The largest differences first; the rest of the month's rows one tap away, the first of them focused.
    rows = page.locator("[data-table=reconciliation] tbody tr")
    assert len(reconciliation["rows"]) > 25 and rows.count() == len(reconciliation["rows"])
    assert page.locator("[data-table=reconciliation] tbody tr:visible").count() == 25
    page.click("[data-action=all-rows]")
    assert page.locator("[data-table=reconciliation] tbody tr:visible").count() == len(reconciliation["rows"])
    assert page.evaluate("document.activeElement.closest('tr') === document.querySelectorAll('[data-table=reconciliation] tbody tr')[25]")
    assert page.locator("[data-action=all-rows]").count() == 0
    row = page.locator(f"tr[data-area='{SETU}'][data-date='{today.isoformat()}']")
    assert row.locator("[data-col=official]").inner_text() == "50"
    counted = after["by_source"]["queue"] + after["by_source"]["home_visit"]
    mine = next(r for r in reconciliation["rows"] if r["area"] == SETU and r["date"] == today.isoformat())
    assert mine["counted"] <= counted and row.locator("[data-col=difference]").inner_text() == f"+{mine['difference']}"
    assert row.locator("th").inner_text().split()[:2] == ["Setu", SETU]  # the area by name, its code beside
    # On a phone the day is under the area and the queue's and visits' counts are one column, so the difference fits.
    assert row.locator("[data-col=day]").is_visible() and row.locator("[data-col=queue]").is_hidden()
    assert row.locator("[data-col=counted]").inner_text() == str(mine["counted"])
    assert "reconciliation" not in tables_scrolling_sideways(page)
    # The detailed data-quality notes are here, for staff.
    assert page.locator("[data-notes] [data-discrepancy='36.74']").count() == 1
    assert serious_axe_violations(page) == []
    # The area is chosen by name: Setu's rows only.
    page.locator(f"#rec-area-kecamatan option[value='{SETU}']").wait_for(state="attached")
    page.select_option("#rec-area-kecamatan", SETU)
    page.click("[data-form=reconciliation] button[type=submit]")
    page.wait_for_url(f"**/#/staff/reconciliation?area={SETU}&**")
    page.wait_for_selector("[data-table=reconciliation]")
    assert set(page.locator("[data-table=reconciliation] tbody tr").evaluate_all("rows => rows.map(r => r.dataset.area)")) == {SETU}
    assert page.input_value("#rec-area-kecamatan") == SETU
    page.set_viewport_size(DESKTOP)
    # On a wide screen the day and each source have their own column.
    page.locator("[data-table=reconciliation] tbody tr >> nth=0 >> [data-col=queue]").wait_for(state="visible")
    page.locator("[data-table=reconciliation] tbody tr >> nth=0 >> [data-col=counted]").wait_for(state="hidden")
    shoot(page, "staff-reconciliation-desktop")
