"""Places: where devices and operators stand, one place at a time, and what stands where on a day.

Rules
- A device is in one place at a time: an allocation to a service point or to an area (a
  kecamatan, or a mobile team's area below it) from a day to a day (inclusive) or until further
  notice. A new allocation closes the device's open one the day before it starts; any other
  overlap is refused (409), by the service and by the database (an exclusion constraint on
  PostgreSQL, triggers on SQLite), so two concurrent moves of one device cannot both win.
  Operators are posted (assigned) to a service point or a kecamatan by the same rules.
- A device or operator booked for a weekend service or home visits on a day is not placed at a
  service point over that day (409; api.commitments judges it, asked by api.flows).
- When (issue #17, item 13): a place lies within a campaign of its area, from on or after the
  campaign's start, to (when given) on or before its deadline; "until further notice" ends with
  the campaign. Where no campaign covers the area, within PLACE_WINDOW_DAYS of today either way.
  Dates are api.types.BoundedDate besides (2000..2100), so a placement from 9999-12-31 is a 422.
- Scope: the city office (admin) places anything anywhere; a supervisor moves devices and
  operators only between places inside their area. Something placed nowhere is placed first by
  the city office.
- Ending places (`end_places`, when a device is returned or retired, an operator suspended or
  leaves): periods running on the day end the day before; later ones are cancelled.
- A device records only with an operator: the capacity of a kecamatan on a day is the daily
  capacity of its active devices that have an operator on duty there (one operator per device,
  the largest devices staffed first; an operator can run any device of their kecamatan).
- Every change is audited, one entry per change.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api import calendar
from api.area_codes import KECAMATAN_DEPTH
from api.areas import service as areas
from api.areas.models import Area
from api.audit import service as audit
from api.campaigns import service as campaigns
from api.devices.availability import covering
from api.devices.models import Allocation, Device, DeviceStatus, Operator, OperatorAssignment, OperatorStatus
from api.devices.schemas import AllocationSummary, KecamatanSummary, PlacementCreate
from api.errors import Conflict, Forbidden, NotFound, RuleViolation, field_problem
from api.principal import Principal, ensure_area
from api.services.models import ServicePoint
from api.types import AreaLevel, Role

PLACE_WINDOW_DAYS = 366  # where no campaign runs: a year back or ahead of today
PLACE_FIELDS = ["service_point_id", "area_code", "starts_on", "ends_on", "reason"]
Placement = TypeVar("Placement", Allocation, OperatorAssignment)  # a device's or an operator's periods


def kecamatan_of(code: str) -> str | None:
    """The kecamatan an area code lies in (itself when it is one), None above kecamatan level."""
    parts = code.split(".")
    return ".".join(parts[:KECAMATAN_DEPTH]) if len(parts) >= KECAMATAN_DEPTH and code != "0" else None


async def flush_or_conflict(session: AsyncSession, *, code: str, params: dict[str, Any] | None = None) -> None:
    """Flush; a unique or one-place-at-a-time violation found by the database is a 409 (`code`)."""
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(code=code, params=params) from None


async def _resolve_place(session: AsyncSession, data: PlacementCreate) -> tuple[int | None, str]:
    """(service point id, area code) of the place asked for, validated."""
    if (data.service_point is None) == (data.area is None):
        raise RuleViolation(code="placement.where", errors=[field_problem("service_point_id", code="placement.where")])
    if data.ends_on is not None and data.ends_on < data.starts_on:
        raise RuleViolation.on_field("to", code="range.reversed")
    if data.service_point is not None:
        point = await session.get(ServicePoint, data.service_point)
        if point is None:
            raise NotFound(
                code="not_found.thing",
                params={"what": "service point", "id": data.service_point},
                errors=[field_problem("service_point_id", code="unknown_reference")],
            )
        if not point.active:
            raise RuleViolation.on_field("service_point_id", code="point.closed", params={"point": point.name})
        return point.id, point.area_code
    assert data.area is not None
    area = await areas.get(session, code=data.area, field="area", location="body")
    if kecamatan_of(area.code) is None:
        raise RuleViolation.on_field("area", code="placement.area_level")
    return None, area.code


async def ensure_in_window(session: AsyncSession, *, area_code: str, data: PlacementCreate) -> None:
    """The place's dates lie within one campaign of its area, or within PLACE_WINDOW_DAYS of today (422)."""
    windows = await campaigns.windows_for_area(session, area_code=area_code)
    if not windows:
        today = calendar.today()
        span = timedelta(days=PLACE_WINDOW_DAYS)
        windows = [(today - span, today + span)]
        refusal: dict[str, Any] = {"code": "placement.outside_window", "params": {"days": PLACE_WINDOW_DAYS}}
    else:
        refusal = {"code": "placement.outside_campaign", "params": {"start": min(s for s, _ in windows), "end": max(d for _, d in windows)}}
    if any(start <= data.starts_on <= deadline and (data.ends_on is None or data.ends_on <= deadline) for start, deadline in windows):
        return
    field = "from" if not any(start <= data.starts_on <= deadline for start, deadline in windows) else "to"
    raise RuleViolation.on_field(field, **refusal)


async def place(
    session: AsyncSession,
    *,
    model: type[Placement],
    owner: Any,
    owner_id: int,
    data: PlacementCreate,
    actor: Principal,
    entity: str,
    what: str,
) -> Placement:
    """One place at a time: close the open period the day before, refuse any other overlap."""
    service_point_id, area_code = await _resolve_place(session, data)
    ensure_area(actor, area_code, field="service_point_id" if service_point_id else "area")
    await ensure_in_window(session, area_code=area_code, data=data)
    open_period = await session.scalar(select(model).where(owner == owner_id, model.ends_on.is_(None)))
    leaving = open_period or await session.scalar(select(model).where(owner == owner_id, covering(model, data.starts_on)))
    if leaving is not None:
        ensure_area(actor, leaving.area_code, field=what)
    elif actor.role != Role.admin:
        raise Forbidden(code="placement.nowhere", params={"what": what})
    # A place from a day closes the open period that began earlier; an open period that begins
    # later is an ordinary overlap unless the new place ends before it.
    if open_period is not None and open_period.starts_on < data.starts_on:
        before = audit.snapshot_of(open_period, PLACE_FIELDS)
        open_period.ends_on = data.starts_on - timedelta(days=1)
        await flush_or_conflict(session, code="placement.raced", params={"what": what})
        await audit.record(
            session,
            actor=actor,
            action=f"{entity}.close",
            entity=entity,
            entity_id=open_period.id,
            before=before,
            after=audit.snapshot_of(open_period, PLACE_FIELDS),
        )
    last = data.ends_on or date.max
    clash = await session.scalar(
        select(model)
        .where(owner == owner_id, model.starts_on <= last, or_(model.ends_on.is_(None), model.ends_on >= data.starts_on))
        .order_by(model.starts_on)
        .limit(1)
    )
    if clash is not None:
        params = {"what": what, "start": clash.starts_on}
        if clash.ends_on:
            params["end"] = clash.ends_on
        code = "placement.overlap" if clash.ends_on else "placement.overlap_open"
        raise Conflict(code=code, params=params, errors=[field_problem("from", code="placement.overlap_period")])
    period = model(service_point_id=service_point_id, area_code=area_code, starts_on=data.starts_on, ends_on=data.ends_on, reason=data.reason)
    setattr(period, owner.key, owner_id)
    session.add(period)
    await flush_or_conflict(session, code="placement.overlap_raced", params={"what": what})
    await audit.record(
        session,
        actor=actor,
        action=f"{entity}.create",
        entity=entity,
        entity_id=period.id,
        after={owner.key: owner_id, **audit.snapshot_of(period, PLACE_FIELDS)},
    )
    return period


async def end_places(
    session: AsyncSession, model: type[Placement], owner: Any, owner_id: int, *, from_day: date, actor: Principal, entity: str, reason: str | None = None
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
            await audit.record(
                session, actor=actor, action=f"{entity}.close", entity=entity, entity_id=period.id, before=before, after=audit.snapshot_of(period, PLACE_FIELDS)
            )


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
        select(Device, Allocation.area_code, Allocation.service_point_id)
        .outerjoin(Allocation, (Allocation.device_id == Device.id) & covering(Allocation, day))
        .order_by(Device.id)
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
    assigned = await session.execute(
        select(Operator.id, OperatorAssignment.area_code)
        .outerjoin(OperatorAssignment, (OperatorAssignment.operator_id == Operator.id) & covering(OperatorAssignment, day))
        .where(Operator.status == OperatorStatus.active.value)
        .order_by(Operator.id)
    )
    for operator_id, area_code in assigned.all():
        kecamatan = kecamatan_of(area_code) if area_code else None
        if kecamatan:
            result.operators[kecamatan].append(operator_id)
        elif area_code is None:
            result.unassigned_operators.append(operator_id)
    return result


def active_capacities(devices: list[PlacedDevice]) -> list[int]:
    return [d.capacity for d in devices if d.status == DeviceStatus.active.value]


async def _kecamatan_names(session: AsyncSession, codes: Iterable[str]) -> dict[str, str]:
    codes = list(codes)
    if not codes:
        return {}
    return dict((await session.execute(select(Area.code, Area.name).where(Area.code.in_(codes)))).all())


async def summary(session: AsyncSession, *, day: date | None = None, area: str | None = None) -> AllocationSummary:
    """Per kecamatan: devices by kind and owner, active devices, operators, capacity per day."""
    day = day or calendar.today()
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
        active = active_capacities(devices)
        operators = len(placements.operators.get(code, []))
        rows.append(
            KecamatanSummary(
                code=code,
                name=names.get(code, code),
                devices=len(devices),
                by_kind=dict(by_kind),
                by_owner=dict(by_owner),
                active_devices=len(active),
                operators=operators,
                capacity_per_day=running_capacity(active, operators),
            )
        )
    return AllocationSummary(
        date=day, kecamatan=rows, unplaced_devices=len(placements.unplaced_devices), unassigned_operators=len(placements.unassigned_operators)
    )
