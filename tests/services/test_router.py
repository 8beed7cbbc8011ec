from datetime import timedelta

from api import calendar
from api.types import Role
from tests.factories import assert_problem, headers_for, make_campaign
from tests.services.factories import make_device, make_event, make_rw, next_saturday


async def test_create_list_and_schedule_over_http(client, session) -> None:
    supervisor = await headers_for(session, role=Role.supervisor, area="36.74.02")
    payload = {
        "kind": "kecamatan_office",
        "name": "Kantor Kecamatan Uji",
        "area": "36.74.02",
        "counters": 3,
        "opening_hours": {"mon": [["08:00", "15:00"]], "sat": [["08:00", "12:00"]], "sun": [["08:00", "12:00"]]},
    }
    created = await client.post("/api/v1/service-points", json=payload, headers=supervisor)
    assert created.status_code == 201, created.text
    point_id = created.json()["id"]
    saturday = next_saturday()
    listed = (await client.get("/api/v1/service-points", params={"area": "36.74.02", "date": saturday.isoformat()})).json()
    assert [(p["id"], p["hours"]) for p in listed["items"]] == [(point_id, [["08:00", "12:00"]])]
    friday = saturday - timedelta(days=1)
    assert (await client.get("/api/v1/service-points", params={"area": "36.74.02", "date": friday.isoformat()})).json()["items"] == []
    schedule = (await client.get("/api/v1/schedule", params={"area": "36.74.02", "from": friday.isoformat(), "to": saturday.isoformat()})).json()["items"]
    assert [len(day["points"]) for day in schedule] == [0, 1]
    assert_problem(
        await client.get("/api/v1/schedule", params={"from": saturday.isoformat(), "to": (saturday + timedelta(days=40)).isoformat()}), 422, field="to"
    )
    overlapping = {**payload, "opening_hours": {"sat": [["08:00", "12:00"], ["11:00", "13:00"]]}}
    assert_problem(await client.post("/api/v1/service-points", json=overlapping, headers=supervisor), 422, field="opening_hours.sat")
    assert_problem(await client.post("/api/v1/service-points", json={**payload, "opening_hours": {"sat": [["8am", "12:00"]]}}, headers=supervisor), 422)
    assert_problem(await client.post("/api/v1/service-points", json={**payload, "area": "36.74.03"}, headers=supervisor), 403)
    closed = await client.post(f"/api/v1/service-points/{point_id}/closures", json={"date": saturday.isoformat(), "reason": "Libur"}, headers=supervisor)
    assert closed.status_code == 201 and closed.json()["closed"] and closed.json()["cancelled_appointments"] == []
    assert_problem(
        await client.post(f"/api/v1/service-points/{point_id}/closures", json={"date": saturday.isoformat(), "reason": "x"}, headers=supervisor),
        409,
        field="date",
    )
    assert (await client.get("/api/v1/service-points", params={"area": "36.74.02", "date": saturday.isoformat()})).json()["items"] == []
    patched = await client.patch(f"/api/v1/service-points/{point_id}", json={"counters": 4}, headers=supervisor)
    assert patched.status_code == 200 and patched.json()["counters"] == 4


async def test_weekend_event_assignment_conflict_over_http(client, session) -> None:
    saturday = next_saturday()
    first = (await make_event(session, area=await make_rw(session, kelurahan="36.74.01.1003"), day=saturday)).id
    second = (await make_event(session, area=await make_rw(session, kelurahan="36.74.01.1004"), day=saturday)).id
    device_id = (await make_device(session)).id
    supervisor = await headers_for(session, role=Role.supervisor, area="36.74.01")
    ok = await client.put(f"/api/v1/service-points/{first}/assignments", json={"device_ids": [device_id]}, headers=supervisor)
    assert ok.status_code == 200 and ok.json()["device_ids"] == [device_id]
    assert_problem(
        await client.put(f"/api/v1/service-points/{second}/assignments", json={"device_ids": [device_id]}, headers=supervisor), 409, field="device_ids.0"
    )
    assert_problem(await client.put(f"/api/v1/service-points/{second}/assignments", json={"device_ids": [99999999]}, headers=supervisor), 404)
    assert (await client.get(f"/api/v1/service-points/{second}/assignments", headers=supervisor)).json()["device_ids"] == []


async def test_a_supervisor_books_only_the_devices_and_operators_posted_in_their_area(client, session) -> None:
    """Issue 17, item 1: the Serpong supervisor booked kits and petugas posted in Pamulang for a Serpong event."""

    from tests.devices.factories import place_device, post_operator
    from tests.services.factories import make_operator

    event = (await make_event(session, area=await make_rw(session, kelurahan="36.74.01.1003"))).id
    theirs, ours = (await make_device(session)).id, (await make_device(session)).id
    await place_device(session, theirs, area="36.74.02", starts_on=calendar.today())  # an area, not a point: it was "free everywhere"
    await place_device(session, ours, area="36.74.01", starts_on=calendar.today())
    posted_there = (await make_operator(session)).id
    await post_operator(session, posted_there, area="36.74.02", starts_on=calendar.today())
    serpong = await headers_for(session, role=Role.supervisor, area="36.74.01")
    url = f"/api/v1/service-points/{event}/assignments"
    assert_problem(await client.put(url, json={"device_ids": [ours, theirs]}, headers=serpong), 403, field="device_ids.1")
    assert_problem(await client.put(url, json={"operator_ids": [posted_there]}, headers=serpong), 403, field="operator_ids.0")
    assert (await client.get(url, headers=serpong)).json()["device_ids"] == []
    assert (await client.put(url, json={"device_ids": [ours]}, headers=serpong)).status_code == 200
    admin = await headers_for(session, role=Role.admin)
    assert (await client.put(url, json={"device_ids": [ours, theirs]}, headers=admin)).status_code == 200
    # Keeping what an admin booked is not a new booking: the supervisor may still edit the rest.
    kept = await client.put(url, json={"device_ids": [theirs]}, headers=serpong)
    assert kept.status_code == 200 and kept.json()["device_ids"] == [theirs]


async def test_the_schedule_gives_each_point_its_places_address_and_coordinates(client, session) -> None:
    supervisor = await headers_for(session, role=Role.supervisor, area="36.74.02")
    payload = {
        "kind": "kelurahan_office",
        "name": "Kantor Kelurahan Uji",
        "area": "36.74.02.1001",
        "counters": 1,
        "opening_hours": {"sat": [["08:00", "12:00"]]},
        "address": "Jl. Uji 1",
        "latitude": -6.3,
        "longitude": 106.7,
    }
    created = await client.post("/api/v1/service-points", json=payload, headers=supervisor)
    assert created.status_code == 201, created.text
    saturday = next_saturday()
    schedule = (await client.get("/api/v1/schedule", params={"area": "36.74.02", "from": saturday.isoformat(), "to": saturday.isoformat()})).json()["items"]
    (point,) = schedule[0]["points"]
    assert (point["address"], point["latitude"], point["longitude"]) == ("Jl. Uji 1", -6.3, 106.7)
    assert set(point["places"]) == {"kecamatan", "kelurahan"} and all(point["places"].values())


async def test_an_events_operator_enters_the_days_count_and_sending_it_again_changes_nothing(client, session) -> None:
    """Issue #20: the count a weekend service's operator enters (from an outbox, maybe twice)."""
    campaign = await make_campaign(session)
    today = calendar.today()
    last_weekend_day = today if today.weekday() >= 5 else today - timedelta(days=today.weekday() + 1)  # Sunday before a weekday
    event = await make_event(session)
    event.event_date = last_weekend_day  # held already (the API plans events ahead only)
    await session.flush()
    operator = await headers_for(session, role=Role.operator, service_point_id=event.id)
    url = f"/api/v1/service-points/{event.id}/counts/{last_weekend_day.isoformat()}"

    for count in (45, 45, 52):
        answer = await client.put(url, json={"count": count}, headers=operator)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "campaign_id": campaign.id,
            "service_point_id": event.id,
            "area": event.area_code,
            "date": last_weekend_day.isoformat(),
            "count": count,
        }
    admin = await headers_for(session, role=Role.admin)
    stored = (await client.get(f"/api/v1/campaigns/{campaign.id}/tallies", params={"area": event.area_code}, headers=admin)).json()["items"]
    assert [(t["date"], t["count"], t["service_point"], t["source"]) for t in stored] == [(last_weekend_day.isoformat(), 52, event.id, "manual")]

    elsewhere = await headers_for(session, role=Role.operator)
    assert_problem(await client.put(url, json={"count": 1}, headers=elsewhere), 403)
    other_day = last_weekend_day - timedelta(days=7)
    wrong_day = await client.put(f"/api/v1/service-points/{event.id}/counts/{other_day.isoformat()}", json={"count": 1}, headers=operator)
    assert_problem(wrong_day, 422)
    tomorrow = today + timedelta(days=1)
    assert_problem(await client.put(f"/api/v1/service-points/{event.id}/counts/{tomorrow.isoformat()}", json={"count": 1}, headers=operator), 422)
    assert_problem(await client.put(url, json={"count": -1}, headers=operator), 422)


async def test_a_dry_run_lists_the_bookings_a_change_would_cancel_and_changes_nothing(client, session) -> None:
    """Issue 19: staff see the bookings a change cancels before they confirm it."""
    from api.principal import ANONYMOUS
    from api.queues import appointments
    from api.queues.schemas import BookingCreate
    from tests.services.factories import make_office

    office = await make_office(session, counters=2, service_minutes=30)
    tomorrow = calendar.today() + timedelta(days=1)
    booked = [(await appointments.book(session, point_id=office.id, data=BookingCreate(date=tomorrow, start="09:00"), actor=ANONYMOUS)).id for _ in range(2)]
    office_id = office.id
    admin = await headers_for(session, role=Role.admin)
    preview = await client.patch(f"/api/v1/service-points/{office.id}", params={"dry_run": "true"}, json={"counters": 1}, headers=admin)
    assert preview.status_code == 200, preview.text
    assert preview.json()["dry_run"] and preview.json()["counters"] == 1
    assert [a["id"] for a in preview.json()["cancelled_appointments"]] == [booked[1]]
    assert (await client.get(f"/api/v1/service-points/{office_id}")).json()["counters"] == 2
    closure = {"date": tomorrow.isoformat(), "reason": "Libur"}
    url = f"/api/v1/service-points/{office_id}/closures"
    looked = await client.post(url, params={"dry_run": "true"}, json=closure, headers=admin)
    assert looked.status_code == 200 and looked.json()["dry_run"]
    assert sorted(a["id"] for a in looked.json()["cancelled_appointments"]) == sorted(booked)
    assert (await client.get(url)).json()["items"] == []
    slot = next(s for s in await appointments.slots(session, point_id=office_id, day=tomorrow) if s["start"] == "09:00")
    assert slot["booked"] == 2
    done = await client.post(url, json=closure, headers=admin)
    assert done.status_code == 201 and not done.json()["dry_run"] and len(done.json()["cancelled_appointments"]) == 2
