"""A mobile kit's operator account: its own stops of the kit's day plan, its own visits marked
visited or unreachable, nothing else; and the whole request, from the resident to progress."""

from datetime import timedelta

from sqlalchemy import select

from api import calendar
from api.audit.models import AuditEntry
from api.devices.models import Operator
from api.types import Role
from api.visits.models import HomeVisitEvent
from tests.factories import assert_problem, headers_for, make_campaign, make_service_point
from tests.visits.factories import CIATER, crew_headers, make_kit, make_operator, make_request, payload, schedule, triage

HOME_VISITS = "/api/v1/home-visits"


def track(code: str) -> str:
    return f"{HOME_VISITS}/track/{code}"


async def test_resident_dispatcher_and_kit_operator_carry_a_request_to_progress(client, session) -> None:
    """Issue 7, "Done when": submitted by the public, scheduled by the dispatcher, visited by the
    kit's operator, each step visible to the resident, the visit counted in the city's progress."""
    campaign_id = (await make_campaign(session)).id
    kit_id, petugas_id = (await make_kit(session)).id, (await make_operator(session)).id
    dispatcher = await headers_for(session, role=Role.supervisor, area="36.74.01")
    crew = await crew_headers(session, operator_id=petugas_id)
    await session.commit()
    day = calendar.today()

    created = await client.post(HOME_VISITS, json=payload(reason="sick"))
    assert created.status_code == 201, created.text
    code = created.json()["tracking_code"]
    seen = [(await client.get(track(code))).json()["status"]]

    visit_id = (await client.get(HOME_VISITS, headers=dispatcher, params={"status": "submitted"})).json()["items"][0]["id"]
    assert (await client.post(f"{HOME_VISITS}/{visit_id}/status", json={"status": "triaged"}, headers=dispatcher)).status_code == 200
    seen.append((await client.get(track(code))).json()["status"])
    plan = {"device_id": kit_id, "operator_id": petugas_id, "date": day.isoformat(), "window": {"start": "09:00", "end": "10:00"}}
    scheduled = await client.post(f"{HOME_VISITS}/{visit_id}/schedule", json=plan, headers=dispatcher)
    assert scheduled.status_code == 200, scheduled.text
    tracked = (await client.get(track(code))).json()
    seen.append(tracked["status"])
    assert (tracked["visit_date"], tracked["window_start"], tracked["window_end"]) == (day.isoformat(), "09:00", "10:00")

    # The kit's operator, signed in as themselves, finds their kit and the resident on its day plan.
    kits = (await client.get("/api/v1/mobile-kits/mine", params={"date": day.isoformat()}, headers=crew)).json()["items"]
    assert [(k["device_id"], k["stops"]) for k in kits] == [(kit_id, 1)]
    stops = (await client.get(f"/api/v1/mobile-kits/{kit_id}/day-plan", params={"date": day.isoformat()}, headers=crew)).json()["stops"]
    assert [(s["id"], s["operator_id"]) for s in stops] == [(visit_id, petugas_id)] and stops[0]["address"].startswith("Jl. Ciater")

    async def city() -> tuple[int, int]:
        total = (await client.get(f"/api/v1/campaigns/{campaign_id}/progress", params={"area": "36.74", "depth": 0})).json()["recorded"]
        daily = (
            await client.get(f"/api/v1/campaigns/{campaign_id}/progress/daily", params={"area": "36.74", "from": day.isoformat(), "to": day.isoformat()})
        ).json()
        return total, daily["days"][0]["recorded"]

    total_before, day_before = await city()
    visited = await client.post(f"{HOME_VISITS}/{visit_id}/status", json={"status": "visited", "note": "recorded at the bedside"}, headers=crew)
    assert visited.status_code == 200, visited.text
    seen.append((await client.get(track(code))).json()["status"])
    assert seen == ["submitted", "triaged", "scheduled", "visited"]

    assert await city() == (total_before + 1, day_before + 1)
    tallies = (
        await client.get(
            f"/api/v1/campaigns/{campaign_id}/tallies", params={"area": CIATER, "from": day.isoformat(), "to": day.isoformat()}, headers=dispatcher
        )
    ).json()["items"]
    assert [(t["area"], t["count"], t["source"], t["device"]) for t in tallies] == [(CIATER, 1, "home_visit", kit_id)]
    history = (await client.get(f"{HOME_VISITS}/{visit_id}", headers=dispatcher)).json()["history"]
    assert [(h["to_status"], h["note"]) for h in history][-1] == ("visited", "recorded at the bedside")


async def test_kit_operator_sees_and_marks_only_their_own_visits(client, session) -> None:
    await make_campaign(session)
    day = calendar.today()
    kit_id, other_kit_id = (await make_kit(session)).id, (await make_kit(session)).id
    mine_id, colleague_id = (await make_operator(session)).id, (await make_operator(session)).id
    own, theirs = (await make_request(session)).id, (await make_request(session, area="36.74.01.1002")).id
    for visit_id, petugas, start, end in ((own, mine_id, "09:00", "10:00"), (theirs, colleague_id, "10:00", "11:00")):
        await triage(session, visit_id)
        await schedule(session, visit_id, device_id=kit_id, operator_id=petugas, day=day, start=start, end=end, today=day)
    crew = await crew_headers(session, operator_id=mine_id)
    await session.commit()

    plan = (await client.get(f"/api/v1/mobile-kits/{kit_id}/day-plan", params={"date": day.isoformat()}, headers=crew)).json()
    # The colleague's resident stays private; the kit's load is not personal.
    assert [s["id"] for s in plan["stops"]] == [own] and plan["booked"] == 2
    reads = (await session.execute(select(AuditEntry.entity_id, AuditEntry.actor_name).where(AuditEntry.action == "home_visit.read_personal"))).all()
    assert [entity for entity, _ in reads] == [str(own)] and reads[0][1].startswith("crew")
    assert [(k["device_id"], k["stops"]) for k in (await client.get("/api/v1/mobile-kits/mine", headers=crew)).json()["items"]] == [(kit_id, 1)]
    assert (await client.get("/api/v1/mobile-kits/mine", params={"date": (day + timedelta(days=1)).isoformat()}, headers=crew)).json()["items"] == []
    for kit, on in ((other_kit_id, day), (kit_id, day + timedelta(days=1))):
        assert_problem(await client.get(f"/api/v1/mobile-kits/{kit}/day-plan", params={"date": on.isoformat()}, headers=crew), 403)

    status = f"{HOME_VISITS}/{{}}/status"
    assert_problem(await client.post(status.format(theirs), json={"status": "visited"}, headers=crew), 404)
    for move in ("cancelled", "triaged"):
        assert_problem(await client.post(status.format(own), json={"status": move}, headers=crew), 403)
    assert_problem(await client.post(status.format(own), json={"status": "scheduled"}, headers=crew), 422, field="status")
    assert_problem(await client.get(f"{HOME_VISITS}/{own}", headers=crew), 403)
    assert_problem(await client.get(HOME_VISITS, headers=crew), 403)
    assert_problem(
        await client.post(
            f"{HOME_VISITS}/{own}/schedule",
            json={"device_id": kit_id, "operator_id": mine_id, "date": day.isoformat(), "window": {"start": "12:00", "end": "13:00"}},
            headers=crew,
        ),
        403,
    )

    marked = await client.post(status.format(own), json={"status": "unreachable", "note": "nobody home, neighbours say in hospital"}, headers=crew)
    assert marked.status_code == 200 and marked.json()["status"] == "unreachable"
    assert_problem(await client.post(status.format(own), json={"status": "visited"}, headers=crew), 409)
    event = await session.scalar(select(HomeVisitEvent).where(HomeVisitEvent.home_visit_id == own).order_by(HomeVisitEvent.id.desc()).limit(1))
    assert (
        event is not None
        and (event.to_status, event.note) == ("unreachable", "nobody home, neighbours say in hospital")
        and event.actor_name.startswith("crew")
    )
    change = await session.scalar(select(AuditEntry).where(AuditEntry.action == "home_visit.unreachable", AuditEntry.entity_id == str(own)))
    assert change is not None and change.actor_kind == "user" and change.before["status"] == "scheduled" and change.after["status"] == "unreachable"


async def test_operator_accounts_that_are_not_the_active_petugas_cannot_act(client, session) -> None:
    await make_campaign(session)
    day = calendar.today()
    kit_id, petugas_id, relief_id = (await make_kit(session)).id, (await make_operator(session)).id, (await make_operator(session)).id
    visit_id = (await make_request(session)).id
    await triage(session, visit_id)
    await schedule(session, visit_id, device_id=kit_id, operator_id=petugas_id, day=day, today=day)
    counter = await headers_for(session, role=Role.operator, service_point_id=(await make_service_point(session)).id)
    crew = await crew_headers(session, operator_id=petugas_id)
    admin = await headers_for(session, role=Role.admin)
    await session.commit()
    plan_url, status_url = f"/api/v1/mobile-kits/{kit_id}/day-plan", f"{HOME_VISITS}/{visit_id}/status"

    # A counter account is nobody's petugas.
    assert_problem(await client.get(plan_url, params={"date": day.isoformat()}, headers=counter), 403)
    assert_problem(await client.post(status_url, json={"status": "visited"}, headers=counter), 403)
    assert_problem(await client.get("/api/v1/mobile-kits/mine", headers=counter), 403)
    # Moved to a relief operator: the first one no longer has it.
    moved = {"device_id": kit_id, "operator_id": relief_id, "date": day.isoformat(), "window": {"start": "11:00", "end": "12:00"}}
    assert (await client.post(f"{HOME_VISITS}/{visit_id}/schedule", json=moved, headers=admin)).status_code == 200
    assert_problem(await client.post(status_url, json={"status": "visited"}, headers=crew), 404)
    assert_problem(await client.get(plan_url, params={"date": day.isoformat()}, headers=crew), 403)
    # Back to them, but suspended (say, after a fee complaint): the account cannot act for the petugas.
    moved["operator_id"] = petugas_id
    assert (await client.post(f"{HOME_VISITS}/{visit_id}/schedule", json=moved, headers=admin)).status_code == 200
    petugas = await session.get(Operator, petugas_id)
    assert petugas is not None
    petugas.status = "suspended"
    await session.commit()
    body = assert_problem(await client.post(status_url, json={"status": "visited"}, headers=crew), 403)
    assert body["code"] == "crew.not_active" and body["params"] == {"status": "suspended"} and "diskors" in body["detail"]
