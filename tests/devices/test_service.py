import itertools
import random
from datetime import date, timedelta
from fractions import Fraction

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from api import calendar, flows
from api.audit.models import AuditEntry
from api.campaigns import demo as campaigns_demo
from api.campaigns import service as campaigns
from api.campaigns.schemas import TargetIn
from api.devices import demo, service
from api.devices.models import Allocation, Device, DeviceKind, DeviceOwner, DeviceStatus, Operator, OperatorAssignment
from api.devices.planning import PlanProblem, PlanUnit
from api.devices.schemas import DeviceCreate, DeviceUpdate, PlacementCreate, PlanRequest
from api.errors import Conflict, Forbidden, RuleViolation
from api.pagination import PageParams
from api.principal import SYSTEM
from api.types import Role
from tests.devices.factories import make_device, make_operator, place_device, post_operator
from tests.factories import make_campaign, make_service_point, principal

TODAY = calendar.today()

# The state machine as the issue states it, written out independently of the code.
ALLOWED = {
    "active": {"faulty", "returned", "retired"},
    "faulty": {"active", "in_repair", "returned", "retired"},
    "in_repair": {"active", "returned", "retired"},
    "returned": set(),
    "retired": set(),
}
PATH_TO = {"active": [], "faulty": ["faulty"], "in_repair": ["faulty", "in_repair"], "returned": ["returned"], "retired": ["retired"]}


async def test_device_state_machine_every_pair(session) -> None:
    for start, targets in ALLOWED.items():
        for target in DeviceStatus:
            if target.value == start:
                continue
            device_id = await make_device(session, owner=DeviceOwner.loan)
            for step in PATH_TO[start]:
                await service.update_device(session, device_id=device_id, data=DeviceUpdate(status=step), actor=SYSTEM)
            if target.value in targets:
                read = await service.update_device(session, device_id=device_id, data=DeviceUpdate(status=target), actor=SYSTEM)
                assert read.status == target
            else:
                with pytest.raises(Conflict):
                    await service.update_device(session, device_id=device_id, data=DeviceUpdate(status=target), actor=SYSTEM)


async def test_only_a_loan_is_returned_and_loan_terms(session) -> None:
    owned = await make_device(session, owner=DeviceOwner.apbd)
    with pytest.raises(Conflict):
        await service.update_device(session, device_id=owned, data=DeviceUpdate(status="returned"), actor=SYSTEM)
    with pytest.raises(RuleViolation) as missing:
        await service.create_device(
            session, data=DeviceCreate(serial="L-1", kind="static", owner="loan", daily_capacity=80, return_due=date(2030, 1, 1)), actor=SYSTEM
        )
    assert [e["field"] for e in missing.value.errors] == ["lender"]
    with pytest.raises(RuleViolation) as refused:
        await service.create_device(
            session, data=DeviceCreate(serial="L-2", kind="static", owner="kemendagri", daily_capacity=80, return_due=date(2030, 1, 1)), actor=SYSTEM
        )
    assert [e["field"] for e in refused.value.errors] == ["return_due"]
    with pytest.raises(RuleViolation):
        await service.update_device(session, device_id=owned, data=DeviceUpdate(owner="loan"), actor=SYSTEM)


async def test_new_allocation_closes_the_open_one_and_overlaps_are_refused(session) -> None:
    device_id = await make_device(session)
    d0 = TODAY - timedelta(days=20)
    first = await place_device(session, device_id, area="36.74.01", starts_on=d0)
    second = await place_device(session, device_id, area="36.74.02", starts_on=d0 + timedelta(days=10))
    closed = await session.get(Allocation, first)
    assert closed.ends_on == d0 + timedelta(days=9)
    with pytest.raises(Conflict):  # before the open one's start
        await place_device(session, device_id, area="36.74.03", starts_on=d0 + timedelta(days=5))
    with pytest.raises(Conflict):  # inside the closed period
        await place_device(session, device_id, area="36.74.03", starts_on=d0 - timedelta(days=2), ends_on=d0 + timedelta(days=1))
    earlier = await place_device(session, device_id, area="36.74.03", starts_on=d0 - timedelta(days=5), ends_on=d0 - timedelta(days=1))
    history, _ = await service.device_history(session, device_id=device_id, page=PageParams(limit=10))
    assert [a.id for a in history] == [earlier, first, second]
    actions = (await session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "allocation").order_by(AuditEntry.id))).all()
    assert actions[-4:] == ["allocation.create", "allocation.close", "allocation.create", "allocation.create"]


async def test_the_database_refuses_overlaps_too(session) -> None:
    device_id = await make_device(session)
    await place_device(session, device_id, area="36.74.01", starts_on=TODAY)
    savepoint = await session.begin_nested()
    session.add(Allocation(device_id=device_id, area_code="36.74.02", starts_on=TODAY + timedelta(days=30), ends_on=TODAY + timedelta(days=31)))
    with pytest.raises(IntegrityError):
        await session.flush()
    await savepoint.rollback()
    operator_id = await make_operator(session)
    await post_operator(session, operator_id, area="36.74.01", starts_on=TODAY, ends_on=TODAY + timedelta(days=3))
    savepoint = await session.begin_nested()
    session.add(OperatorAssignment(operator_id=operator_id, area_code="36.74.02", starts_on=TODAY + timedelta(days=3)))
    with pytest.raises(IntegrityError):
        await session.flush()
    await savepoint.rollback()
    # Back to back is not an overlap.
    session.add(OperatorAssignment(operator_id=operator_id, area_code="36.74.02", starts_on=TODAY + timedelta(days=4)))
    await session.flush()


async def test_only_active_devices_are_allocated_and_final_states_leave_their_place(session) -> None:
    device_id = await make_device(session, owner=DeviceOwner.loan)
    await service.update_device(session, device_id=device_id, data=DeviceUpdate(status="faulty"), actor=SYSTEM)
    with pytest.raises(Conflict):
        await place_device(session, device_id, area="36.74.01", starts_on=TODAY)
    await service.update_device(session, device_id=device_id, data=DeviceUpdate(status="active"), actor=SYSTEM)
    current = await place_device(session, device_id, area="36.74.01", starts_on=TODAY - timedelta(days=3), ends_on=TODAY + timedelta(days=3))
    future = await place_device(session, device_id, area="36.74.02", starts_on=TODAY + timedelta(days=4))
    await service.update_device(session, device_id=device_id, data=DeviceUpdate(status="returned"), actor=SYSTEM)
    assert (await session.get(Allocation, current)).ends_on == TODAY - timedelta(days=1)
    assert await session.scalar(select(Allocation.id).where(Allocation.id == future)) is None
    with pytest.raises(Conflict):
        await place_device(session, device_id, area="36.74.01", starts_on=TODAY + timedelta(days=10))


async def test_supervisor_scope_for_moves_and_changes(session) -> None:
    device_id = await make_device(session)
    serpong = principal(Role.supervisor, area="36.74.01")
    with pytest.raises(Forbidden):  # placed nowhere: the city office places it first
        await service.allocate_device(session, device_id=device_id, data=PlacementCreate(area="36.74.01", starts_on=TODAY), actor=serpong)
    await place_device(session, device_id, area="36.74.01", starts_on=TODAY - timedelta(days=1))
    moved = await service.allocate_device(
        session, device_id=device_id, data=PlacementCreate(area="36.74.01.1001", starts_on=TODAY + timedelta(days=1)), actor=serpong
    )
    assert moved.area_code == "36.74.01.1001"
    with pytest.raises(Forbidden):
        await service.allocate_device(session, device_id=device_id, data=PlacementCreate(area="36.74.02", starts_on=TODAY + timedelta(days=5)), actor=serpong)
    with pytest.raises(Forbidden):
        await service.update_device(session, device_id=device_id, data=DeviceUpdate(daily_capacity=5), actor=serpong)
    read = await service.update_device(session, device_id=device_id, data=DeviceUpdate(status="faulty", notes="lensa retak"), actor=serpong)
    assert read.status == DeviceStatus.faulty
    with pytest.raises(Forbidden):
        await service.update_device(session, device_id=device_id, data=DeviceUpdate(notes="x"), actor=principal(Role.supervisor, area="36.74.07"))


async def test_change_operator_status_ends_postings_from_the_day(session) -> None:
    operator_id = await make_operator(session)
    running = await post_operator(session, operator_id, area="36.74.01", starts_on=TODAY - timedelta(days=10), ends_on=TODAY + timedelta(days=5))
    later = await post_operator(session, operator_id, area="36.74.02", starts_on=TODAY + timedelta(days=6))
    assert await service.is_operator_free(session, operator_id=operator_id, day=TODAY)
    await service.change_operator_status(
        session, operator_id=operator_id, status="suspended", effective_from=TODAY + timedelta(days=2), actor=SYSTEM, reason="pungli: complaint substantiated"
    )
    assert (await session.get(OperatorAssignment, running)).ends_on == TODAY + timedelta(days=1)
    assert await session.scalar(select(OperatorAssignment.id).where(OperatorAssignment.id == later)) is None
    assert not await service.is_operator_free(session, operator_id=operator_id, day=TODAY)
    with pytest.raises(Conflict):
        await post_operator(session, operator_id, area="36.74.03", starts_on=TODAY + timedelta(days=20))
    entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "operator.status", AuditEntry.entity_id == str(operator_id)))
    assert entry.after["reason"] == "pungli: complaint substantiated" and entry.before == {"status": "active"}
    await service.change_operator_status(session, operator_id=operator_id, status="left", effective_from=TODAY, actor=SYSTEM, reason=None)
    with pytest.raises(Conflict):
        await service.change_operator_status(session, operator_id=operator_id, status="active", effective_from=TODAY, actor=SYSTEM, reason=None)


async def test_is_device_free(session) -> None:
    point = (await make_service_point(session, area="36.74.01")).id
    at_point, with_team, loan = (
        await make_device(session),
        await make_device(session, kind=DeviceKind.mobile),
        await make_device(session, owner=DeviceOwner.loan, return_due=TODAY + timedelta(days=3)),
    )
    await place_device(session, at_point, service_point=point, starts_on=TODAY, ends_on=TODAY + timedelta(days=1))
    await place_device(session, with_team, area="36.74.01", starts_on=TODAY)
    assert not await service.is_device_free(session, device_id=at_point, day=TODAY)
    assert await service.is_device_free(session, device_id=at_point, day=TODAY + timedelta(days=2))
    assert await service.is_device_free(session, device_id=with_team, day=TODAY)
    assert await service.is_device_free(session, device_id=loan, day=TODAY + timedelta(days=3))
    assert not await service.is_device_free(session, device_id=loan, day=TODAY + timedelta(days=4))
    assert not await service.is_device_free(session, device_id=999_999, day=TODAY)
    await service.update_device(session, device_id=with_team, data=DeviceUpdate(status="faulty"), actor=SYSTEM)
    assert not await service.is_device_free(session, device_id=with_team, day=TODAY)


def test_service_days_and_projected_finish() -> None:
    friday = date(2026, 11, 27)
    assert friday.weekday() == 4
    assert calendar.service_days(friday + timedelta(days=1), friday + timedelta(days=7), weekends=True) == 7
    assert calendar.service_days(friday + timedelta(days=1), friday + timedelta(days=7), weekends=False) == 5
    assert calendar.service_days(friday + timedelta(days=1), friday + timedelta(days=15), weekends=False) == 10  # to Saturday 12 December
    assert calendar.service_days(friday + timedelta(days=1), friday + timedelta(days=17), weekends=False) == 11
    assert calendar.service_days(friday + timedelta(days=1), friday, weekends=True) == 0
    assert calendar.nth_service_day(friday + timedelta(days=1), 5, weekends=False) == date(2026, 12, 4)
    assert calendar.nth_service_day(friday + timedelta(days=1), 6, weekends=False) == date(2026, 12, 7)
    assert calendar.nth_service_day(date(2026, 11, 29), 5, weekends=False) == date(2026, 12, 4)  # from the day after a Saturday
    for n in range(1, 30):  # the jump over whole weeks agrees with walking day by day
        day, left = friday, n
        while left:
            day += timedelta(days=1)
            left -= day.weekday() < 5
        assert calendar.nth_service_day(friday + timedelta(days=1), n, weekends=False) == day
    assert service.projected_finish(friday, 1000, 300, weekends=True) == friday + timedelta(days=4)
    assert service.projected_finish(friday, 0, 0, weekends=True) == friday
    assert service.projected_finish(friday, 10, 0, weekends=True) is None
    assert service.running_capacity([40, 80, 80], 2) == 160


# --- the plan: greedy against brute force ---------------------------------------------------


def _finish(remaining: int, capacity: int) -> Fraction | float:
    if remaining == 0:
        return Fraction(0)
    return float("inf") if capacity == 0 else Fraction(remaining, capacity)


def brute_force_latest(problem: PlanProblem) -> Fraction | float:
    """The best latest finish over every placement of the units and every spread of operators."""
    codes = list(problem.remaining)
    best: Fraction | float = float("inf")
    for where in itertools.product([None, *codes], repeat=len(problem.units)):
        devices = {k: list(problem.fixed.get(k, [])) for k in codes}
        for unit, k in zip(problem.units, where, strict=True):
            if k is not None:
                devices[k].append(unit.capacity)
        for spread in itertools.product(*(range(len(devices[k]) + 1) for k in codes)):
            if sum(spread) > problem.operators:
                continue
            capacity = {k: sum(sorted(devices[k], reverse=True)[:n]) for k, n in zip(codes, spread, strict=True)}
            best = min(best, max(_finish(problem.remaining[k], capacity[k]) for k in codes))
    return best


def greedy_latest(problem: PlanProblem) -> Fraction | float:
    capacity = service.plan_greedy(problem).capacities(problem)
    return max(_finish(problem.remaining[k], capacity[k]) for k in problem.remaining)


def random_problem(rng: random.Random, capacities: list[int]) -> PlanProblem:
    codes = [f"36.74.0{i}" for i in range(1, rng.randint(1, 3) + 1)]
    units = [PlanUnit(index=i, capacity=rng.choice(capacities), home=rng.choice([None, *codes]), device_id=i + 1) for i in range(rng.randint(0, 4))]
    return PlanProblem(
        remaining={k: rng.choice([0, rng.randint(1, 2000)]) for k in codes},
        fixed={k: [rng.choice(capacities) for _ in range(rng.randint(0, 2))] for k in codes},
        units=units,
        operators=rng.randint(0, 6),
    )


def test_greedy_plan_is_optimal_on_small_cases_with_one_capacity() -> None:
    rng = random.Random(20261129)
    for _ in range(200):
        problem = random_problem(rng, [rng.choice([40, 80, 100])])
        assert greedy_latest(problem) == brute_force_latest(problem), problem


def test_greedy_plan_on_a_hand_computed_mixed_case() -> None:
    # Pondok Aren 6,000 left with one 80 set, Setu 400 left with an 80 set and a 40 kit, one more 80 set
    # movable from Setu; 3 operators. Best: both 80 sets in Pondok Aren (6000/160 = 37.5 days),
    # Setu keeps its kit (400/40 = 10 days).
    problem = PlanProblem(
        remaining={"36.74.03": 6000, "36.74.07": 400},
        fixed={"36.74.03": [80], "36.74.07": [40]},
        units=[PlanUnit(index=0, capacity=80, home="36.74.07", device_id=7)],
        operators=3,
    )
    solution = service.plan_greedy(problem)
    assert solution.placed == {0: "36.74.03"}
    assert solution.capacities(problem) == {"36.74.03": 160, "36.74.07": 40}
    assert greedy_latest(problem) == brute_force_latest(problem) == Fraction(6000, 160)


# --- capacity and the plan on data ---------------------------------------------------------


async def _two_kecamatan(session):
    """Serpong: 1,000 left, two 80 sets, two operators. Serpong Utara: 3,000 left, one set, one operator."""
    campaign = await make_campaign(session, target=4000, start=TODAY - timedelta(days=30), deadline=TODAY + timedelta(days=10))
    await campaigns.put_targets(
        session, campaign=campaign, items=[TargetIn(area="36.74.01", target=1000), TargetIn(area="36.74.02", target=3000)], actor=SYSTEM
    )
    since = TODAY - timedelta(days=5)
    devices = [await make_device(session) for _ in range(3)]
    operators = [await make_operator(session) for _ in range(3)]
    for device_id, operator_id, area in zip(devices, operators, ["36.74.01", "36.74.01", "36.74.02"], strict=True):
        await place_device(session, device_id, area=area, starts_on=since)
        await post_operator(session, operator_id, area=area, starts_on=since)
    return campaign, devices, operators


async def test_capacity_hand_computed(session) -> None:
    campaign, _, _ = await _two_kecamatan(session)
    view = await flows.capacity(session, campaign=campaign, as_of=TODAY)
    rows = {k.code: k for k in view.kecamatan}
    assert view.service_days_left == 10 and len(rows) == 7
    serpong, utara = rows["36.74.01"], rows["36.74.02"]
    assert (serpong.remaining, serpong.capacity_per_day, serpong.required_per_day, serpong.feasible, serpong.slack_per_day) == (1000, 160, 100, True, 60)
    assert serpong.projected_finish == TODAY + timedelta(days=7)  # ceil(1000 / 160)
    assert (utara.remaining, utara.capacity_per_day, utara.required_per_day, utara.feasible, utara.shortfall_per_day) == (3000, 80, 300, False, 220)
    assert utara.projected_finish == TODAY + timedelta(days=38)  # ceil(3000 / 80)
    assert rows["36.74.07"].remaining == 0 and rows["36.74.07"].feasible


async def test_plan_hand_computed(session) -> None:
    campaign, devices, operators = await _two_kecamatan(session)
    proposed = await flows.plan(session, campaign=campaign, request=PlanRequest(as_of=TODAY))
    # Three 80 sets, 1,000 and 3,000 left: 1 + 2 gives max(12.5, 18.75) days; 2 + 1 gives 37.5.
    assert [(m.kind, m.id, m.from_.area if m.from_ else None, m.to.area) for m in proposed.moves] == [
        ("device", devices[1], "36.74.01", "36.74.02"),
        ("operator", operators[1], "36.74.01", "36.74.02"),
    ]
    rows = {k.code: k for k in proposed.kecamatan}
    assert (rows["36.74.01"].capacity_after, rows["36.74.02"].capacity_after) == (80, 160)
    assert rows["36.74.02"].finish_before == TODAY + timedelta(days=38) and rows["36.74.02"].finish_after == TODAY + timedelta(days=19)
    assert proposed.latest_finish_before == TODAY + timedelta(days=38) and proposed.latest_finish_after == TODAY + timedelta(days=19)
    again = await flows.plan(session, campaign=campaign, request=PlanRequest(as_of=TODAY))
    assert again == proposed
    # Only Serpong Utara's own device may move: nothing better to do.
    assert (await flows.plan(session, campaign=campaign, request=PlanRequest(as_of=TODAY, movable=[devices[2]]))).moves == []
    # One more 80 set and an operator the city could add go to Serpong Utara as well.
    more = await flows.plan(session, campaign=campaign, request=PlanRequest(as_of=TODAY, extra_devices=[{"daily_capacity": 80}], extra_operators=1))
    assert {(m.kind, m.id is None, m.to.area) for m in more.moves} >= {("device", True, "36.74.02")}
    assert {k.code: k.capacity_after for k in more.kecamatan if k.remaining} == {"36.74.01": 80, "36.74.02": 240}
    with pytest.raises(RuleViolation):
        await flows.plan(session, campaign=campaign, request=PlanRequest(movable=[999_999]))


async def test_apply_creates_the_moves_in_one_go(session) -> None:
    campaign, devices, operators = await _two_kecamatan(session)
    applied = await flows.apply_plan(session, campaign=campaign, request=PlanRequest(as_of=TODAY), actor=SYSTEM)
    assert [a.device_id for a in applied.allocations] == [devices[1]] and [a.operator_id for a in applied.assignments] == [operators[1]]
    tomorrow = await service.summary(session, day=TODAY + timedelta(days=1), area="36.74")
    by_code = {k.code: k for k in tomorrow.kecamatan}
    assert (by_code["36.74.02"].devices, by_code["36.74.02"].operators, by_code["36.74.02"].capacity_per_day) == (2, 2, 160)
    today_view = await service.summary(session, day=TODAY, area="36.74.01")
    assert [(k.code, k.devices) for k in today_view.kecamatan] == [("36.74.01", 2)]
    # The plan for the next day is now the status quo.
    assert (await flows.plan(session, campaign=campaign, request=PlanRequest(as_of=TODAY + timedelta(days=1)))).moves == []


async def test_demo_fleet_capacity_and_plan(session) -> None:
    loaded = await campaigns_demo.load(session, today=TODAY)
    line = await demo.load(session, campaign=loaded.campaign)
    assert "38 devices" in line
    count = lambda *where: session.scalar(select(func.count()).select_from(Device).where(*where))  # noqa: E731
    assert await count() == 38
    assert await count(Device.owner == "apbd", Device.kind == "static") == 10
    assert await count(Device.owner == "apbd", Device.kind == "mobile") == 9
    assert await count(Device.owner == "kemendagri") == 15
    loans = (await session.scalars(select(Device).where(Device.owner == "loan"))).all()
    assert len(loans) == 4 and {(d.lender, d.return_due) for d in loans} == {("Pemerintah Kota Cilegon", loaded.campaign.deadline + timedelta(days=14))}
    added = await session.scalar(select(func.count()).select_from(Operator).where(Operator.added_for_campaign.is_(True)))
    assert added == 27
    view = await flows.capacity(session, campaign=loaded.campaign)
    short = {k.code for k in view.kecamatan if not k.feasible}
    assert "36.74.03" in short and "36.74.07" not in short
    proposed = await flows.plan(session, campaign=loaded.campaign, request=PlanRequest())
    assert proposed.latest_finish_after < proposed.latest_finish_before
    assert {m.to.area for m in proposed.moves if m.kind == "device"} <= short
    assert "36.74.03" in {m.to.area for m in proposed.moves}
    assert (await demo.load(session, campaign=loaded.campaign)).endswith("(0 records created)")
    assert await count() == 38


def test_greedy_plan_is_optimal_on_small_cases_with_static_and_mobile_capacities() -> None:
    rng = random.Random(7)
    for _ in range(200):
        problem = random_problem(rng, [40, 80])
        assert greedy_latest(problem) == brute_force_latest(problem), problem


def test_greedy_plan_with_three_capacities_is_nearly_always_optimal() -> None:
    # Mixed capacities make it a partition-like problem: the method is a heuristic there. Measured:
    # optimal on all but about 1 random case in 400, and then at most about a quarter later.
    rng = random.Random(11)
    misses = 0
    for _ in range(200):
        problem = random_problem(rng, [40, 80, 100])
        greedy, best = greedy_latest(problem), brute_force_latest(problem)
        if greedy != best:
            misses += 1
            assert greedy <= best * Fraction(3, 2), problem
    assert misses <= 4
