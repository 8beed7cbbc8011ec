"""The calendar of commitments: whether a device or an operator can be booked where it is asked for.

Each domain knows its own bookings: devices their allocations and postings (api.devices'
availability), services their weekend-event assignments, visits their planned home visits. Booking
a device or an operator somewhere must weigh them all, so it is asked here, and this module is
asked only by the layer above the domains (api.flows), which books and then asks: a refusal rolls
the whole request back.

Rules
- A device or an operator is committed on a day by, and only by: an allocation or posting at a
  service point covering the day; an assignment to a weekend service that day (at most one per
  day, also a unique constraint); a home visit planned that day (scheduled or visited).
- A device or operator booked for a weekend service or home visits on a day is not placed at a
  service point over that day (`ensure_not_booked`, 409).
- A weekend service takes only devices and operators that exist, are active, and are not at
  another weekend service, on home visits, posted at a service point or (devices) due back that
  day (`check_event_crew`, `event_crew_problems`).
- The weekend-service planner offers the devices and operators free that day by all of the above,
  within a supervisor's resource scope (`free_crew`).
- A home visit takes a kit and an operator that are free that day and at no weekend service; that
  check is the visits domain's own (api.visits.dispatch), which sits above devices and services.
"""

from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.devices import service as devices
from api.devices.models import Allocation, Device, DeviceStatus, Operator, OperatorAssignment, OperatorStatus
from api.errors import Conflict, NotFound, RuleViolation, field_problem
from api.principal import Principal
from api.services import service as services
from api.services.models import EventAssignment
from api.types import Role
from api.visits import service as visits


async def ensure_not_booked(session: AsyncSession, *, who: dict[str, int], service_point_id: int, starts_on: date, until: date, what: str) -> None:
    """Before a device or operator is placed at a service point from `starts_on` to `until`: not
    booked for a weekend service (at another point) or for home visits on any of those days (409)."""
    booked = [day for day, point in await services.event_days(session, from_day=starts_on, until=until, **who) if point != service_point_id]
    booked += await visits.visit_days(session, from_day=starts_on, until=until, **who)
    if booked:
        first = min(booked)
        raise Conflict(
            code="commitment.booked", params={"what": what, "day": first}, errors=[field_problem("from", code="commitment.booked_on", params={"day": first})]
        )


async def check_event_crew(session: AsyncSession, *, device_ids: list[int], operator_ids: list[int]) -> None:
    """The devices and operators of a weekend service exist (404) and are active (422)."""
    found_devices = {d.id: d for d in await session.scalars(select(Device).where(Device.id.in_(device_ids)))} if device_ids else {}
    found_operators = {o.id: o for o in await session.scalars(select(Operator).where(Operator.id.in_(operator_ids)))} if operator_ids else {}
    for i, device_id in enumerate(device_ids):
        device = found_devices.get(device_id)
        if device is None:
            raise NotFound(
                code="not_found.thing", params={"what": "device", "id": device_id}, errors=[field_problem(f"device_ids.{i}", code="unknown_reference")]
            )
        if device.status != DeviceStatus.active.value:
            raise RuleViolation.on_field(f"device_ids.{i}", code="device.not_active", params={"serial": device.serial, "status": device.status})
    for i, operator_id in enumerate(operator_ids):
        operator = found_operators.get(operator_id)
        if operator is None:
            raise NotFound(
                code="not_found.thing", params={"what": "operator", "id": operator_id}, errors=[field_problem(f"operator_ids.{i}", code="unknown_reference")]
            )
        if not devices.operator_usable(operator):
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
    visiting_devices, visiting_operators = await visits.visits_planned_on(session, day=day, device_ids=device_ids, operator_ids=operator_ids)
    busy += [field_problem(f"device_ids.{i}", code="crew.on_visits") for i, d in enumerate(device_ids) if d in visiting_devices and d not in taken_devices]
    busy += [
        field_problem(f"operator_ids.{i}", code="crew.on_visits") for i, o in enumerate(operator_ids) if o in visiting_operators and o not in taken_operators
    ]
    taken_devices.update(dict.fromkeys(visiting_devices, 0))
    taken_operators.update(dict.fromkeys(visiting_operators, 0))
    for i, device_id in enumerate(device_ids):
        if device_id not in taken_devices and not await devices.is_device_free(session, device_id=device_id, day=day):
            busy.append(field_problem(f"device_ids.{i}", code="crew.device_not_free"))
    for i, operator_id in enumerate(operator_ids):
        if operator_id not in taken_operators and not await devices.is_operator_free(session, operator_id=operator_id, day=day):
            busy.append(field_problem(f"operator_ids.{i}", code="crew.operator_not_free"))
    return busy


async def ensure_event_crew_free(session: AsyncSession, *, point_id: int, day: date, device_ids: list[int], operator_ids: list[int]) -> None:
    """Before a weekend service on `day` takes these devices and operators: they exist, are active
    (404, 422) and are committed nowhere else that day (409 naming each)."""
    await check_event_crew(session, device_ids=device_ids, operator_ids=operator_ids)
    busy = await event_crew_problems(session, point_id=point_id, day=day, device_ids=device_ids, operator_ids=operator_ids)
    if busy:
        raise Conflict(code="crew.busy", params={"day": day}, errors=busy)


async def free_crew(session: AsyncSession, *, day: date, actor: Principal) -> tuple[list[Device], list[Operator]]:
    """The devices and operators a weekend service on `day` could take (the weekend-service planner):
    usable, not at a service point, a weekend service or home visits that day, and, for a supervisor,
    posted inside their scope or in the central pool (the resource scope, api.devices' availability)."""
    usable = [
        d
        for d in await session.scalars(select(Device).where(Device.status == DeviceStatus.active.value).order_by(Device.serial))
        if devices.device_usable(d, day=day)
    ]
    people = list(await session.scalars(select(Operator).where(Operator.status == OperatorStatus.active.value).order_by(Operator.name, Operator.id)))
    at_point_devices = set(
        await session.scalars(select(Allocation.device_id).where(devices.covering(Allocation, day), Allocation.service_point_id.is_not(None)))
    )
    at_point_operators = set(
        await session.scalars(
            select(OperatorAssignment.operator_id).where(devices.covering(OperatorAssignment, day), OperatorAssignment.service_point_id.is_not(None))
        )
    )
    events = (await session.execute(select(EventAssignment.device_id, EventAssignment.operator_id).where(EventAssignment.day == day))).all()
    visiting_devices, visiting_operators = await visits.visits_planned_on(
        session, day=day, device_ids=[d.id for d in usable], operator_ids=[o.id for o in people]
    )
    busy_devices = at_point_devices | visiting_devices | {d for d, _ in events if d is not None}
    busy_operators = at_point_operators | visiting_operators | {o for _, o in events if o is not None}
    device_areas, operator_areas = await devices.posted_areas(session, day=day, device_ids=[d.id for d in usable], operator_ids=[o.id for o in people])

    def mine(code: str | None) -> bool:
        return code is None or actor.role != Role.supervisor or actor.covers_area(code)

    return (
        [d for d in usable if d.id not in busy_devices and mine(device_areas.get(d.id))],
        [o for o in people if o.id not in busy_operators and mine(operator_areas.get(o.id))],
    )
