"""The allocation plan: where devices and operators should go so that the campaign finishes earliest.

Rules
- The allocation plan moves devices and operators so that the latest projected finish across
  kecamatan is as early as possible (see `plan_greedy` for the method). Devices move only when
  listed as movable (or "all" active ones); every active operator of the campaign's kecamatan,
  the unassigned ones and the extra ones may be posted where a device needs one. A static set
  goes to the kecamatan office, a mobile kit and an operator to the kecamatan. A plan that would
  make the latest finish later than today's placement is not proposed.
- Applying a plan recomputes it for the same request and creates its allocations and postings
  from the day after `as_of`, all in one transaction (by the rules of `placements`).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api import calendar, messages
from api.campaigns.models import Campaign
from api.devices.capacity import Remaining, capacity_state, projected_finish
from api.devices.fleet import allocate_device
from api.devices.models import Device, DeviceKind, DeviceStatus
from api.devices.operators import assign_operator
from api.devices.placements import PlacedDevice
from api.devices.schemas import AllocationRead, AssignmentRead, PlacementCreate, PlanApplied, PlanKecamatan, PlanMove, PlanPlace, PlanRead, PlanRequest
from api.errors import RuleViolation, field_problem
from api.principal import Principal
from api.services.models import ServicePoint, ServicePointKind

# Why a move helps, by what moves and whether it leaves a kecamatan: codes of api.messages.
REASON_CODES = {
    ("device", False): "plan.device",
    ("device", True): "plan.device_from",
    ("operator", False): "plan.operator",
    ("operator", True): "plan.operator_from",
}

PLAN_METHOD = (
    "Greedy bottleneck filling: every movable device and every operator is lifted; then, while an "
    "operator is left, the kecamatan projected to finish last gets the largest device it can use "
    "(one of its own idle devices first, else the largest movable or new one) and an operator. "
    "Exact when the devices have one daily capacity; a local search (moves into the kecamatan "
    "finishing last, swaps) follows for mixed capacities, where the method is a heuristic. A plan "
    "that would make the latest finish later than today's placement is not proposed."
)


@dataclass(frozen=True)
class PlanUnit:
    """A device the plan may place: a movable one (with its home kecamatan) or one the city adds."""

    index: int
    capacity: int
    home: str | None
    device_id: int | None = None


@dataclass
class PlanProblem:
    remaining: dict[str, int]
    fixed: dict[str, list[int]]  # capacities of the devices that stay in each kecamatan
    units: list[PlanUnit]
    operators: int  # operators the plan may post anywhere


@dataclass
class PlanSolution:
    operators: dict[str, int]  # operators posted in each kecamatan
    placed: dict[int, str]  # unit index -> kecamatan

    def devices(self, problem: PlanProblem, k: str) -> list[tuple[int, int | None]]:
        """(capacity, unit index or None for an own device), the order in which they are staffed."""
        own: list[tuple[int, int | None]] = [(c, None) for c in problem.fixed.get(k, [])]
        here: list[tuple[int, int | None]] = [(u.capacity, u.index) for u in problem.units if self.placed.get(u.index) == k]
        return sorted(own + here, key=lambda d: (-d[0], d[1] is not None, d[1] or 0))

    def running(self, problem: PlanProblem, k: str) -> list[tuple[int, int | None]]:
        return self.devices(problem, k)[: self.operators.get(k, 0)]

    def capacities(self, problem: PlanProblem) -> dict[str, int]:
        return {k: sum(c for c, _ in self.running(problem, k)) for k in problem.remaining}


def finish_key(remaining: int, capacity: int) -> tuple[int, Fraction]:
    """Orders projected finishes, later = larger: (never?, days of work)."""
    if remaining <= 0:
        return (0, Fraction(0))
    if capacity <= 0:
        return (1, Fraction(remaining))
    return (0, Fraction(remaining, capacity))


def latest_finish(remaining: dict[str, int], capacities: dict[str, int]) -> tuple[int, Fraction]:
    return max((finish_key(remaining[k], capacities.get(k, 0)) for k in remaining), default=(0, Fraction(0)))


def _lower_code_first(code: str) -> list[int]:
    return [-ord(ch) for ch in code]


def plan_greedy(problem: PlanProblem) -> PlanSolution:
    """Minimise the latest projected finish (remaining / capacity) over the kecamatan.

    1. Bottleneck filling. Every movable device and every operator is lifted. Each step improves
       the kecamatan that finishes last (ties: more remaining, then lower code) with the largest
       device it can still get: an idle device of its own (no move) before a movable or new
       device of the same capacity, and an operator. It stops when operators or devices run out.
       With devices of one capacity this is exact: while kecamatan k is the bottleneck at finish
       T, every plan that finishes before T must give k one more running device, and a device
       given to k now is never worse than the same device given later (exchange argument).
    2. With mixed capacities the largest-first order can go wrong (a 40 kit and an 80 set for a
       small kecamatan and one 80 set for a big one), so a local search follows: move a device
       and/or an operator into the kecamatan that finishes last, or swap a device there for a
       larger one, while that makes the sorted list of finishes (latest first) smaller. Every
       step makes it smaller, so it ends.
    Against brute force on small random cases: always optimal with one capacity and with the
    fleet's two (40 and 80); with three capacities optimal in all but about 1 case in 400, and
    then at most about a quarter later than the best (tests/devices/test_service.py).
    """
    idle = {k: sorted(problem.fixed.get(k, []), reverse=True) for k in problem.remaining}
    capacity = dict.fromkeys(problem.remaining, 0)
    posted = dict.fromkeys(problem.remaining, 0)
    pool = sorted(problem.units, key=lambda u: (-u.capacity, u.device_id is None, u.device_id or 0, u.index))
    placed: dict[int, str] = {}
    operators = problem.operators
    while operators > 0:
        candidates = [k for k in problem.remaining if problem.remaining[k] > 0 and (idle[k] or pool)]
        if not candidates:
            break
        k = max(candidates, key=lambda c: (finish_key(problem.remaining[c], capacity[c]), problem.remaining[c], _lower_code_first(c)))
        own = idle[k][0] if idle[k] else 0
        if own and (not pool or own >= pool[0].capacity):
            idle[k].pop(0)
            capacity[k] += own
        else:
            # Among the largest, prefer a device whose home is k: it does not have to move.
            best = next((u for u in pool if u.capacity == pool[0].capacity and u.home == k), pool[0])
            pool.remove(best)
            placed[best.index] = k
            capacity[k] += best.capacity
        posted[k] += 1
        operators -= 1
    improved = _improve(problem, PlanSolution(operators=posted, placed=placed), spare=operators)
    # A device placed where it would not run stays where it is.
    running = {index for k in problem.remaining for _, index in improved.running(problem, k) if index is not None}
    return PlanSolution(operators=improved.operators, placed={i: k for i, k in improved.placed.items() if i in running})


def _finishes(problem: PlanProblem, solution: PlanSolution) -> list[tuple[int, Fraction]]:
    capacity = solution.capacities(problem)
    return sorted((finish_key(problem.remaining[k], capacity[k]) for k in problem.remaining), reverse=True)


def _improve(problem: PlanProblem, solution: PlanSolution, *, spare: int, max_steps: int = 2_000) -> PlanSolution:
    """Local search after the greedy pass (see `plan_greedy`). `spare`: operators posted nowhere."""
    codes = sorted(problem.remaining)
    for _ in range(max_steps):
        current = _finishes(problem, solution)
        capacity = solution.capacities(problem)
        bottleneck = max(codes, key=lambda c: (finish_key(problem.remaining[c], capacity[c]), _lower_code_first(c)))
        best: tuple[list[tuple[int, Fraction]], PlanSolution, int] | None = None

        def consider(placed: dict[int, str], operator_from: str | None | Literal[False]) -> None:
            """`operator_from`: a kecamatan, None for a spare operator, False for no operator moving."""
            nonlocal best
            operators = dict(solution.operators)
            left = spare
            if operator_from is None:
                if spare <= 0:
                    return
                left -= 1
                operators[bottleneck] += 1
            elif operator_from:
                if operators[operator_from] <= 0:
                    return
                operators[operator_from] -= 1
                operators[bottleneck] += 1
            trial = PlanSolution(operators=operators, placed=placed)
            finishes = _finishes(problem, trial)
            if finishes < current and (best is None or finishes < best[0]):
                best = (finishes, trial, left)

        sources: list[str | None | Literal[False]] = [False, None, *(c for c in codes if c != bottleneck)]
        for source in sources[1:]:
            consider(solution.placed, source)
        for u in problem.units:
            if solution.placed.get(u.index) != bottleneck:
                for source in sources:
                    consider({**solution.placed, u.index: bottleneck}, source)
        for a in problem.units:
            if solution.placed.get(a.index) != bottleneck:
                continue
            for b in problem.units:
                if b.capacity > a.capacity and solution.placed.get(b.index) != bottleneck:
                    swapped = {i: k for i, k in solution.placed.items() if i != a.index}
                    if b.index in solution.placed:
                        swapped[a.index] = solution.placed[b.index]
                    swapped[b.index] = bottleneck
                    consider(swapped, False)
        if best is None:
            break
        _, solution, spare = best
    return solution


def current_solution(problem: PlanProblem, operators_at: dict[str, int]) -> PlanSolution:
    """Today's placement in the plan's terms: devices at home, operators where they are posted."""
    return PlanSolution(
        operators={k: operators_at.get(k, 0) for k in problem.remaining}, placed={u.index: u.home for u in problem.units if u.home in problem.remaining}
    )


async def _offices(session: AsyncSession, codes: Iterable[str]) -> dict[str, int]:
    """Each kecamatan's office (the first active kecamatan_office service point in it)."""
    rows = await session.execute(
        select(ServicePoint.area_code, ServicePoint.id)
        .where(ServicePoint.kind == ServicePointKind.kecamatan_office.value, ServicePoint.active.is_(True), ServicePoint.area_code.in_(list(codes)))
        .order_by(ServicePoint.id)
    )
    offices: dict[str, int] = {}
    for code, point_id in rows.all():
        offices.setdefault(code, point_id)
    return offices


async def plan(session: AsyncSession, *, campaign: Campaign, remaining: list[Remaining], request: PlanRequest) -> PlanRead:
    """Recommended moves of devices and operators; deterministic for the same data and request."""
    as_of = request.as_of or calendar.today(campaign.timezone)
    state = await capacity_state(session, campaign=campaign, remaining=remaining, as_of=as_of)
    codes = [u.code for u in state.units]
    names = {u.code: u.name for u in state.units}
    by_id: dict[int, tuple[PlacedDevice, str | None]] = {}
    for unit in state.units:
        for d in unit.devices:
            by_id[d.id] = (d, unit.code)
    for d in state.placements.unplaced_devices:
        by_id[d.id] = (d, None)
    if request.movable == "all":
        movable = sorted(i for i, (d, _) in by_id.items() if d.status == DeviceStatus.active.value)
    else:
        movable = sorted(set(request.movable))
        known = set((await session.scalars(select(Device.id).where(Device.id.in_(movable)))).all())
        errors = [field_problem("movable", code="plan.no_device", params={"id": i}) for i in movable if i not in known]
        for i in movable:
            if i in known:
                device = by_id.get(i, (state.placements.elsewhere_devices.get(i), None))[0]
                if device is None or device.status != DeviceStatus.active.value:
                    errors.append(field_problem("movable", code="plan.device_not_active", params={"id": i}))
                elif i not in by_id:
                    by_id[i] = (device, None)
        if errors:
            raise RuleViolation(code="plan.movable", errors=errors)
    movable_set = set(movable)
    fixed = {u.code: [d.capacity for d in u.devices if d.status == DeviceStatus.active.value and d.id not in movable_set] for u in state.units}
    units: list[PlanUnit] = [PlanUnit(index=n, capacity=by_id[i][0].capacity, home=by_id[i][1], device_id=i) for n, i in enumerate(movable)]
    new_devices: list[tuple[str, int]] = []
    for extra in request.extra_devices:
        for _ in range(extra.count):
            new_devices.append((extra.kind.value, extra.daily_capacity))
            units.append(PlanUnit(index=len(units), capacity=extra.daily_capacity, home=None))
    operators_at = {u.code: len(u.operator_ids) for u in state.units}
    problem = PlanProblem(
        remaining={u.code: u.remaining for u in state.units},
        fixed=fixed,
        units=units,
        operators=sum(operators_at.values()) + len(state.placements.unassigned_operators) + request.extra_operators,
    )
    before = current_solution(problem, operators_at)
    after = plan_greedy(problem)
    cap_before, cap_after = before.capacities(problem), after.capacities(problem)
    if latest_finish(problem.remaining, cap_after) > latest_finish(problem.remaining, cap_before):
        after, cap_after = before, cap_before
    weekends = campaign.opens_weekends
    finish_before = {k: projected_finish(as_of, problem.remaining[k], cap_before[k], weekends=weekends) for k in codes}
    finish_after = {k: projected_finish(as_of, problem.remaining[k], cap_after[k], weekends=weekends) for k in codes}
    offices = await _offices(session, codes)

    def place_in(k: str, kind: str) -> PlanPlace:
        # A static set stands at the kecamatan office; a mobile kit and an operator join the kecamatan's team.
        return PlanPlace(area=k, service_point_id=offices.get(k) if kind == DeviceKind.static.value else None)

    def reason(k: str, kind: str, source: str | None, adds: int = 0) -> tuple[str, dict[str, Any]]:
        """Why a move helps: a code of api.messages (`plan.<kind>`, `..._from` when it leaves a
        kecamatan) and its params; a finish that never comes is `never`."""
        params: dict[str, Any] = {
            "kecamatan": names[k],
            "finish_before": finish_before[k] or "never",
            "capacity_before": cap_before[k],
            "capacity_after": cap_after[k],
            "finish_after": finish_after[k] or "never",
        }
        if kind == "device":
            params["adds"] = adds
        if source:
            params |= {"source": names[source], "source_finish": finish_after[source] or "never"}
        return REASON_CODES[kind, source is not None], params

    def move(
        kind: Literal["device", "operator"], id_: int | None, label: tuple[str, dict[str, Any]], why: tuple[str, dict[str, Any]], **places: Any
    ) -> PlanMove:
        return PlanMove(
            kind=kind,
            id=id_,
            label=messages.render(*label, "en"),
            label_code=label[0],
            label_params=messages.json_params(label[1]),
            reason=messages.render(*why, "en"),
            reason_code=why[0],
            reason_params=messages.json_params(why[1]),
            **places,
        )

    # Worst first, so that the moves read in order of need.
    order = sorted(codes, key=lambda k: (finish_key(problem.remaining[k], cap_before[k]), problem.remaining[k]), reverse=True)
    moves: list[PlanMove] = []
    # Devices: per daily capacity, keep as many at home as the plan puts there; move the rest.
    moved_into: dict[str, int] = defaultdict(int)
    for cap in sorted({u.capacity for u in units}, reverse=True):
        same = [u for u in units if u.capacity == cap]
        target = {k: sum(1 for u in same if after.placed.get(u.index) == k) for k in codes}
        spare = []
        for u in same:
            if u.home is not None and target.get(u.home, 0) > 0:
                target[u.home] -= 1
            elif u.index in after.placed:
                spare.append(u)
        spare.sort(key=lambda u: (u.device_id is None, u.device_id or 0, u.index))
        for k in order:
            while target[k] > 0 and spare:
                u = spare.pop(0)
                target[k] -= 1
                moved_into[k] += 1
                if u.device_id is not None:
                    device = by_id[u.device_id][0]
                    kind, source = device.kind, u.home
                    label = ("plan.label.device", {"serial": device.serial, "kind": device.kind, "capacity": device.capacity})
                    from_place = PlanPlace(area=device.area_code, service_point_id=device.service_point_id) if device.area_code else None
                else:
                    kind, _ = new_devices[u.index - len(movable)]
                    label, source, from_place = ("plan.label.new_device", {"kind": kind, "capacity": cap}), None, None
                moves.append(move("device", u.device_id, label, reason(k, "device", source, cap), from_=from_place, to=place_in(k, kind)))
    # Operators: one per running device; stay where they are when possible.
    need = {k: len(after.running(problem, k)) for k in codes}
    posted = {u.code: list(u.operator_ids) for u in state.units}
    surplus = [(k, i) for k in sorted(codes, key=lambda k: (-(len(posted[k]) - need[k]), k)) for i in posted[k][need[k] :]]
    supply: list[tuple[str | None, int | None]] = [(None, i) for i in state.placements.unassigned_operators] + [(k, i) for k, i in surplus]
    supply += [(None, None)] * request.extra_operators
    for k in order:
        for _ in range(max(need[k] - len(posted[k]), 0)):
            if not supply:
                break
            source, operator_id = supply.pop(0)
            label = ("plan.label.operator", {"id": operator_id}) if operator_id else ("plan.label.new_operator", {})
            from_ = PlanPlace(area=source) if source else None
            moves.append(move("operator", operator_id, label, reason(k, "operator", source), from_=from_, to=place_in(k, "operator")))
    rows = [
        PlanKecamatan(
            code=k,
            name=names[k],
            remaining=problem.remaining[k],
            capacity_before=cap_before[k],
            capacity_after=cap_after[k],
            finish_before=finish_before[k],
            finish_after=finish_after[k],
            feasible_before=cap_before[k] * state.days_left >= problem.remaining[k],
            feasible_after=cap_after[k] * state.days_left >= problem.remaining[k],
        )
        for k in codes
    ]

    def latest(finishes: dict[str, date | None]) -> date | None:
        values = [finishes[k] for k in codes if problem.remaining[k] > 0]
        return None if any(v is None for v in values) else max(values, default=as_of)  # type: ignore[type-var]

    return PlanRead(
        campaign_id=campaign.id,
        as_of=as_of,
        deadline=campaign.deadline,
        moves=moves,
        kecamatan=rows,
        latest_finish_before=latest(finish_before),
        latest_finish_after=latest(finish_after),
        method=PLAN_METHOD,
    )


async def apply_plan(session: AsyncSession, *, campaign: Campaign, remaining: list[Remaining], request: PlanRequest, actor: Principal) -> PlanApplied:
    """Compute the plan for the same request and create its allocations and postings from the day
    after `as_of`, in this one transaction; moves of devices or operators the city would add are
    returned as not applied."""
    proposed = await plan(session, campaign=campaign, remaining=remaining, request=request)
    starts_on = proposed.as_of + timedelta(days=1)
    allocations, assignments, not_applied = [], [], []
    for move in proposed.moves:
        if move.id is None:
            not_applied.append(move)
            continue
        place = PlacementCreate(
            service_point=move.to.service_point_id,
            area=None if move.to.service_point_id else move.to.area,
            starts_on=starts_on,
            reason=f"allocation plan: {move.reason}"[:500],
        )
        if move.kind == "device":
            allocations.append(AllocationRead.model_validate(await allocate_device(session, device_id=move.id, data=place, actor=actor)))
        else:
            assignments.append(AssignmentRead.model_validate(await assign_operator(session, operator_id=move.id, data=place, actor=actor)))
    return PlanApplied(plan=proposed, allocations=allocations, assignments=assignments, not_applied=not_applied)
