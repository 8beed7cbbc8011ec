"""Home-visit dispatch in a real browser: triage, schedule onto a kit, the printable day plan."""

from datetime import date, timedelta

from tests.e2e.conftest import DESKTOP, serious_axe_violations, shoot
from tests.e2e.test_staff import sign_in


def test_supervisor_triages_schedules_and_prints_a_kit_day_plan(page, server) -> None:
    sign_in(page, "e2e.supervisor", start="/#/staff/dispatch")
    page.wait_for_selector("h1:text-is('Penjadwalan kunjungan rumah')")
    rows = page.locator("[data-table=requests] tbody tr")
    rows.first.wait_for()
    token = server.token("e2e.supervisor")
    api = server.get("/home-visits", params={"area": "36.74.01", "limit": 200}, headers={"Authorization": f"Bearer {token}"}).json()["items"]
    open_ids = {v["id"] for v in api if v["status"] in ("submitted", "triaged", "scheduled")}
    shown = rows.evaluate_all("rows => rows.map(r => Number(r.dataset.visit))")
    assert set(shown) == open_ids and open_ids
    # Triaged with a priority before the submitted one without.
    statuses = rows.evaluate_all("rows => rows.map(r => r.dataset.status)")
    assert statuses.index("triaged") < statuses.index("submitted")
    submitted = next(v for v in api if v["status"] == "submitted")
    row = page.locator(f"tr[data-visit='{submitted['id']}']")
    row.locator("[data-action=triage]").click()
    page.wait_for_selector(f"tr[data-visit='{submitted['id']}'][data-status=triaged]")
    row.locator("[data-action=schedule]").click()
    form = page.locator("[data-form=schedule]")
    assert form.is_visible()
    day = (date.today() + timedelta(days=2)).isoformat()
    form.locator("[name=date]").fill(day)
    form.locator("[name=start]").fill("14:00")
    form.locator("[name=end]").fill("13:00")
    form.locator("[type=submit]").click()
    form.locator("[data-form-status] [role=alert]").wait_for()
    assert form.locator("[aria-invalid=true]").count() >= 1
    # The schema's rule in Indonesian (window.order), never pydantic's "Value error, end must be after start".
    assert "Jam selesai harus setelah jam mulai." in form.inner_text() and "Value error" not in form.inner_text()
    form.locator("[name=start]").fill("13:00")
    form.locator("[name=end]").fill("14:00")
    form.locator("[type=submit]").click()
    form.locator("[role=status]").wait_for()
    page.wait_for_selector(f"tr[data-visit='{submitted['id']}'][data-status=scheduled]")
    # The plan form now points at that kit and day.
    page.click("[data-form=plan] [type=submit]")
    stop = page.locator(f"[data-stop='{submitted['id']}']")
    stop.wait_for()
    assert "13.00–14.00" in stop.inner_text()
    assert page.locator("[data-action=print]").is_visible()
    assert serious_axe_violations(page) == []
    shoot(page, "staff-dispatch-phone")
    page.set_viewport_size(DESKTOP)
    shoot(page, "staff-dispatch-desktop")
    page.emulate_media(media="print")
    assert page.locator("[data-form=plan]").is_hidden() and page.locator(".site-header").is_hidden()
    assert stop.is_visible()
    shoot(page, "staff-dispatch-print")
