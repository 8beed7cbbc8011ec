"""Daily tallies in a real browser: CSV upload with a rejected row, the entry grid, a figure's history."""

from datetime import date, timedelta

import httpx

from tests.e2e.conftest import DESKTOP, serious_axe_violations, shoot
from tests.e2e.test_staff import sign_in

CIATER, RAWABUNTU = "36.74.01.1001", "36.74.01.1002"


def test_supervisor_uploads_a_csv_and_sees_the_summary_with_the_rejected_row(page, server) -> None:
    sign_in(page, "e2e.supervisor", start="/#/staff/tallies")
    page.wait_for_selector("h1:text-is('Rekap harian perekaman')")
    page.wait_for_selector("[data-table=grid]")
    day = (date.today() - timedelta(days=3)).isoformat()
    csv = f"area,date,count\n{CIATER},{day},41\n36.74.02.1001,{day},12\n{RAWABUNTU},{day},37\n"
    form = page.locator("[data-form=csv]")
    # A dry run first: the same summary, nothing saved.
    form.locator("input[type=file]").set_input_files(files=[{"name": "rekap.csv", "mimeType": "text/csv", "buffer": csv.encode()}])
    form.locator("input[name=dry_run]").check()
    form.locator("[type=submit]").click()
    summary = form.locator("[data-summary]")
    summary.wait_for()
    assert summary.get_attribute("data-summary") == "dry-run"
    form.locator("input[name=dry_run]").uncheck()
    form.locator("[type=submit]").click()
    page.wait_for_selector("[data-form=csv] [data-summary=rejected]")
    assert summary.locator("[data-count=rows] dd").inner_text() == "3"
    assert summary.locator("[data-count=rejected] dd").inner_text() == "1"
    assert summary.locator("[data-count=imported] dd").inner_text() == "0"
    assert "Tidak ada yang disimpan" in summary.inner_text()
    rejected = summary.locator("[data-table=rejected] tbody tr")
    assert rejected.count() == 1
    cells = rejected.first.locator("td").all_inner_texts()
    # Row 3 of the file (the header is row 1), its content, the field and the words for its code.
    assert cells[0] == "3" and cells[1] == f"36.74.02.1001,{day},12" and cells[2] == "area"
    token = server.token("e2e.supervisor")
    answer = httpx.post(
        f"{server.base}/api/v1/campaigns/{server.campaign_id}/tallies",
        params={"dry_run": "true"},
        content=csv,
        headers={"Content-Type": "text/csv", "Authorization": f"Bearer {token}"},
    )
    conflict = answer.json()["summary"]["conflicts"][0]
    assert answer.status_code == 422 and conflict["rows"] == [3] and conflict["code"] == "outside_scope"
    assert cells[3] == "di luar wilayah tugas Anda"
    shoot(page, "staff-tallies-rejected-phone")
    # Without the bad row: saved, and the grid shows the new figures.
    form.locator("input[type=file]").set_input_files(files=[])
    form.locator("textarea").fill(f"area,date,count\n{CIATER},{day},41\n{RAWABUNTU},{day},37\n")
    form.locator("[type=submit]").click()
    page.wait_for_selector("[data-form=csv] [data-summary=saved]")
    assert summary.locator("[data-count=imported] dd").inner_text() == "2"
    page.wait_for_selector(f"input.cell[data-area='{CIATER}'][data-date='{day}'][value='41']")
    assert serious_axe_violations(page) == []


def test_supervisor_enters_figures_in_the_grid_and_reads_their_history(page, server) -> None:
    sign_in(page, "e2e.supervisor", start="/#/staff/tallies")
    day = (date.today() - timedelta(days=2)).isoformat()
    cell = page.locator(f"input.cell[data-area='{RAWABUNTU}'][data-date='{day}']")
    cell.wait_for()
    assert page.is_visible("[data-keys]")  # a mouse and keyboard: Alt+H for a figure's history is said (not on a touch phone)
    cell.fill("1.234")
    other = page.locator(f"input.cell[data-area='{CIATER}'][data-date='{day}']")
    other.fill("banyak")
    grid = page.locator("[data-form=grid]")
    grid.locator("[type=submit]").click()
    assert other.get_attribute("aria-invalid") == "true"
    assert "bilangan bulat" in grid.locator("[data-form-status]").inner_text()
    other.fill("")
    grid.locator("[type=submit]").click()
    page.wait_for_selector("[data-form=grid] [data-summary=saved]")
    assert grid.locator("[data-count=imported] dd").inner_text() == "1"
    cell.fill("1240")
    grid.locator("[type=submit]").click()
    page.wait_for_selector("[data-form=grid] [data-count=updated] dd:text-is('1')")
    # Alt+H in the box: its history, newest first.
    cell.focus()
    page.keyboard.press("Alt+h")
    rows = page.locator("[data-table=history] tbody tr")
    rows.first.wait_for()
    assert rows.count() == 2
    first = rows.first.locator("td").all_inner_texts()
    assert first[1:3] == ["1.234", "1.240"] and "e2e.supervisor" in first[3]
    assert "Rawabuntu" in page.inner_text("[data-table=history] caption")
    assert serious_axe_violations(page) == []
    shoot(page, "staff-tallies-phone")
    page.set_viewport_size(DESKTOP)
    shoot(page, "staff-tallies-desktop")


def test_on_a_phone_today_comes_first_in_the_grid(page, server) -> None:
    """Issue 19: on a phone, today's tally column was off-screen to the right."""
    from api import calendar

    today = calendar.today().isoformat()
    sign_in(page, "e2e.supervisor", start="/#/staff/tallies")
    page.wait_for_selector("[data-table=grid]")
    dates = page.locator("[data-table=grid] tbody tr").first.locator("input.cell").evaluate_all("cells => cells.map(c => c.dataset.date)")
    assert dates[0] == today and dates == sorted(dates, reverse=True)
    box = page.locator(f"input.cell[data-area='{CIATER}'][data-date='{today}']").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360, box
    # The grid scrolls in its own frame; the page itself stays phone-wide.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.locator(f"input.cell[data-area='{CIATER}'][data-date='{today}']").fill("7")
    page.locator("[data-form=grid] [type=submit]").click()
    page.wait_for_selector("[data-form=grid] [data-summary=saved]")
    token = server.token("e2e.supervisor")
    saved = server.get(
        f"/campaigns/{server.campaign_id}/tallies", params={"area": CIATER, "from": today, "to": today}, headers={"Authorization": f"Bearer {token}"}
    ).json()["items"]
    assert any(t["area"] == CIATER and t["count"] == 7 and t["service_point_id"] is None for t in saved)
    shoot(page, "staff-tallies-today-phone")
