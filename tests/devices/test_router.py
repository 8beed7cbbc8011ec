from datetime import timedelta

from sqlalchemy import func, select

from api import calendar
from api.audit.models import AuditEntry
from api.devices.models import DeviceOwner
from api.types import Role
from tests.devices.factories import make_device, make_operator, place_device, post_operator
from tests.factories import assert_problem, headers_for, make_campaign, make_service_point

TODAY = calendar.today()


async def _audit_count(session, action: str) -> int:
    return await session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


async def test_register_devices_and_loans(client, session) -> None:
    admin = await headers_for(session, role=Role.admin)
    ok = await client.post("/api/v1/devices", json={"serial": "APBD-S-99", "kind": "static", "owner": "apbd", "daily_capacity": 80}, headers=admin)
    assert ok.status_code == 201, ok.text
    assert ok.json()["status"] == "active" and ok.json()["placed"] is None and ok.json()["loan_overdue"] is False
    assert_problem(
        await client.post("/api/v1/devices", json={"serial": "APBD-S-99", "kind": "static", "owner": "apbd", "daily_capacity": 80}, headers=admin),
        409,
        field="serial",
    )
    assert_problem(
        await client.post("/api/v1/devices", json={"serial": "CLG-9", "kind": "static", "owner": "loan", "daily_capacity": 80}, headers=admin),
        422,
        field="lender",
    )
    assert_problem(
        await client.post(
            "/api/v1/devices", json={"serial": "X-1", "kind": "static", "owner": "apbd", "daily_capacity": 80, "lender": "Kota Cilegon"}, headers=admin
        ),
        422,
        field="lender",
    )
    assert_problem(
        await client.post("/api/v1/devices", json={"serial": "X-2", "kind": "laptop", "owner": "apbd", "daily_capacity": 80}, headers=admin), 422, field="kind"
    )
    assert_problem(
        await client.post("/api/v1/devices", json={"serial": "X-3", "kind": "static", "owner": "apbd", "daily_capacity": 0}, headers=admin),
        422,
        field="daily_capacity",
    )
    assert_problem(
        await client.post("/api/v1/devices", json={"serial": "X-4", "kind": "static", "owner": "apbd", "daily_capacity": 8, "colour": "red"}, headers=admin),
        422,
    )
    # Past its return date and not returned: flagged, and found by the filters.
    late = await client.post(
        "/api/v1/devices",
        json={
            "serial": "CLG-1",
            "kind": "static",
            "owner": "loan",
            "lender": "Pemerintah Kota Cilegon",
            "return_due": (TODAY - timedelta(days=1)).isoformat(),
            "daily_capacity": 80,
        },
        headers=admin,
    )
    late_id = late.json()["id"]
    assert late.json()["loan_overdue"] is True
    overdue = (await client.get("/api/v1/devices", params={"overdue": "true"}, headers=admin)).json()["items"]
    assert [d["id"] for d in overdue] == [late_id]
    due = (await client.get("/api/v1/devices", params={"loan_due_before": TODAY.isoformat(), "owner": "loan"}, headers=admin)).json()["items"]
    assert [d["id"] for d in due] == [late_id]
    returned = await client.patch(f"/api/v1/devices/{late_id}", json={"status": "returned"}, headers=admin)
    assert returned.json()["status"] == "returned" and returned.json()["loan_overdue"] is False
    assert_problem(await client.patch(f"/api/v1/devices/{late_id}", json={"status": "active"}, headers=admin), 409, field="status")
    assert await _audit_count(session, "device.create") >= 2 and await _audit_count(session, "device.update") >= 1


async def test_move_shows_in_where_is_it_history_and_summary(client, session) -> None:
    admin = await headers_for(session, role=Role.admin)
    device_id = await make_device(session)
    point = (await make_service_point(session, area="36.74.01", name="Kantor Kecamatan Serpong")).id
    await place_device(session, device_id, service_point=point, starts_on=TODAY - timedelta(days=10))
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    moved = await client.post(f"/api/v1/devices/{device_id}/allocations", json={"area": "36.74.02", "from": tomorrow}, headers=admin)
    assert moved.status_code == 201, moved.text
    assert moved.json()["from"] == tomorrow and moved.json()["to"] is None and moved.json()["area"] == "36.74.02"
    history = (await client.get(f"/api/v1/devices/{device_id}/allocations", headers=admin)).json()["items"]
    assert [(a["area"], a["to"]) for a in history] == [("36.74.01", TODAY.isoformat()), ("36.74.02", None)]
    today_here = (await client.get("/api/v1/allocations", params={"area": "36.74.01"}, headers=admin)).json()["items"]
    assert [(d["id"], d["placed"]["service_point_id"]) for d in today_here] == [(device_id, point)]
    there = (await client.get("/api/v1/allocations", params={"area": "36.74.02", "date": tomorrow}, headers=admin)).json()["items"]
    assert [d["id"] for d in there] == [device_id]
    assert (await client.get("/api/v1/allocations", params={"area": "36.74.01", "date": tomorrow}, headers=admin)).json()["items"] == []
    summary = (await client.get("/api/v1/allocations/summary", params={"date": tomorrow, "area": "36.74"}, headers=admin)).json()
    rows = {k["code"]: k for k in summary["kecamatan"]}
    assert len(rows) == 7 and rows["36.74.02"]["devices"] == 1 and rows["36.74.02"]["by_owner"] == {"apbd": 1} and rows["36.74.01"]["devices"] == 0
    # No operator in Serpong Utara yet: the device adds no capacity.
    assert rows["36.74.02"]["capacity_per_day"] == 0
    operator_id = await make_operator(session)
    await post_operator(session, operator_id, area="36.74.02", starts_on=TODAY)
    rows = {k["code"]: k for k in (await client.get("/api/v1/allocations/summary", params={"date": tomorrow}, headers=admin)).json()["kecamatan"]}
    assert rows["36.74.02"]["capacity_per_day"] == 80 and rows["36.74.02"]["operators"] == 1
    # Overlapping moves are refused, with problem+json naming the field.
    assert_problem(
        await client.post(f"/api/v1/devices/{device_id}/allocations", json={"area": "36.74.03", "from": TODAY.isoformat(), "to": tomorrow}, headers=admin),
        409,
        field="from",
    )
    assert_problem(
        await client.post(f"/api/v1/devices/{device_id}/allocations", json={"area": "36.74.03", "service_point_id": point, "from": tomorrow}, headers=admin),
        422,
        field="service_point_id",
    )
    assert_problem(await client.post(f"/api/v1/devices/{device_id}/allocations", json={"area": "36.74", "from": tomorrow}, headers=admin), 422, field="area")
    assert_problem(
        await client.post(f"/api/v1/devices/{device_id}/allocations", json={"area": "36.74.03", "from": tomorrow, "to": TODAY.isoformat()}, headers=admin),
        422,
        field="to",
    )
    assert_problem(
        await client.post(f"/api/v1/devices/{device_id}/allocations", json={"service_point_id": 999999, "from": tomorrow}, headers=admin),
        404,
        field="service_point_id",
    )
    assert_problem(await client.post("/api/v1/devices/999999/allocations", json={"area": "36.74.03", "from": tomorrow}, headers=admin), 404)
    serpong = await headers_for(session, role=Role.supervisor, area="36.74.01")
    assert_problem(
        await client.post(
            f"/api/v1/devices/{device_id}/allocations", json={"area": "36.74.01", "from": (TODAY + timedelta(days=5)).isoformat()}, headers=serpong
        ),
        403,
    )
    assert await _audit_count(session, "allocation.close") >= 1


async def test_operator_phone_is_masked_except_in_scope_and_audited(client, session) -> None:
    operator_id = await make_operator(session, phone="081234567890")
    await post_operator(session, operator_id, area="36.74.01", starts_on=TODAY - timedelta(days=1))
    admin = await headers_for(session, role=Role.admin)
    viewer = await headers_for(session, role=Role.viewer)
    serpong = await headers_for(session, role=Role.supervisor, area="36.74.01")
    setu = await headers_for(session, role=Role.supervisor, area="36.74.07")
    listed = (await client.get("/api/v1/operators", params={"area": "36.74.01"}, headers=admin)).json()["items"]
    assert [(o["id"], o["phone"]) for o in listed] == [(operator_id, "…7890")]
    before = await _audit_count(session, "operator.read_personal")
    assert (await client.get(f"/api/v1/operators/{operator_id}", headers=admin)).json()["phone"] == "081234567890"
    assert (await client.get(f"/api/v1/operators/{operator_id}", headers=serpong)).json()["phone"] == "081234567890"
    assert (await client.get(f"/api/v1/operators/{operator_id}", headers=viewer)).json()["phone"] == "…7890"
    assert (await client.get(f"/api/v1/operators/{operator_id}", headers=setu)).json()["phone"] == "…7890"
    assert await _audit_count(session, "operator.read_personal") - before == 2
    entries = (await session.scalars(select(AuditEntry).where(AuditEntry.entity == "operator", AuditEntry.entity_id == str(operator_id)))).all()
    assert all("081234567890" not in str(e.before) + str(e.after) for e in entries)
    # Suspension through PATCH ends the posting from today.
    suspended = await client.patch(f"/api/v1/operators/{operator_id}", json={"status": "suspended", "reason": "investigation"}, headers=serpong)
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended" and suspended.json()["assigned"] is None
    assert_problem(await client.patch(f"/api/v1/operators/{operator_id}", json={"name": "X"}, headers=setu), 403)
    assert_problem(await client.post(f"/api/v1/operators/{operator_id}/assignments", json={"area": "36.74.01", "from": TODAY.isoformat()}, headers=admin), 409)
    history = (await client.get(f"/api/v1/operators/{operator_id}/assignments", headers=viewer)).json()["items"]
    assert [a["to"] for a in history] == [(TODAY - timedelta(days=1)).isoformat()]


async def test_register_and_post_operators(client, session) -> None:
    admin = await headers_for(session, role=Role.admin)
    created = await client.post(
        "/api/v1/operators", json={"name": "Siti", "staff_number": "TS-01-900", "phone": "0812-1111-2222", "added_for_campaign": True}, headers=admin
    )
    assert created.status_code == 201 and created.json()["added_for_campaign"] is True
    operator_id = created.json()["id"]
    assert_problem(await client.post("/api/v1/operators", json={"name": "Budi", "staff_number": "TS-01-900"}, headers=admin), 409, field="staff_number")
    problem = assert_problem(
        await client.post("/api/v1/operators", json={"name": "Budi", "staff_number": "TS-01-901", "phone": "call me"}, headers=admin), 422, field="phone"
    )
    assert "call me" not in str(problem)
    posted = await client.post(f"/api/v1/operators/{operator_id}/assignments", json={"area": "36.74.03", "from": TODAY.isoformat()}, headers=admin)
    assert posted.status_code == 201 and posted.json()["operator_id"] == operator_id
    added = (await client.get("/api/v1/operators", params={"added_for_campaign": "true", "area": "36.74.03"}, headers=admin)).json()["items"]
    assert [o["id"] for o in added] == [operator_id] and added[0]["assigned"]["area"] == "36.74.03"


async def test_capacity_plan_and_apply_over_http(client, session) -> None:
    campaign_id = (await make_campaign(session, target=4000, deadline=TODAY + timedelta(days=10))).id
    admin = await headers_for(session, role=Role.admin)
    await client.put(
        f"/api/v1/campaigns/{campaign_id}/targets",
        json={"targets": [{"area": "36.74.01", "target": 1000}, {"area": "36.74.02", "target": 3000}]},
        headers=admin,
    )
    devices = [await make_device(session) for _ in range(3)]
    for device_id, area in zip(devices, ["36.74.01", "36.74.01", "36.74.02"], strict=True):
        await place_device(session, device_id, area=area, starts_on=TODAY - timedelta(days=3))
        await post_operator(session, await make_operator(session), area=area, starts_on=TODAY - timedelta(days=3))
    viewer = await headers_for(session, role=Role.viewer)
    capacity = (await client.get(f"/api/v1/campaigns/{campaign_id}/capacity", params={"date": TODAY.isoformat()}, headers=viewer)).json()
    rows = {k["code"]: k for k in capacity["kecamatan"]}
    assert rows["36.74.02"]["feasible"] is False and rows["36.74.02"]["shortfall_per_day"] == 220 and rows["36.74.01"]["slack_per_day"] == 60
    body = {"as_of": TODAY.isoformat(), "movable": "all"}
    planned = (await client.post(f"/api/v1/campaigns/{campaign_id}/allocation-plan", json=body, headers=viewer)).json()
    assert [(m["kind"], m["from"]["area"], m["to"]["area"]) for m in planned["moves"]] == [
        ("device", "36.74.01", "36.74.02"),
        ("operator", "36.74.01", "36.74.02"),
    ]
    assert_problem(await client.post(f"/api/v1/campaigns/{campaign_id}/allocation-plan/apply", json=body, headers=viewer), 403)
    assert_problem(
        await client.post(f"/api/v1/campaigns/{campaign_id}/allocation-plan", json={**body, "movable": [devices[0], 424242]}, headers=viewer),
        422,
        field="movable",
    )
    assert_problem(await client.post("/api/v1/campaigns/999999/allocation-plan", json=body, headers=viewer), 404)
    applied = await client.post(f"/api/v1/campaigns/{campaign_id}/allocation-plan/apply", json=body, headers=admin)
    assert applied.status_code == 200, applied.text
    assert [a["from"] for a in applied.json()["allocations"]] == [(TODAY + timedelta(days=1)).isoformat()]
    after = {
        k["code"]: k
        for k in (
            await client.get(f"/api/v1/campaigns/{campaign_id}/capacity", params={"date": (TODAY + timedelta(days=1)).isoformat()}, headers=viewer)
        ).json()["kecamatan"]
    }
    assert (after["36.74.01"]["capacity_per_day"], after["36.74.02"]["capacity_per_day"]) == (80, 160)


async def test_loan_overdue_filter_false_and_device_read(client, session) -> None:
    viewer = await headers_for(session, role=Role.viewer)
    loan = await make_device(session, owner=DeviceOwner.loan, return_due=TODAY + timedelta(days=30))
    read = (await client.get(f"/api/v1/devices/{loan}", headers=viewer)).json()
    assert read["lender"] == "Pemerintah Kota Cilegon" and read["loan_overdue"] is False
    not_overdue = {d["id"] for d in (await client.get("/api/v1/devices", params={"overdue": "false", "limit": 500}, headers=viewer)).json()["items"]}
    assert loan in not_overdue
    assert_problem(await client.get("/api/v1/devices", params={"area": "nope"}, headers=viewer), 422, field="area")
    assert_problem(await client.get("/api/v1/devices/999999", headers=viewer), 404)
    assert_problem(await client.get("/api/v1/devices"), 401)


async def test_operators_at_a_point_on_a_day_for_who_was_there(client, session) -> None:
    """Issue 19: a complaint handler picks among the operators at that point that day, not all of them."""
    from api.devices import service
    from api.devices.schemas import PlacementCreate
    from api.principal import SYSTEM
    from api.services import service as services
    from api.services.schemas import AssignmentsPut
    from tests.services.factories import make_event, make_office, make_rw, next_saturday

    office = (await make_office(session, area="36.74.01")).id
    day = calendar.today()
    posted, team, elsewhere, at_event = [await make_operator(session) for _ in range(4)]
    await service.assign_operator(session, operator_id=posted, data=PlacementCreate(service_point_id=office, starts_on=day), actor=SYSTEM)
    await post_operator(session, team, area="36.74.01", starts_on=day)  # the kecamatan's team: works at its office
    await post_operator(session, elsewhere, area="36.74.01.1001", starts_on=day)  # a kelurahan below: not at the office
    saturday = next_saturday()
    event = (await make_event(session, area=await make_rw(session, kelurahan="36.74.01.1003"), day=saturday)).id
    await services.set_assignments(session, point_id=event, data=AssignmentsPut(operator_ids=[at_event]), actor=SYSTEM)
    handler = await headers_for(session, role=Role.handler)

    async def ids(**params) -> list[int]:
        response = await client.get("/api/v1/operators", params=params, headers=handler)
        assert response.status_code == 200, response.text
        return [o["id"] for o in response.json()["items"]]

    assert await ids(service_point_id=office) == sorted([posted, team]) == await ids(service_point_id=office, date=day.isoformat())
    assert await ids(service_point_id=office, date=(day - timedelta(days=1)).isoformat()) == []
    assert await ids(service_point_id=event, date=saturday.isoformat()) == [at_event]
