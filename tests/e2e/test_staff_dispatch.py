"""Home-visit dispatch in a real browser (issue #19): requests by urgency and waiting time,
scheduling straight from a new request with the kit's crew offered first, the printable day plan
with the crew, map links and tick boxes."""

from datetime import timedelta

import httpx

from api import calendar
from tests.e2e.conftest import DESKTOP, serious_axe_violations, shoot
from tests.e2e.test_staff import sign_in

PRIORITY = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


def test_supervisor_schedules_a_new_request_and_prints_a_kit_day_plan(page, server) -> None:
    # A bedridden resident asks today: urgent enough from the reason alone, no triage needed.
    request = {
        "area": "36.74.01.1002",
        "name": "Ibu Uji Stroke",
        "nik": "3674014505400003",
        "phone": "081299990001",
        "address": "Jl. Uji Baring No. 3",
        "reason": "sick",
        "note": "Terbaring sejak stroke",
        "consent": True,
    }
    assert httpx.post(f"{server.base}/api/v1/home-visits", json=request).status_code == 201
    token = server.token("e2e.supervisor")
    headers = {"Authorization": f"Bearer {token}"}
    api = server.get("/home-visits", params={"area": "36.74.01", "limit": 200}, headers=headers).json()["items"]
    new = max((v for v in api if v["status"] == "submitted" and v["reason"] == "sick"), key=lambda v: v["id"])
    assert new["priority"] == "high"
    sign_in(page, "e2e.supervisor", start="/#/staff/dispatch")
    page.wait_for_selector("h1:text-is('Penjadwalan kunjungan rumah')")
    rows = page.locator("[data-table=requests] tbody tr")
    rows.first.wait_for()
    open_ids = {v["id"] for v in api if v["status"] in ("submitted", "triaged", "scheduled")}
    shown = rows.evaluate_all("rows => rows.map(r => Number(r.dataset.visit))")
    assert set(shown) == open_ids
    # Ordered by urgency, then the longest wait.
    by_id = {v["id"]: v for v in api}
    keys = [(PRIORITY.get(by_id[i]["priority"], 9), -(by_id[i]["waiting_days"] or 0)) for i in shown]
    assert keys == sorted(keys)
    assert shown.index(new["id"]) < min(shown.index(v["id"]) for v in api if v["id"] in open_ids and v["priority"] in ("normal", "low", None))
    row = page.locator(f"tr[data-visit='{new['id']}']")
    assert row.locator("[data-action=triage]").count() == 0
    row.locator("[data-action=schedule]").click()
    form = page.locator("[data-form=schedule]")
    assert form.is_visible()
    # The chosen kit's crew comes first among the operators.
    kit = form.locator("[name=device]").input_value()
    crew = form.locator("[name=operator] [data-crew-options] option").evaluate_all("os => os.map(o => Number(o.value))")
    operators = {o["id"]: o for o in server.get("/operators", params={"area": "36.74.01", "limit": 200}, headers=headers).json()["items"]}
    kit_area = server.get(f"/devices/{kit}", headers=headers).json()["placed"]["area"]
    assert crew and all(operators[o]["assigned"]["area"].startswith(kit_area) for o in crew)
    assert form.locator("[name=operator]").input_value() == str(crew[0])
    day = (calendar.today() + timedelta(days=2)).isoformat()
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
    page.wait_for_selector(f"tr[data-visit='{new['id']}'][data-status=scheduled]")
    saved = server.get(f"/home-visits/{new['id']}", headers=headers).json()
    assert (saved["status"], saved["operator_id"], saved["device_id"], saved["visit_date"]) == ("scheduled", crew[0], int(kit), day)
    # The plan form now points at that kit and day: the crew by name, a map link, a box to tick.
    page.click("[data-form=plan] [type=submit]")
    stop = page.locator(f"[data-stop='{new['id']}']")
    stop.wait_for()
    assert "13.00–14.00" in stop.inner_text() and stop.locator(".tick").count() == 1
    assert "Jl.%20Uji%20Baring" in stop.locator("[data-map]").get_attribute("href")
    assert operators[crew[0]]["name"] in page.inner_text("[data-crew]")
    assert page.locator("[data-action=print]").is_visible()
    assert serious_axe_violations(page) == []
    shoot(page, "staff-dispatch-phone")
    page.set_viewport_size(DESKTOP)
    shoot(page, "staff-dispatch-desktop")
    page.emulate_media(media="print")
    assert page.locator("[data-form=plan]").is_hidden() and page.locator(".site-header").is_hidden()
    assert stop.is_visible() and stop.locator(".print-only").is_visible()
    shoot(page, "staff-dispatch-print")
