"""Service points and weekend services in a real browser (issue #19): a supervisor opens an office
on a phone and closes it for a holiday after seeing the booking it cancels; an admin at a desk
plans the next weekend service from the ranking, staffs it, and is told in words why a device
booked elsewhere cannot come. Every change is checked through the API."""

from datetime import date, timedelta

import httpx

from api import calendar
from tests.e2e.conftest import DESKTOP, nav_to, serious_axe_violations, shoot
from tests.e2e.test_staff import sign_in


def auth(server, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token(username)}"}


def next_saturday(today: date) -> date:
    return today + timedelta(days=(5 - today.weekday()) % 7 or 7)


def test_supervisor_opens_an_office_and_closes_it_for_a_holiday_on_a_phone(page, server) -> None:
    sign_in(page, "e2e.supervisor")
    page.wait_for_selector("h1:text-is('Halo, e2e.supervisor')")
    # On a phone the header is one row: the menu, sign-out and the language switch.
    assert page.locator(".site-header .header-bar").bounding_box()["height"] < 70
    assert page.locator(".site-header [data-action=signout]").is_visible()
    nav_to(page, "#/staff/points")
    page.wait_for_selector("[data-table=points]")
    form = page.locator("[data-form=point]")
    form.locator("[name=kind]").select_option("kelurahan_office")
    form.locator("[name=name]").fill("Kantor Kelurahan Uji E2E")
    form.locator("[name=area]").select_option("36.74.01.1001")
    form.locator("[name=address]").fill("Jl. Uji No. 1")
    form.locator("[name=latitude]").fill("-6,3")
    form.locator("[name=longitude]").fill("106.66")
    assert form.locator("[data-map]").is_visible()
    form.locator("[name=counters]").fill("2")
    form.locator("[name='opening_hours.mon']").fill("08:00-12:00, 13:00-15:00")
    form.locator("[name='opening_hours.tue']").fill("8 pagi")
    form.locator("[type=submit]").click()
    assert form.locator("#hours-tue").get_attribute("aria-invalid") == "true"
    for day in ("tue", "wed", "thu", "fri", "sat", "sun"):
        form.locator(f"[name='opening_hours.{day}']").fill("07:00-16:00")
    form.locator("[type=submit]").click()
    form.locator("[role=status]").wait_for()
    created = next(
        p for p in server.get("/service-points", params={"area": "36.74.01", "limit": 200}).json()["items"] if p["name"] == "Kantor Kelurahan Uji E2E"
    )
    assert created["kind"] == "kelurahan_office" and created["counters"] == 2 and created["latitude"] == -6.3
    assert created["opening_hours"]["mon"] == [["08:00", "12:00"], ["13:00", "15:00"]]
    page.wait_for_selector(f"tr[data-point='{created['id']}']")
    # A resident books tomorrow; closing that day lists the booking before anything is saved.
    tomorrow = (calendar.today() + timedelta(days=1)).isoformat()
    booking = httpx.post(
        f"{server.base}/api/v1/service-points/{created['id']}/appointments", json={"date": tomorrow, "start": "09:00", "nik": "3674010101909401"}
    )
    assert booking.status_code == 201, booking.text
    closures = page.locator("[data-form=closure]")
    assert page.locator("[data-section=closures]").is_visible()
    closures.locator("[name=day]").fill(tomorrow)
    closures.locator("[name=reason]").fill("Libur daerah")
    closures.locator("[type=submit]").click()
    preview = page.locator("[data-preview]")
    preview.wait_for()
    assert preview.locator("[data-booking]").count() == 1 and "09:00" in preview.inner_text()
    shoot(page, "staff-points-preview-phone")
    assert server.get(f"/service-points/{created['id']}/closures").json()["items"] == []
    preview.locator("[data-action=confirm]").click()
    page.wait_for_selector("[data-closure]")
    assert [c["date"] for c in server.get(f"/service-points/{created['id']}/closures").json()["items"]] == [tomorrow]
    code = booking.json()["code"]
    assert server.get(f"/appointments/{code}").json()["status"] == "cancelled"
    assert serious_axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shoot(page, "staff-points-phone")


def test_admin_plans_staffs_a_weekend_service_and_reads_a_refusal_in_words(page, server) -> None:
    page.set_viewport_size(DESKTOP)
    admin = auth(server, "e2e.admin")
    saturday = next_saturday(calendar.today())
    sign_in(page, "e2e.admin")
    page.wait_for_selector("h1:text-is('Halo, e2e.admin')")
    # One row of navigation at 1280 px.
    assert page.locator(".site-header .header-bar").bounding_box()["height"] < 80
    nav_to(page, "#/staff/points")
    page.wait_for_selector("[data-table=points]")
    # A weekend service's RW is named with its kelurahan: "RW 012" alone is in many kelurahan.
    demo = next(p for p in server.get("/service-points", params={"kind": "weekend_event", "limit": 200}).json()["items"] if p["area"].count(".") == 4)
    rw, kelurahan = (server.get(f"/areas/{code}").json()["name"] for code in (demo["area"], demo["area"].rsplit(".", 1)[0]))
    assert page.inner_text(f"[data-table=points] tr[data-point='{demo['id']}'] .code").endswith(f" · {rw}, {kelurahan}")
    planner = page.locator("[data-form=planner]")
    assert planner.locator("[name=date]").input_value() == saturday.isoformat()
    planner.locator("[type=submit]").click()
    rows = page.locator("[data-table=planner] tbody tr")
    rows.first.wait_for()
    plan = server.get("/weekend-events/plan", params={"date": saturday.isoformat(), "area": "36.74"}, headers=admin).json()
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.unit)") == [u["code"] for u in plan["items"]]
    unit = plan["items"][0]["code"]
    rows.first.locator("[data-action=plan-here]").click()
    form = page.locator("[data-form=point]")
    assert form.locator("[name=kind]").input_value() == "weekend_event"
    assert form.locator("[name=area]").input_value() == unit and form.locator("[name=event_date]").input_value() == saturday.isoformat()
    form.locator("[type=submit]").click()
    form.locator("[role=status]").wait_for()
    event = server.get("/service-points", params={"kind": "weekend_event", "area": unit, "limit": 200}).json()["items"][0]
    assert event["event_date"] == saturday.isoformat() and event["event_start"] == "08:00"
    # The planner's free crew is ticked, two of each (the service's counters).
    crew = page.locator("[data-form=crew]")
    crew.wait_for()
    devices = crew.locator("[name=device_ids]:checked").evaluate_all("boxes => boxes.map(b => Number(b.value))")
    assert len(devices) == 2 and crew.locator("[name=operator_ids]:checked").count() == 2
    shoot(page, "staff-points-desktop")
    # Meanwhile a colleague books one of those devices at the demo's Serpong service that day.
    other = next(
        p
        for p in server.get("/service-points", params={"kind": "weekend_event", "limit": 200}).json()["items"]
        if p["event_date"] == saturday.isoformat() and p["id"] != event["id"]
    )
    assert httpx.put(f"{server.base}/api/v1/service-points/{other['id']}/assignments", json={"device_ids": [devices[1]]}, headers=admin).status_code == 200
    crew.locator("[type=submit]").click()
    refused = crew.locator("[data-refused]")
    refused.wait_for()
    serial = server.get(f"/devices/{devices[1]}", headers=admin).json()["serial"]
    assert refused.get_attribute("data-refused") == f"device_ids:{devices[1]}" and serial in refused.inner_text()
    assert server.get(f"/service-points/{event['id']}/assignments", headers=admin).json()["device_ids"] == []
    # Without it, the crew is saved.
    crew.locator(f"[name=device_ids][value='{devices[1]}']").uncheck()
    crew.locator("[type=submit]").click()
    crew.locator("[data-form-status] [role=status]").wait_for()
    assert server.get(f"/service-points/{event['id']}/assignments", headers=admin).json()["device_ids"] == [devices[0]]
    assert serious_axe_violations(page) == []
