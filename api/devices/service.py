"""Devices, loans, operators, where they are, and where they should go.

Rules
- A device has a unique serial, a kind (static, mobile), an owner (kemendagri, apbd, loan) and a
  daily capacity (recordings per day with an operator on duty). A loan names its lender and its
  return date; a device that is not a loan has neither.
- Device status follows a state machine: active ⇄ faulty → in_repair → active; `returned` (loans
  only) and `retired` are final and reachable from any other state. Any other move is a 409.
  A loan whose return date has passed and that is not returned is flagged `loan_overdue`.
- A device is in one place at a time: an allocation to a service point or to an area (a
  kecamatan, or a mobile team's area below it) from a day to a day (inclusive) or until further
  notice. A new allocation closes the device's open one the day before it starts; any other
  overlap is refused (409), by the service and by the database (an exclusion constraint on
  PostgreSQL, triggers on SQLite), so two concurrent moves of one device cannot both win.
  Only an active device can be allocated (not a faulty, in-repair, returned or retired one).
  A returned or retired device leaves its place from the day it changes status.
- Operators (petugas): name, unique staff number, phone (personal data: masked as "…1234" in
  lists; in full only in the single-record read for admin and for a supervisor in whose area the
  operator is posted, and each such read is audited), status (active, suspended, left; `left` is
  final) and whether they were added for this campaign. Operators are posted (assigned) to a
  service point or a kecamatan with dates, one place at a time, by the same rules as devices;
  only an active operator can be posted. Suspension or leaving ends the operator's postings from
  the day it takes effect (`change_operator_status`, also used by the complaints domain).
- Scope: the city office (admin) registers devices and operators and places anything anywhere;
  a supervisor moves devices and operators only between places inside their area, and changes
  only the status and notes of a device (or the details of an operator) placed in their area.
- A device records only with an operator: the capacity of a kecamatan on a day is the daily
  capacity of its active devices that have an operator on duty there (one operator per device,
  the largest devices staffed first; an operator can run any device of their kecamatan).
- Capacity view per kecamatan: remaining = target - recorded (campaign progress); service days
  left = days after `as_of` up to the deadline, Saturdays and Sundays included when the campaign
  opens on weekends (public holidays are not modelled); required per day = remaining / days left,
  rounded up; feasible when capacity × days left covers the remaining. `as_of` picks the day
  whose placements count and from which days are counted; the remaining is the latest progress.
- The allocation plan moves devices and operators so that the latest projected finish across
  kecamatan is as early as possible (see `plan_greedy` for the method). Devices move only when
  listed as movable (or "all" active ones); every active operator of the campaign's kecamatan,
  the unassigned ones and the extra ones may be posted where a device needs one. A static set
  goes to the kecamatan office, a mobile kit and an operator to the kecamatan. Applying a plan
  recomputes it for the same request and creates its allocations and postings from the day
  after `as_of`, all in one transaction.
- `is_device_free` / `is_operator_free`: used by other domains to refuse double booking; the
  other way round, a device or operator booked for a weekend service or home visits on a day is
  not placed at a service point over that day (409).
- Every change is audited, one entry per change.
"""

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.areas import service as areas
from api.areas.models import Area, AreaLevel
from api.audit import service as audit
from api.auth.models import Role
from api.auth.policy import Principal, ensure_area
from api.campaigns import service as campaigns
from api.campaigns.models import Campaign
from api.campaigns.schemas import ProgressNode
from api.devices.models import (
    Allocation,
    Device,
    DeviceKind,
    DeviceOwner,
    DeviceStatus,
    Operator,
    OperatorAssignment,
    OperatorStatus,
)
from api.devices.schemas import (
    AllocationRead,
    AllocationSummary,
    AssignmentRead,
    CapacityRead,
    DeviceCreate,
    DeviceRead,
    DeviceUpdate,
    KecamatanCapacity,
    KecamatanSummary,
    OperatorCreate,
    OperatorRead,
    OperatorUpdate,
    PlacementCreate,
    PlanApplied,
    PlanKecamatan,
    PlanMove,
    PlanPlace,
    PlanRead,
    PlanRequest,
)
from api.errors import Conflict, Forbidden, NotFound, RuleViolation
from api.pagination import PageParams, paginate
from api.services.models import ServicePoint, ServicePointKind

JAKARTA = ZoneInfo("Asia/Jakarta")
KECAMATAN_DEPTH = 3  # 36.74.01
DEVICE_FIELDS = ["serial", "kind", "owner", "lender", "return_due", "status", "daily_capacity", "notes"]
OPERATOR_FIELDS = ["name", "staff_number", "phone", "status", "added_for_campaign"]
PLACE_FIELDS = ["service_point_id", "area_code", "starts_on", "ends_on", "reason"]

# The device state machine; `returned` additionally requires a loan.
FINAL_DEVICE_STATES = frozenset({DeviceStatus.returned, DeviceStatus.retired})
DEVICE_TRANSITIONS: dict[DeviceStatus, frozenset[DeviceStatus]] = {
    DeviceStatus.active: frozenset({DeviceStatus.faulty, *FINAL_DEVICE_STATES}),
    DeviceStatus.faulty: frozenset({DeviceStatus.active, DeviceStatus.in_repair, *FINAL_DEVICE_STATES}),
    DeviceStatus.in_repair: frozenset({DeviceStatus.active, *FINAL_DEVICE_STATES}),
    DeviceStatus.returned: frozenset(),
    DeviceStatus.retired: frozenset(),
}
OPERATOR_TRANSITIONS: dict[OperatorStatus, frozenset[OperatorStatus]] = {
    OperatorStatus.active: frozenset({OperatorStatus.suspended, OperatorStatus.left}),
    OperatorStatus.suspended: frozenset({OperatorStatus.active, OperatorStatus.left}),
    OperatorStatus.left: frozenset(),
}
# What a supervisor may change on a device placed in their area; the rest is the city office's.
SUPERVISOR_DEVICE_FIELDS = frozenset({"status", "notes"})


def today() -> date:
    return datetime.now(JAKARTA).date()


def kecamatan_of(code: str) -> str | None:
    """The kecamatan an area code lies in (itself when it is one), None above kecamatan level."""
    parts = code.split(".")
    return ".".join(parts[:KECAMATAN_DEPTH]) if len(parts) >= KECAMATAN_DEPTH and code != "0" else None


def _covering(model: type[Allocation] | type[OperatorAssignment], day: date) -> Any:
    return (model.starts_on <= day) & (or_(model.ends_on.is_(None), model.ends_on >= day))


# --- devices -------------------------------------------------------------------------------


def loan_overdue(device: Device, *, on: date) -> bool:
    return device.return_due is not None and device.return_due < on and device.status != DeviceStatus.returned.value


def _check_loan_terms(values: dict[str, Any]) -> None:
    is_loan = values["owner"] == DeviceOwner.loan.value
    errors = []
    for name in ("lender", "return_due"):
        if is_loan and values.get(name) is None:
            errors.append({"location": "body", "field": name, "message": "required for a loan"})
        if not is_loan and values.get(name) is not None:
            errors.append({"location": "body", "field": name, "message": "only a loan has one; send null"})
    if errors:
        raise RuleViolation("A loan names its lender and return date; other devices have neither.", errors=errors)


async def _ensure_serial_free(session: AsyncSession, serial: str, *, device_id: int | None = None) -> None:
    other = await session.scalar(select(Device.id).where(Device.serial == serial))
    if other is not None and other != device_id:
        raise Conflict(f"Another device has serial {serial}.", errors=[{"location": "body", "field": "serial", "message": "already registered"}])


async def _flush_or_conflict(session: AsyncSession, message: str) -> None:
    """Flush; a unique or one-place-at-a-time violation found by the database is a 409."""
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(message) from None


async def create_device(session: AsyncSession, *, data: DeviceCreate, actor: Principal) -> DeviceRead:
    values = data.model_dump()
    values["owner"] = data.owner.value
    _check_loan_terms(values)
    await _ensure_serial_free(session, data.serial)
    device = Device(**{**values, "kind": data.kind.value, "status": DeviceStatus.active.value})
    session.add(device)
    await _flush_or_conflict(session, f"Another device has serial {data.serial}.")
    await audit.record(session, actor=actor, action="device.create", entity="device", entity_id=device.id, after=audit.snapshot_of(device, DEVICE_FIELDS))
    return (await device_reads(session, [device], day=today()))[0]


async def get_device_row(session: AsyncSession, *, device_id: int) -> Device:
    device = await session.get(Device, device_id)
    if device is None:
        raise NotFound(f"There is no device {device_id}.")
    return device


async def get_device(session: AsyncSession, *, device_id: int) -> DeviceRead:
    device = await get_device_row(session, device_id=device_id)
    return (await device_reads(session, [device], day=today()))[0]


async def device_reads(session: AsyncSession, devices: Sequence[Device], *, day: date) -> list[DeviceRead]:
    """Devices with where each is on `day`, in one query for the whole page."""
    ids = [d.id for d in devices]
    placed = {}
    if ids:
        rows = await session.scalars(select(Allocation).where(Allocation.device_id.in_(ids), _covering(Allocation, day)))
        placed = {a.device_id: a for a in rows.all()}
    now = today()
    return [
        DeviceRead(
            id=d.id,
            **audit.snapshot_of(d, DEVICE_FIELDS),
            loan_overdue=loan_overdue(d, on=now),
            placed=AllocationRead.model_validate(placed[d.id]) if d.id in placed else None,
        )
        for d in devices
    ]


async def list_devices(
    session: AsyncSession,
    *,
    page: PageParams,
    day: date | None = None,
    kind: str | None = None,
    owner: str | None = None,
    status: str | None = None,
    area: str | None = None,
    loan_due_before: date | None = None,
    overdue: bool | None = None,
) -> tuple[list[DeviceRead], str | None]:
    """Devices, filtered; `area` keeps those allocated in that subtree on `day` (today by default)."""
    day = day or today()
    stmt = select(Device)
    if kind:
        stmt = stmt.where(Device.kind == kind)
    if owner:
        stmt = stmt.where(Device.owner == owner)
    if status:
        stmt = stmt.where(Device.status == status)
    if area:
        areas.require_code(area, location="query")
        here = select(Allocation.device_id).where(_covering(Allocation, day), areas.in_subtree(Allocation.area_code, area))
        stmt = stmt.where(Device.id.in_(here))
    if loan_due_before:
        stmt = stmt.where(Device.return_due < loan_due_before)
    if overdue is not None:
        late = (Device.return_due < today()) & (Device.status != DeviceStatus.returned.value)
        stmt = stmt.where(late if overdue else ~late | Device.return_due.is_(None))
    devices, next_cursor = await paginate(session, stmt, keys=[Device.id], page=page)
    return await device_reads(session, devices, day=day), next_cursor


async def _current_allocation(session: AsyncSession, device_id: int, day: date) -> Allocation | None:
    return await session.scalar(select(Allocation).where(Allocation.device_id == device_id, _covering(Allocation, day)))


async def update_device(session: AsyncSession, *, device_id: int, data: DeviceUpdate, actor: Principal) -> DeviceRead:
    device = await get_device_row(session, device_id=device_id)
    changes = data.model_dump(exclude_unset=True)
    now = today()
    if actor.role != Role.admin:
        others = sorted(set(changes) - SUPERVISOR_DEVICE_FIELDS)
        if others:
            raise Forbidden(
                "Only the city office changes a device's details; a supervisor changes its status and notes.",
                errors=[{"location": "body", "field": name, "message": "city office only"} for name in others],
            )
        here = await _current_allocation(session, device.id, now)
        if here is None or not actor.covers_area(here.area_code):
            raise Forbidden("This device is not placed in your area today.")
    before = audit.snapshot_of(device, DEVICE_FIELDS)
    values = {**before, **{k: (v.value if hasattr(v, "value") else v) for k, v in changes.items()}}
    for required in ("serial", "kind", "owner", "daily_capacity", "status"):
        if values[required] is None:
            raise RuleViolation.on_field(required, f"{required} cannot be empty.")
    _check_loan_terms(values)
    new_status = DeviceStatus(values["status"])
    old_status = DeviceStatus(device.status)
    if new_status != old_status:
        if new_status not in DEVICE_TRANSITIONS[old_status]:
            raise Conflict(
                f"A device cannot go from {old_status.value} to {new_status.value}.",
                errors=[{"location": "body", "field": "status", "message": f"not allowed from {old_status.value}"}],
            )
        if new_status == DeviceStatus.returned and values["owner"] != DeviceOwner.loan.value:
            raise Conflict("Only a loan can be returned; retire the device instead.", errors=[{"location": "body", "field": "status", "message": "only loans are returned"}])
    if values["serial"] != device.serial:
        await _ensure_serial_free(session, values["serial"], device_id=device.id)
    for name in DEVICE_FIELDS:
        setattr(device, name, values[name])
    await _flush_or_conflict(session, f"Another device has serial {values['serial']}.")
    after = audit.snapshot_of(device, DEVICE_FIELDS)
    if after != before:
        await audit.record(session, actor=actor, action="device.update", entity="device", entity_id=device.id, before=before, after=after)
    if new_status in FINAL_DEVICE_STATES and new_status != old_status:
        await _end_places(session, Allocation, Allocation.device_id, device.id, from_day=now, actor=actor, entity="allocation")
    return (await device_reads(session, [device], day=now))[0]


# --- places: allocations of devices, assignments of operators ------------------------------


async def _resolve_place(session: AsyncSession, data: PlacementCreate) -> tuple[int | None, str]:
    """(service point id, area code) of the place asked for, validated."""
    if (data.service_point is None) == (data.area is None):
        raise RuleViolation(
            "Give either a service point or an area.",
            errors=[{"location": "body", "field": "service_point", "message": "give service_point or area, not both"}],
        )
    if data.ends_on is not None and data.ends_on < data.starts_on:
        raise RuleViolation.on_field("to", "The last day cannot be before the first.")
    if data.service_point is not None:
        point = await session.get(ServicePoint, data.service_point)
        if point is None:
            raise NotFound(f"There is no service point {data.service_point}.", errors=[{"location": "body", "field": "service_point", "message": "unknown service point"}])
        if not point.active:
            raise RuleViolation.on_field("service_point", f"Service point {point.id} is closed.")
        return point.id, point.area_code
    assert data.area is not None
    area = await areas.get(session, code=data.area, field="area", location="body")
    if kecamatan_of(area.code) is None:
        raise RuleViolation.on_field("area", "Place it in a kecamatan or an area below one.")
    return None, area.code


async def _place(
    session: AsyncSession,
    *,
    model: type[Allocation] | type[OperatorAssignment],
    owner: Any,
    owner_id: int,
    data: PlacementCreate,
    actor: Principal,
    entity: str,
    what: str,
) -> Allocation | OperatorAssignment:
    """One place at a time: close the open period the day before, refuse any other overlap."""
    service_point_id, area_code = await _resolve_place(session, data)
    ensure_area(actor, area_code, field="service_point" if service_point_id else "area")
    open_period = await session.scalar(select(model).where(owner == owner_id, model.ends_on.is_(None)))
    leaving = open_period or await session.scalar(select(model).where(owner == owner_id, _covering(model, data.starts_on)))
    if leaving is not None:
        ensure_area(actor, leaving.area_code, field=what)
    elif actor.role != Role.admin:
        raise Forbidden(f"This {what} is placed nowhere; the city office places it first.")
    # A place from a day closes the open period that began earlier; an open period that begins
    # later is an ordinary overlap unless the new place ends before it.
    if open_period is not None and open_period.starts_on < data.starts_on:
        before = audit.snapshot_of(open_period, PLACE_FIELDS)
        open_period.ends_on = data.starts_on - timedelta(days=1)
        await _flush_or_conflict(session, f"The {what} was moved at the same time; try again.")
        await audit.record(session, actor=actor, action=f"{entity}.close", entity=entity, entity_id=open_period.id, before=before, after=audit.snapshot_of(open_period, PLACE_FIELDS))
    last = data.ends_on or date.max
    clash = await session.scalar(
        select(model).where(owner == owner_id, model.starts_on <= last, or_(model.ends_on.is_(None), model.ends_on >= data.starts_on)).order_by(model.starts_on).limit(1)
    )
    if clash is not None:
        until = clash.ends_on.isoformat() if clash.ends_on else "further notice"
        raise Conflict(
            f"The {what} is already placed from {clash.starts_on} to {until}; one place at a time.",
            errors=[{"location": "body", "field": "from", "message": "overlaps another period"}],
        )
    if service_point_id is not None:
        await _ensure_not_booked(session, who={owner.key: owner_id}, service_point_id=service_point_id, starts_on=data.starts_on, until=last, what=what)
    period = model(service_point_id=service_point_id, area_code=area_code, starts_on=data.starts_on, ends_on=data.ends_on, reason=data.reason)
    setattr(period, owner.key, owner_id)
    session.add(period)
    await _flush_or_conflict(session, f"The {what} was placed elsewhere for this period at the same time; one place at a time.")
    await audit.record(session, actor=actor, action=f"{entity}.create", entity=entity, entity_id=period.id, after={owner.key: owner_id, **audit.snapshot_of(period, PLACE_FIELDS)})
    return period


async def _ensure_not_booked(session: AsyncSession, *, who: dict[str, int], service_point_id: int, starts_on: date, until: date, what: str) -> None:
    """A device or operator booked for a weekend service or for home visits on a day cannot also stand
    at a service point that day: the same rule the bookings check through `is_device_free` and
    `is_operator_free`, asked the other way round."""
    # Both domains ask this module whether a device is free, so they are imported where needed.
    from api.services import service as services
    from api.visits import service as visits

    booked = [day for day, point in await services.event_days(session, from_day=starts_on, until=until, **who) if point != service_point_id]
    booked += await visits.visit_days(session, from_day=starts_on, until=until, **who)
    if booked:
        first = min(booked)
        raise Conflict(
            f"The {what} is booked for a weekend service or home visits on {first}; one place at a time.",
            errors=[{"location": "body", "field": "from", "message": f"booked elsewhere on {first}"}],
        )


async def _end_places(
    session: AsyncSession, model: type[Allocation] | type[OperatorAssignment], owner: Any, owner_id: int, *, from_day: date, actor: Principal, entity: str, reason: str | None = None
) -> None:
    """No place from `from_day` on: periods running then end the day before; later ones are cancelled."""
    rows = (await session.scalars(select(model).where(owner == owner_id, or_(model.ends_on.is_(None), model.ends_on >= from_day)))).all()
    for period in rows:
        before = audit.snapshot_of(period, PLACE_FIELDS)
        if period.starts_on >= from_day:
            await session.delete(period)
            await session.flush()
            await audit.record(session, actor=actor, action=f"{entity}.cancel", entity=entity, entity_id=period.id, before=before, after={"reason": reason})
        else:
            period.ends_on = from_day - timedelta(days=1)
            if reason:
                period.reason = reason[:500]
            await session.flush()
            await audit.record(session, actor=actor, action=f"{entity}.close", entity=entity, entity_id=period.id, before=before, after=audit.snapshot_of(period, PLACE_FIELDS))


async def allocate_device(session: AsyncSession, *, device_id: int, data: PlacementCreate, actor: Principal) -> Allocation:
    device = await get_device_row(session, device_id=device_id)
    if device.status != DeviceStatus.active.value:
        raise Conflict(f"A {device.status} device cannot be allocated; only an active one.", errors=[{"location": "path", "field": "device_id", "message": f"device is {device.status}"}])
    allocation = await _place(session, model=Allocation, owner=Allocation.device_id, owner_id=device.id, data=data, actor=actor, entity="allocation", what="device")
    assert isinstance(allocation, Allocation)
    return allocation


async def device_history(session: AsyncSession, *, device_id: int, page: PageParams) -> tuple[list[Allocation], str | None]:
    await get_device_row(session, device_id=device_id)
    stmt = select(Allocation).where(Allocation.device_id == device_id)
    return await paginate(session, stmt, keys=[Allocation.starts_on, Allocation.id], page=page)


# --- where everything is on a day ----------------------------------------------------------


@dataclass
class PlacedDevice:
    id: int
    serial: str
    kind: str
    owner: str
    status: str
    capacity: int
    area_code: str | None
    service_point_id: int | None


@dataclass
class Placements:
    """Devices and operators by kecamatan on one day, and those placed nowhere."""

    devices: dict[str, list[PlacedDevice]] = field(default_factory=lambda: defaultdict(list))
    operators: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    unplaced_devices: list[PlacedDevice] = field(default_factory=list)
    unassigned_operators: list[int] = field(default_factory=list)
    elsewhere_devices: dict[int, PlacedDevice] = field(default_factory=dict)


def running_capacity(capacities: Iterable[int], operators: int) -> int:
    """One operator per device, the largest devices staffed first."""
    return sum(sorted(capacities, reverse=True)[: max(operators, 0)])


async def placements_on(session: AsyncSession, *, day: date) -> Placements:
    result = Placements()
    rows = await session.execute(
        select(Device, Allocation.area_code, Allocation.service_point_id).outerjoin(Allocation, (Allocation.device_id == Device.id) & _covering(Allocation, day)).order_by(Device.id)
    )
    for device, area_code, point in rows.all():
        placed = PlacedDevice(device.id, device.serial, device.kind, device.owner, device.status, device.daily_capacity, area_code, point)
        kecamatan = kecamatan_of(area_code) if area_code else None
        if kecamatan:
            result.devices[kecamatan].append(placed)
        elif area_code is None and device.status == DeviceStatus.active.value:
            result.unplaced_devices.append(placed)
        elif area_code is not None:
            result.elsewhere_devices[device.id] = placed
    rows = await session.execute(
        select(Operator.id, OperatorAssignment.area_code)
        .outerjoin(OperatorAssignment, (OperatorAssignment.operator_id == Operator.id) & _covering(OperatorAssignment, day))
        .where(Operator.status == OperatorStatus.active.value)
        .order_by(Operator.id)
    )
    for operator_id, area_code in rows.all():
        kecamatan = kecamatan_of(area_code) if area_code else None
        if kecamatan:
            result.operators[kecamatan].append(operator_id)
        elif area_code is None:
            result.unassigned_operators.append(operator_id)
    return result


def _active_capacities(devices: list[PlacedDevice]) -> list[int]:
    return [d.capacity for d in devices if d.status == DeviceStatus.active.value]


async def _kecamatan_names(session: AsyncSession, codes: Iterable[str]) -> dict[str, str]:
    codes = list(codes)
    if not codes:
        return {}
    return dict((await session.execute(select(Area.code, Area.name).where(Area.code.in_(codes)))).all())


async def summary(session: AsyncSession, *, day: date | None = None, area: str | None = None) -> AllocationSummary:
    """Per kecamatan: devices by kind and owner, active devices, operators, capacity per day."""
    day = day or today()
    placements = await placements_on(session, day=day)
    # A kecamatan's row covers the whole kecamatan, also when `area` is a kelurahan inside it.
    codes = set(placements.devices) | set(placements.operators)
    if area:
        await areas.get(session, code=area, field="area", location="query")
        own = kecamatan_of(area)
        if own:
            codes = {own}
        else:
            inside = select(Area.code).where(areas.in_subtree(Area.code, area), Area.level == AreaLevel.kecamatan.value)
            codes = set((await session.scalars(inside)).all()) | {c for c in codes if areas.is_within(c, area)}
    names = await _kecamatan_names(session, codes)
    rows = []
    for code in sorted(codes):
        devices = placements.devices.get(code, [])
        by_kind: dict[str, int] = defaultdict(int)
        by_owner: dict[str, int] = defaultdict(int)
        for d in devices:
            by_kind[d.kind] += 1
            by_owner[d.owner] += 1
        active = _active_capacities(devices)
        operators = len(placements.operators.get(code, []))
        rows.append(
            KecamatanSummary(
                code=code, name=names.get(code, code), devices=len(devices), by_kind=dict(by_kind), by_owner=dict(by_owner),
                active_devices=len(active), operators=operators, capacity_per_day=running_capacity(active, operators),
            )
        )
    return AllocationSummary(date=day, kecamatan=rows, unplaced_devices=len(placements.unplaced_devices), unassigned_operators=len(placements.unassigned_operators))


async def is_device_free(session: AsyncSession, *, device_id: int, day: date) -> bool:
    """Whether a device can be booked for `day` (a home visit, a weekend event).

    Free means: it exists, is active, is not a loan already due back by then, and is not placed at
    a service point that day. An allocation to an area (a kecamatan, a mobile team's area) leaves
    the device at the disposal of that area's team, so it stays free; the caller checks its own
    bookings of the same day.
    """
    device = await session.get(Device, device_id)
    if device is None or device.status != DeviceStatus.active.value:
        return False
    if device.return_due is not None and device.return_due < day:
        return False
    at_point = await session.scalar(select(Allocation.id).where(Allocation.device_id == device_id, _covering(Allocation, day), Allocation.service_point_id.is_not(None)))
    return at_point is None


async def is_operator_free(session: AsyncSession, *, operator_id: int, day: date) -> bool:
    """Whether an operator can be booked for `day`: active and not posted at a service point that day
    (a posting to a kecamatan leaves them at that kecamatan's disposal, as for devices)."""
    operator = await session.get(Operator, operator_id)
    if operator is None or operator.status != OperatorStatus.active.value:
        return False
    at_point = await session.scalar(
        select(OperatorAssignment.id).where(OperatorAssignment.operator_id == operator_id, _covering(OperatorAssignment, day), OperatorAssignment.service_point_id.is_not(None))
    )
    return at_point is None


# --- operators -----------------------------------------------------------------------------


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = "".join(ch for ch in phone if ch.isdigit())
    return "…" + digits[-4:]


async def _ensure_staff_number_free(session: AsyncSession, staff_number: str, *, operator_id: int | None = None) -> None:
    other = await session.scalar(select(Operator.id).where(Operator.staff_number == staff_number))
    if other is not None and other != operator_id:
        raise Conflict("Another operator has this staff number.", errors=[{"location": "body", "field": "staff_number", "message": "already registered"}])


async def get_operator_row(session: AsyncSession, *, operator_id: int) -> Operator:
    operator = await session.get(Operator, operator_id)
    if operator is None:
        raise NotFound(f"There is no operator {operator_id}.")
    return operator


async def operator_reads(session: AsyncSession, operators: Sequence[Operator], *, day: date, full_phone_for: int | None = None) -> list[OperatorRead]:
    ids = [o.id for o in operators]
    posted = {}
    if ids:
        rows = await session.scalars(select(OperatorAssignment).where(OperatorAssignment.operator_id.in_(ids), _covering(OperatorAssignment, day)))
        posted = {a.operator_id: a for a in rows.all()}
    return [
        OperatorRead(
            id=o.id,
            name=o.name,
            staff_number=o.staff_number,
            phone=o.phone if o.id == full_phone_for else mask_phone(o.phone),
            status=OperatorStatus(o.status),
            added_for_campaign=o.added_for_campaign,
            assigned=AssignmentRead.model_validate(posted[o.id]) if o.id in posted else None,
        )
        for o in operators
    ]


async def create_operator(session: AsyncSession, *, data: OperatorCreate, actor: Principal) -> OperatorRead:
    await _ensure_staff_number_free(session, data.staff_number)
    operator = Operator(name=data.name, staff_number=data.staff_number, phone=data.phone, status=OperatorStatus.active.value, added_for_campaign=data.added_for_campaign)
    session.add(operator)
    await _flush_or_conflict(session, "Another operator has this staff number.")
    await audit.record(session, actor=actor, action="operator.create", entity="operator", entity_id=operator.id, after=audit.snapshot_of(operator, OPERATOR_FIELDS))
    return (await operator_reads(session, [operator], day=today(), full_phone_for=operator.id))[0]


async def list_operators(
    session: AsyncSession, *, page: PageParams, status: str | None = None, area: str | None = None, added_for_campaign: bool | None = None
) -> tuple[list[OperatorRead], str | None]:
    """Operators with masked phones; `area` keeps those posted in that subtree today."""
    day = today()
    stmt = select(Operator)
    if status:
        stmt = stmt.where(Operator.status == status)
    if added_for_campaign is not None:
        stmt = stmt.where(Operator.added_for_campaign.is_(added_for_campaign))
    if area:
        areas.require_code(area, location="query")
        here = select(OperatorAssignment.operator_id).where(_covering(OperatorAssignment, day), areas.in_subtree(OperatorAssignment.area_code, area))
        stmt = stmt.where(Operator.id.in_(here))
    operators, next_cursor = await paginate(session, stmt, keys=[Operator.id], page=page)
    return await operator_reads(session, operators, day=day), next_cursor


async def _operator_in_scope(session: AsyncSession, operator: Operator, actor: Principal) -> bool:
    if actor.role == Role.admin:
        return True
    if actor.role != Role.supervisor:
        return False
    posted = await session.scalar(select(OperatorAssignment.area_code).where(OperatorAssignment.operator_id == operator.id, _covering(OperatorAssignment, today())))
    return posted is not None and actor.covers_area(posted)


async def get_operator(session: AsyncSession, *, operator_id: int, actor: Principal) -> OperatorRead:
    """One operator; the phone in full for admin or a supervisor of the operator's area (audited)."""
    operator = await get_operator_row(session, operator_id=operator_id)
    full = operator.phone is not None and await _operator_in_scope(session, operator, actor)
    if full:
        await audit.record(session, actor=actor, action="operator.read_personal", entity="operator", entity_id=operator.id, after={"fields": ["phone"]})
    return (await operator_reads(session, [operator], day=today(), full_phone_for=operator.id if full else None))[0]


async def change_operator_status(
    session: AsyncSession, *, operator_id: int, status: OperatorStatus | str, effective_from: date, actor: Principal, reason: str | None
) -> Operator:
    """Suspend, reinstate or record that an operator left; suspension and leaving end the
    operator's postings from `effective_from` (periods running then end the day before, later
    ones are cancelled). Reinstating does not restore postings. The same status again only
    re-applies the end of postings. Used by the complaints domain for sanctions."""
    operator = await get_operator_row(session, operator_id=operator_id)
    new, old = OperatorStatus(status), OperatorStatus(operator.status)
    if new != old and new not in OPERATOR_TRANSITIONS[old]:
        raise Conflict(f"An operator cannot go from {old.value} to {new.value}.", errors=[{"location": "body", "field": "status", "message": f"not allowed from {old.value}"}])
    if new != old:
        before = audit.snapshot_of(operator, ["status"])
        operator.status = new.value
        await session.flush()
        await audit.record(
            session, actor=actor, action="operator.status", entity="operator", entity_id=operator.id,
            before=before, after={"status": new.value, "effective_from": effective_from, "reason": reason},
        )
    if new != OperatorStatus.active:
        await _end_places(session, OperatorAssignment, OperatorAssignment.operator_id, operator.id, from_day=effective_from, actor=actor, entity="assignment", reason=reason)
    return operator


async def update_operator(session: AsyncSession, *, operator_id: int, data: OperatorUpdate, actor: Principal) -> OperatorRead:
    operator = await get_operator_row(session, operator_id=operator_id)
    if not await _operator_in_scope(session, operator, actor):
        raise Forbidden("This operator is not posted in your area today.")
    changes = data.model_dump(exclude_unset=True)
    status, reason = changes.pop("status", None), changes.pop("reason", None)
    for required in ("name", "staff_number", "added_for_campaign"):
        if required in changes and changes[required] is None:
            raise RuleViolation.on_field(required, f"{required} cannot be empty.")
    if "staff_number" in changes:
        await _ensure_staff_number_free(session, changes["staff_number"], operator_id=operator.id)
    before = audit.snapshot_of(operator, OPERATOR_FIELDS)
    for name, value in changes.items():
        setattr(operator, name, value)
    await _flush_or_conflict(session, "Another operator has this staff number.")
    after = audit.snapshot_of(operator, OPERATOR_FIELDS)
    if after != before:
        await audit.record(session, actor=actor, action="operator.update", entity="operator", entity_id=operator.id, before=before, after=after)
    if status is not None:
        await change_operator_status(session, operator_id=operator.id, status=status, effective_from=today(), actor=actor, reason=reason)
    return (await operator_reads(session, [operator], day=today()))[0]


async def assign_operator(session: AsyncSession, *, operator_id: int, data: PlacementCreate, actor: Principal) -> OperatorAssignment:
    operator = await get_operator_row(session, operator_id=operator_id)
    if operator.status != OperatorStatus.active.value:
        raise Conflict(f"A {operator.status} operator cannot be posted; only an active one.", errors=[{"location": "path", "field": "operator_id", "message": f"operator is {operator.status}"}])
    assignment = await _place(session, model=OperatorAssignment, owner=OperatorAssignment.operator_id, owner_id=operator.id, data=data, actor=actor, entity="assignment", what="operator")
    assert isinstance(assignment, OperatorAssignment)
    return assignment


async def operator_history(session: AsyncSession, *, operator_id: int, page: PageParams) -> tuple[list[OperatorAssignment], str | None]:
    await get_operator_row(session, operator_id=operator_id)
    stmt = select(OperatorAssignment).where(OperatorAssignment.operator_id == operator_id)
    return await paginate(session, stmt, keys=[OperatorAssignment.starts_on, OperatorAssignment.id], page=page)


# --- capacity ------------------------------------------------------------------------------


def service_days(after: date, until: date, *, weekends: bool) -> int:
    """Service days from the day after `after` up to `until`, inclusive."""
    total = (until - after).days
    if total <= 0:
        return 0
    if weekends:
        return total
    weeks, rest = divmod(total, 7)
    start = after + timedelta(days=7 * weeks)
    return 5 * weeks + sum(1 for i in range(1, rest + 1) if (start + timedelta(days=i)).weekday() < 5)


MAX_FINISH_DAYS = 36_500  # beyond a century "never" is the honest answer


def nth_service_day(after: date, n: int, *, weekends: bool) -> date | None:
    """The n-th service day after `after` (n >= 1)."""
    if n > MAX_FINISH_DAYS:
        return None
    if weekends:
        return after + timedelta(days=n)
    # Any 7 consecutive days hold 5 weekdays: jump whole weeks, then walk at most 5 weekdays.
    weeks = (n - 1) // 5
    day, rest = after + timedelta(days=7 * weeks), n - 5 * weeks
    while rest:
        day += timedelta(days=1)
        rest -= day.weekday() < 5
    return day


def projected_finish(after: date, remaining: int, capacity: int, *, weekends: bool) -> date | None:
    """The last service day needed to record `remaining` at `capacity` a day; None if never."""
    if remaining <= 0:
        return after
    if capacity <= 0:
        return None
    return nth_service_day(after, math.ceil(remaining / capacity), weekends=weekends)


async def _kecamatan_progress(session: AsyncSession, campaign: Campaign) -> list[ProgressNode]:
    """The campaign's kecamatan (the root itself if it is one or lies below one), with remaining."""
    root = campaign.root_area_code
    depth = max(KECAMATAN_DEPTH - areas.depth_of(root), 0)
    tree = await campaigns.progress(session, campaign=campaign, area=root, depth=depth)
    found, stack = [], [tree]
    while stack:
        node = stack.pop()
        if node.level == AreaLevel.kecamatan or (depth == 0 and node.code == root):
            found.append(node)
        stack.extend(node.children)
    return sorted(found, key=lambda n: n.code)


def _unit_of(code: str, root: str) -> str | None:
    """The campaign unit (kecamatan) a placement counts for; a root below kecamatan is one unit."""
    if not areas.is_within(code, root):
        return root if areas.is_within(root, code) and areas.depth_of(root) > KECAMATAN_DEPTH else None
    return root if areas.depth_of(root) > KECAMATAN_DEPTH else kecamatan_of(code)


async def capacity(session: AsyncSession, *, campaign: Campaign, as_of: date | None = None) -> CapacityRead:
    as_of = as_of or campaigns.today_for(campaign)
    state = await _capacity_state(session, campaign=campaign, as_of=as_of)
    rows = []
    for unit in state.units:
        cap = running_capacity(unit.active_capacities, len(unit.operator_ids))
        days = state.days_left
        required = math.ceil(unit.remaining / days) if days > 0 else None
        feasible = unit.remaining == 0 or cap * days >= unit.remaining
        if required is None:
            shortfall, slack = (0 if unit.remaining == 0 else unit.remaining), (cap if unit.remaining == 0 else 0)
        else:
            shortfall, slack = max(required - cap, 0), max(cap - required, 0)
        rows.append(
            KecamatanCapacity(
                code=unit.code, name=unit.name, remaining=unit.remaining, service_days_left=days,
                active_devices=len(unit.active_capacities), operators=len(unit.operator_ids), capacity_per_day=cap,
                required_per_day=required, feasible=feasible, shortfall_per_day=shortfall, slack_per_day=slack,
                projected_finish=projected_finish(as_of, unit.remaining, cap, weekends=campaign.opens_weekends),
            )
        )
    return CapacityRead(campaign_id=campaign.id, as_of=as_of, deadline=campaign.deadline, service_days_left=state.days_left, kecamatan=rows)


@dataclass
class UnitState:
    code: str
    name: str
    remaining: int
    devices: list[PlacedDevice]
    operator_ids: list[int]

    @property
    def active_capacities(self) -> list[int]:
        return _active_capacities(self.devices)


@dataclass
class CapacityState:
    as_of: date
    days_left: int
    units: list[UnitState]
    placements: Placements


async def _capacity_state(session: AsyncSession, *, campaign: Campaign, as_of: date) -> CapacityState:
    nodes = await _kecamatan_progress(session, campaign)
    placements = await placements_on(session, day=as_of)
    root = campaign.root_area_code
    devices: dict[str, list[PlacedDevice]] = defaultdict(list)
    operators: dict[str, list[int]] = defaultdict(list)
    for kecamatan, placed in placements.devices.items():
        for device in placed:
            unit = _unit_of(device.area_code or kecamatan, root)
            if unit:
                devices[unit].append(device)
    for kecamatan, ids in placements.operators.items():
        unit = _unit_of(kecamatan, root)
        if unit:
            operators[unit].extend(ids)
    # A kecamatan without a target has nothing to record as far as this campaign knows.
    units = [UnitState(n.code, n.name, n.remaining or 0, devices.get(n.code, []), operators.get(n.code, [])) for n in nodes]
    return CapacityState(as_of, service_days(as_of, campaign.deadline, weekends=campaign.opens_weekends), units, placements)


# --- the allocation plan -------------------------------------------------------------------

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
        own = [(c, None) for c in problem.fixed.get(k, [])]
        here = [(u.capacity, u.index) for u in problem.units if self.placed.get(u.index) == k]
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

        def consider(placed: dict[int, str], operator_from: str | None | bool) -> None:
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

        sources: list[str | None | bool] = [False, None, *(c for c in codes if c != bottleneck)]
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
    return PlanSolution(operators={k: operators_at.get(k, 0) for k in problem.remaining}, placed={u.index: u.home for u in problem.units if u.home in problem.remaining})


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


async def plan(session: AsyncSession, *, campaign: Campaign, request: PlanRequest) -> PlanRead:
    """Recommended moves of devices and operators; deterministic for the same data and request."""
    as_of = request.as_of or campaigns.today_for(campaign)
    state = await _capacity_state(session, campaign=campaign, as_of=as_of)
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
        errors = [{"location": "body", "field": "movable", "message": f"no device {i}"} for i in movable if i not in known]
        for i in movable:
            if i in known:
                device = by_id.get(i, (state.placements.elsewhere_devices.get(i), None))[0]
                if device is None or device.status != DeviceStatus.active.value:
                    errors.append({"location": "body", "field": "movable", "message": f"device {i} is not active"})
                elif i not in by_id:
                    by_id[i] = (device, None)
        if errors:
            raise RuleViolation("Some movable devices cannot be planned.", errors=errors)
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

    def reason(k: str, added: str, source: str | None) -> str:
        text = (
            f"{names[k]} is projected to finish {finish_before[k] or 'never'} at {cap_before[k]}/day; "
            f"{added} (after the plan: {cap_after[k]}/day, finish {finish_after[k] or 'never'})"
        )
        if source:
            text += f"; {names[source]} then finishes {finish_after[source] or 'never'}"
        return text + "."

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
                    kind, label, source = device.kind, f"{device.serial} ({device.kind}, {device.capacity}/day)", u.home
                    from_place = PlanPlace(area=device.area_code, service_point_id=device.service_point_id) if device.area_code else None
                else:
                    kind, _ = new_devices[u.index - len(movable)]
                    label, source, from_place = f"new {kind} device ({cap}/day)", None, None
                moves.append(PlanMove(kind="device", id=u.device_id, label=label, from_=from_place, to=place_in(k, kind), reason=reason(k, f"this device adds {cap}/day", source)))
    # Operators: one per running device; stay where they are when possible.
    need = {k: len(after.running(problem, k)) for k in codes}
    posted = {u.code: list(u.operator_ids) for u in state.units}
    surplus = [(k, i) for k in sorted(codes, key=lambda k: (-(len(posted[k]) - need[k]), k)) for i in posted[k][need[k]:]]
    supply: list[tuple[str | None, int | None]] = [(None, i) for i in state.placements.unassigned_operators] + [(k, i) for k, i in surplus]
    supply += [(None, None)] * request.extra_operators
    for k in order:
        for _ in range(max(need[k] - len(posted[k]), 0)):
            if not supply:
                break
            source, operator_id = supply.pop(0)
            label = f"operator {operator_id}" if operator_id else "new operator"
            added = "this operator staffs a device that has none"
            moves.append(
                PlanMove(
                    kind="operator", id=operator_id, label=label, from_=PlanPlace(area=source) if source else None, to=place_in(k, "operator"),
                    reason=reason(k, added, source),
                )
            )
    rows = [
        PlanKecamatan(
            code=k, name=names[k], remaining=problem.remaining[k], capacity_before=cap_before[k], capacity_after=cap_after[k],
            finish_before=finish_before[k], finish_after=finish_after[k],
            feasible_before=cap_before[k] * state.days_left >= problem.remaining[k], feasible_after=cap_after[k] * state.days_left >= problem.remaining[k],
        )
        for k in codes
    ]

    def latest(finishes: dict[str, date | None]) -> date | None:
        values = [finishes[k] for k in codes if problem.remaining[k] > 0]
        return None if any(v is None for v in values) else max(values, default=as_of)  # type: ignore[type-var]

    return PlanRead(
        campaign_id=campaign.id, as_of=as_of, deadline=campaign.deadline, moves=moves, kecamatan=rows,
        latest_finish_before=latest(finish_before), latest_finish_after=latest(finish_after), method=PLAN_METHOD,
    )


async def apply_plan(session: AsyncSession, *, campaign: Campaign, request: PlanRequest, actor: Principal) -> PlanApplied:
    """Compute the plan for the same request and create its allocations and postings from the day
    after `as_of`, in this one transaction; moves of devices or operators the city would add are
    returned as not applied."""
    proposed = await plan(session, campaign=campaign, request=request)
    starts_on = proposed.as_of + timedelta(days=1)
    allocations, assignments, not_applied = [], [], []
    for move in proposed.moves:
        if move.id is None:
            not_applied.append(move)
            continue
        place = PlacementCreate(
            service_point=move.to.service_point_id, area=None if move.to.service_point_id else move.to.area,
            starts_on=starts_on, reason=f"allocation plan: {move.reason}"[:500],
        )
        if move.kind == "device":
            allocations.append(AllocationRead.model_validate(await allocate_device(session, device_id=move.id, data=place, actor=actor)))
        else:
            assignments.append(AssignmentRead.model_validate(await assign_operator(session, operator_id=move.id, data=place, actor=actor)))
    return PlanApplied(plan=proposed, allocations=allocations, assignments=assignments, not_applied=not_applied)
