"""The weekend-service planner: its ranking rule (api/services/planner.py) and its answer over HTTP."""

from datetime import date, timedelta

from api import calendar
from api.principal import SYSTEM
from api.services import planner, service
from api.services.schemas import AssignmentsPut
from api.types import Role
from tests.factories import assert_problem, headers_for, make_campaign
from tests.services.factories import make_device, make_event, make_operator, make_rw, next_saturday

SATURDAY = date(2026, 12, 12)


def unit(code: str = "36.74.01.1001.001", *, population: int = 1000, kelurahan_population: int = 10_000, remaining: int | None = 5000, last=None):
    return planner.Unit(
        code=code,
        name=code,
        population=population,
        kelurahan=code[:13],
        kelurahan_population=kelurahan_population,
        kelurahan_remaining=remaining,
        last_service_nearby=last,
    )


def test_still_to_record_is_the_kelurahans_remaining_shared_by_population() -> None:
    assert planner.still_to_record(unit(population=1000, kelurahan_population=10_000, remaining=5000)) == 500
    assert planner.still_to_record(unit(remaining=-30)) == 0  # recorded past the target
    assert planner.still_to_record(unit(remaining=None, population=1200)) == 1200  # no target: all of it
    assert planner.still_to_record(unit(population=1000, kelurahan_population=1000, remaining=9000)) == 1000  # never above the unit's population
    assert planner.still_to_record(unit(kelurahan_population=0)) == 0


def test_the_weight_grows_a_quarter_a_week_after_a_service_nearby() -> None:
    assert planner.weight(None, SATURDAY) == 1.0
    assert planner.weight(SATURDAY, SATURDAY) == 0.0
    assert planner.weight(SATURDAY - timedelta(days=6), SATURDAY) == 0.0
    assert planner.weight(SATURDAY - timedelta(days=14), SATURDAY) == 0.5
    assert planner.weight(SATURDAY - timedelta(days=70), SATURDAY) == 1.0


def test_rank_by_expected_yield_then_still_to_record_then_code() -> None:
    served = unit("36.74.01.1001.001", population=4000, last=SATURDAY - timedelta(days=7))  # 2000 x 0.25 = 500
    fresh = unit("36.74.01.1002.001", population=1000)  # 500 x 1
    bigger = unit("36.74.01.1003.001", population=1200)  # 600 x 1
    ranked = planner.rank([served, fresh, bigger], day=SATURDAY)
    assert [(r.unit.code, r.expected_yield) for r in ranked] == [("36.74.01.1003.001", 600), ("36.74.01.1001.001", 500), ("36.74.01.1002.001", 500)]
    assert planner.RULE.startswith("expected yield")


async def test_the_plan_over_http(client, session) -> None:
    await make_campaign(session)
    saturday = next_saturday()
    big = await make_rw(session, kelurahan="36.74.01.1001", population=3000)
    small = await make_rw(session, kelurahan="36.74.01.1001", population=1000)
    planned = await make_rw(session, kelurahan="36.74.01.1001", population=5000)
    event = (await make_event(session, area=planned, day=saturday)).id
    busy, free = (await make_device(session)).id, (await make_device(session)).id
    crew = (await make_operator(session)).id
    await service.set_assignments(session, point_id=event, data=AssignmentsPut(device_ids=[busy], operator_ids=[crew]), actor=SYSTEM)
    supervisor = await headers_for(session, role=Role.supervisor, area="36.74.01")
    answer = await client.get("/api/v1/weekend-events/plan", params={"date": saturday.isoformat()}, headers=supervisor)
    assert answer.status_code == 200, answer.text
    plan = answer.json()
    codes = [item["code"] for item in plan["items"]]
    # The RW with its own service that day is planned already; the service nearby weighs the others down to 0 that weekend.
    assert planned not in codes and {big, small} <= set(codes)
    mine = [item for item in plan["items"] if item["code"] in (big, small)]
    assert all(item["last_service_nearby"] == saturday.isoformat() and item["weight"] == 0 for item in mine)
    assert mine[0]["still_to_record"] >= mine[1]["still_to_record"] and mine[0]["code"] == big
    yields = [item["expected_yield"] for item in plan["items"]]
    assert yields == sorted(yields, reverse=True)
    devices = {d["id"] for d in plan["free_devices"]}
    assert free in devices and busy not in devices
    assert crew not in {o["id"] for o in plan["free_operators"]}
    # A week later the same kelurahan weighs a quarter.
    later = (await client.get("/api/v1/weekend-events/plan", params={"date": (saturday + timedelta(days=7)).isoformat()}, headers=supervisor)).json()
    assert {item["code"]: item["weight"] for item in later["items"]}[big] == 0.25
    friday = saturday - timedelta(days=1)
    assert_problem(await client.get("/api/v1/weekend-events/plan", params={"date": friday.isoformat()}, headers=supervisor), 422, field="date")
    assert_problem(await client.get("/api/v1/weekend-events/plan", params={"date": saturday.isoformat(), "area": "36.74.02"}, headers=supervisor), 403)
    admin = await headers_for(session, role=Role.admin)
    assert_problem(await client.get("/api/v1/weekend-events/plan", params={"date": saturday.isoformat()}, headers=admin), 422, field="area")
    assert calendar.today() <= saturday
