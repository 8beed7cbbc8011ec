"""The calendar of commitments: where each device and operator is on a given day.

This module owns one cross-domain fact, so it reads the tables of three domains (devices'
allocations and postings, services' weekend-event assignments, visits' planned home visits) and
imports none of their services. The domains ask it; they no longer ask each other.

Rules
- A device or an operator is committed on a day by, and only by:
  - an allocation (device) or posting (operator) at a service point covering the day (from
    `starts_on` to `ends_on`, both included; no `ends_on` means until further notice). An
    allocation or posting to an area (a kecamatan, a mobile team's area below it) leaves them at
    the disposal of that area's team, so it commits them to nothing that day;
  - an assignment to a weekend service on that day (at most one per day, also a unique
    constraint);
  - a home visit planned that day (`PLANNED_STATUSES`: scheduled or visited).
- A device is usable on a day when it is active and is not a loan due back before that day (a
  loan due back that very day is still usable). An operator is usable when active.
- Resource scope: a device or operator posted on a day (at a point or to an area) belongs that
  day to the posting's area; only a caller whose scope covers that area (or an admin) books it
  for a weekend service or a home visit (`ensure_crew_in_scope`, 403). One posted nowhere that
  day is in the central pool and may be booked by any planner.
- Free (`is_device_free`, `is_operator_free`): usable and not at a service point that day; the
  weekend-event and home-visit bookings are checked by the callers through the functions below,
  each with its own message:
  - a device or operator booked for a weekend service or home visits on a day is not placed at a
    service point over that day (`ensure_not_booked`, 409);
  - a weekend service takes only devices and operators that exist, are active, and are not at
    another weekend service, on home visits, posted at a service point or (devices) due back
    that day (`event_crew_problems`);
  - a home visit takes a kit and an operator that are free that day and at no weekend service
    (`ensure_free_for_visit`); overlapping visits and the kit's daily capacity are the visits
    domain's own rule.
"""

from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.devices.models import Allocation, Device, DeviceStatus, Operator, OperatorAssignment, OperatorStatus
from api.errors import Conflict, NotFound, RuleViolation, field_problem
from api.principal import Principal, ensure_resource
from api.services.models import EventAssignment
from api.visits.models import PLANNED_STATUSES, HomeVisit


def covering(model: type[Allocation] | type[OperatorAssignment], day: date) -> Any:
    """SQL: the allocation (or posting) covers `day`."""
    return (model.starts_on <= day) & (or_(model.ends_on.is_(None), model.ends_on >= day))


def device_usable(device: Device, *, day: date) -> bool:
    """Active, and not a loan due back before `day`."""
    return device.status == DeviceStatus.active.value and not (device.return_due is not None and device.return_due < day)


def operator_usable(operator: Operator) -> bool:
    return operator.status == OperatorStatus.active.value


# --- one kind of commitment at a time -------------------------------------------------------


async def is_device_free(session: AsyncSession, *, device_id: int, day: date) -> bool:
    """Whether a device can be booked for `day` (a home visit, a weekend event).

    Free means: it exists, is usable that day, and is not placed at a service point that day. An
    allocation to an area leaves the device at the disposal of that area's team, so it stays free;
    the caller checks the bookings of the same day (events, visits).
    """
    device = await session.get(Device, device_id)
    if device is None or not device_usable(device, day=day):
        return False
    at_point = await session.scalar(
        select(Allocation.id).where(Allocation.device_id == device_id, covering(Allocation, day), Allocation.service_point_id.is_not(None))
    )
    return at_point is None


async def is_operator_free(session: AsyncSession, *, operator_id: int, day: date) -> bool:
    """Whether an operator can be booked for `day`: active and not posted at a service point that day
    (a posting to a kecamatan leaves them at that kecamatan's disposal, as for devices)."""
    operator = await session.get(Operator, operator_id)
    if operator is None or not operator_usable(operator):
        return False
    at_point = await session.scalar(
        select(OperatorAssignment.id).where(
            OperatorAssignment.operator_id == operator_id, covering(OperatorAssignment, day), OperatorAssignment.service_point_id.is_not(None)
        )
    )
    return at_point is None


async def weekend_event_on(session: AsyncSession, *, day: date, device_id: int | None = None, operator_id: int | None = None) -> int | None:
    """The weekend service a device (or an operator) is assigned to on `day`, if any."""
    who = EventAssignment.device_id == device_id if device_id is not None else EventAssignment.operator_id == operator_id
    return await session.scalar(select(EventAssignment.service_point_id).where(EventAssignment.day == day, who).limit(1))


async def event_days(
    session: AsyncSession, *, from_day: date, until: date, device_id: int | None = None, operator_id: int | None = None
) -> list[tuple[date, int]]:
    """(day, weekend service) for each day from `from_day` to `until` a device (or an operator) is assigned to one."""
    who = EventAssignment.device_id == device_id if device_id is not None else EventAssignment.operator_id == operator_id
    rows = await session.execute(
        select(EventAssignment.day, EventAssignment.service_point_id).where(who, EventAssignment.day >= from_day, EventAssignment.day <= until)
    )
    return [(day, point) for day, point in rows]


async def visits_planned_on(session: AsyncSession, *, day: date, device_ids: list[int], operator_ids: list[int]) -> tuple[set[int], set[int]]:
    """Which of these kits and operators have a home visit planned on `day`."""
    if not device_ids and not operator_ids:
        return set(), set()
    rows = (
        await session.execute(
            select(HomeVisit.device_id, HomeVisit.operator_id).where(
                HomeVisit.visit_date == day,
                HomeVisit.status.in_(PLANNED_STATUSES),
                or_(HomeVisit.device_id.in_(device_ids or [-1]), HomeVisit.operator_id.in_(operator_ids or [-1])),
            )
        )
    ).all()
    return {d for d, _ in rows if d in device_ids}, {o for _, o in rows if o in operator_ids}


async def visit_days(session: AsyncSession, *, from_day: date, until: date, device_id: int | None = None, operator_id: int | None = None) -> list[date]:
    """The days from `from_day` to `until` a kit (or an operator) has a home visit planned."""
    who = HomeVisit.device_id == device_id if device_id is not None else HomeVisit.operator_id == operator_id
    days = await session.scalars(
        select(HomeVisit.visit_date)
        .where(who, HomeVisit.status.in_(PLANNED_STATUSES), HomeVisit.visit_date >= from_day, HomeVisit.visit_date <= until)
        .distinct()
    )
    return [day for day in days if day is not None]


# --- the questions the domains ask ----------------------------------------------------------


async def posted_areas(session: AsyncSession, *, day: date, device_ids: list[int], operator_ids: list[int]) -> tuple[dict[int, str], dict[int, str]]:
    """The area each device and operator is posted in on `day` (at a point there or to the area);
    those posted nowhere that day (the central pool) are absent."""
    devices: dict[int, str] = {}
    operators: dict[int, str] = {}
    if device_ids:
        rows = await session.execute(select(Allocation.device_id, Allocation.area_code).where(Allocation.device_id.in_(device_ids), covering(Allocation, day)))
        devices = {device_id: code for device_id, code in rows}
    if operator_ids:
        rows = await session.execute(
            select(OperatorAssignment.operator_id, OperatorAssignment.area_code).where(
                OperatorAssignment.operator_id.in_(operator_ids), covering(OperatorAssignment, day)
            )
        )
        operators = {operator_id: code for operator_id, code in rows}
    return devices, operators


async def ensure_crew_in_scope(session: AsyncSession, *, actor: Principal, day: date, devices: dict[str, int], operators: dict[str, int]) -> None:
    """Resource scope: every device and operator to be booked on `day` (field name -> id) is posted
    that day inside the caller's scope, or in the central pool (403 naming the first that is not)."""
    device_areas, operator_areas = await posted_areas(session, day=day, device_ids=list(devices.values()), operator_ids=list(operators.values()))
    for field, device_id in devices.items():
        ensure_resource(actor, device_areas.get(device_id), field=field, what="device")
    for field, operator_id in operators.items():
        ensure_resource(actor, operator_areas.get(operator_id), field=field, what="operator")


async def ensure_not_booked(session: AsyncSession, *, who: dict[str, int], service_point_id: int, starts_on: date, until: date, what: str) -> None:
    """Before a device or operator is placed at a service point from `starts_on` to `until`: not
    booked for a weekend service (at another point) or for home visits on any of those days (409)."""
    booked = [day for day, point in await event_days(session, from_day=starts_on, until=until, **who) if point != service_point_id]
    booked += await visit_days(session, from_day=starts_on, until=until, **who)
    if booked:
        first = min(booked)
        raise Conflict(
            code="commitment.booked", params={"what": what, "day": first}, errors=[field_problem("from", code="commitment.booked_on", params={"day": first})]
        )


async def check_event_crew(session: AsyncSession, *, device_ids: list[int], operator_ids: list[int]) -> None:
    """The devices and operators of a weekend service exist (404) and are active (422)."""
    devices = {d.id: d for d in await session.scalars(select(Device).where(Device.id.in_(device_ids)))} if device_ids else {}
    operators = {o.id: o for o in await session.scalars(select(Operator).where(Operator.id.in_(operator_ids)))} if operator_ids else {}
    for i, device_id in enumerate(device_ids):
        device = devices.get(device_id)
        if device is None:
            raise NotFound(
                code="not_found.thing", params={"what": "device", "id": device_id}, errors=[field_problem(f"device_ids.{i}", code="unknown_reference")]
            )
        if device.status != DeviceStatus.active.value:
            raise RuleViolation.on_field(f"device_ids.{i}", code="device.not_active", params={"serial": device.serial, "status": device.status})
    for i, operator_id in enumerate(operator_ids):
        operator = operators.get(operator_id)
        if operator is None:
            raise NotFound(
                code="not_found.thing", params={"what": "operator", "id": operator_id}, errors=[field_problem(f"operator_ids.{i}", code="unknown_reference")]
            )
        if not operator_usable(operator):
            raise RuleViolation.on_field(
                f"operator_ids.{i}", code="operator.not_active", params={"staff_number": operator.staff_number, "status": operator.status}
            )


async def event_crew_problems(session: AsyncSession, *, point_id: int, day: date, device_ids: list[int], operator_ids: list[int]) -> list[dict[str, Any]]:
    """A field error for every device or operator of a weekend service committed elsewhere on `day`:
    at another weekend service, on home visits, posted at a service point, not usable."""
    others = await session.execute(
        select(EventAssignment.device_id, EventAssignment.operator_id, EventAssignment.service_point_id).where(
            EventAssignment.day == day,
            EventAssignment.service_point_id != point_id,
            or_(EventAssignment.device_id.in_(device_ids or [-1]), EventAssignment.operator_id.in_(operator_ids or [-1])),
        )
    )
    taken_devices: dict[int, int] = {}
    taken_operators: dict[int, int] = {}
    for device_id, operator_id, other_point in others:
        if device_id is not None:
            taken_devices[device_id] = other_point
        if operator_id is not None:
            taken_operators[operator_id] = other_point
    busy = [field_problem(f"device_ids.{i}", code="crew.at_event", params={"point": taken_devices[d]}) for i, d in enumerate(device_ids) if d in taken_devices]
    busy += [
        field_problem(f"operator_ids.{i}", code="crew.at_event", params={"point": taken_operators[o]})
        for i, o in enumerate(operator_ids)
        if o in taken_operators
    ]
    # Home visits planned that day hold their kit and operator for the day, as an event would.
    visiting_devices, visiting_operators = await visits_planned_on(session, day=day, device_ids=device_ids, operator_ids=operator_ids)
    busy += [field_problem(f"device_ids.{i}", code="crew.on_visits") for i, d in enumerate(device_ids) if d in visiting_devices and d not in taken_devices]
    busy += [
        field_problem(f"operator_ids.{i}", code="crew.on_visits") for i, o in enumerate(operator_ids) if o in visiting_operators and o not in taken_operators
    ]
    taken_devices.update(dict.fromkeys(visiting_devices, 0))
    taken_operators.update(dict.fromkeys(visiting_operators, 0))
    for i, device_id in enumerate(device_ids):
        if device_id not in taken_devices and not await is_device_free(session, device_id=device_id, day=day):
            busy.append(field_problem(f"device_ids.{i}", code="crew.device_not_free"))
    for i, operator_id in enumerate(operator_ids):
        if operator_id not in taken_operators and not await is_operator_free(session, operator_id=operator_id, day=day):
            busy.append(field_problem(f"operator_ids.{i}", code="crew.operator_not_free"))
    return busy


async def ensure_free_for_visit(session: AsyncSession, *, device_id: int, operator_id: int, day: date) -> None:
    """The kit and the operator of a home visit are not posted elsewhere that day nor at a weekend
    service (an event holds them for its day); 409 naming which."""
    if not await is_device_free(session, device_id=device_id, day=day):
        raise Conflict(code="visit.kit_posted", errors=[field_problem("device", code="crew.device_not_free")])
    if not await is_operator_free(session, operator_id=operator_id, day=day):
        raise Conflict(code="visit.operator_posted", errors=[field_problem("operator", code="crew.operator_not_free")])
    if (event := await weekend_event_on(session, day=day, device_id=device_id)) is not None:
        raise Conflict(code="visit.kit_at_event", params={"point": event}, errors=[field_problem("device", code="crew.at_event", params={"point": event})])
    if (event := await weekend_event_on(session, day=day, operator_id=operator_id)) is not None:
        raise Conflict(
            code="visit.operator_at_event", params={"point": event}, errors=[field_problem("operator", code="crew.at_event", params={"point": event})]
        )
