"""Where a device or an operator stands on a day, by the devices domain's own records.

Rules
- A device or an operator is placed on a day by an allocation (device) or posting (operator)
  covering the day (from `starts_on` to `ends_on`, both included; no `ends_on` means until further
  notice). One at a service point is committed there that day; one to an area (a kecamatan, a
  mobile team's area below it) is at the disposal of that area's team, so it is committed to
  nothing that day.
- A device is usable on a day when it is active and is not a loan due back before that day (a
  loan due back that very day is still usable). An operator is usable when active.
- Free as far as devices know (`is_device_free`, `is_operator_free`): usable and not at a service
  point that day. Weekend services and home visits are other domains' bookings; the calendar
  that weighs them all is api.commitments.
- Who was at a service point on a day (`operators_at`): those posted at it, assigned to it as a
  weekend service, or posted to the point's own area (a kecamatan team works at its office).
- Resource scope: a device or operator posted on a day (at a point or to an area) belongs that
  day to the posting's area; only a caller whose scope covers that area (or an admin) books it
  for a weekend service or a home visit (`ensure_crew_in_scope`, 403). One posted nowhere that
  day is in the central pool and may be booked by any planner.
"""

from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.devices.models import Allocation, Device, DeviceStatus, Operator, OperatorAssignment, OperatorStatus
from api.principal import Principal, ensure_resource
from api.services.models import EventAssignment, ServicePoint


def covering(model: type[Allocation] | type[OperatorAssignment], day: date) -> Any:
    """SQL: the allocation (or posting) covers `day`."""
    return (model.starts_on <= day) & (or_(model.ends_on.is_(None), model.ends_on >= day))


def device_usable(device: Device, *, day: date) -> bool:
    """Active, and not a loan due back before `day`."""
    return device.status == DeviceStatus.active.value and not (device.return_due is not None and device.return_due < day)


def operator_usable(operator: Operator) -> bool:
    return operator.status == OperatorStatus.active.value


async def is_device_free(session: AsyncSession, *, device_id: int, day: date) -> bool:
    """Whether a device can be booked for `day` (a home visit, a weekend event).

    Free means: it exists, is usable that day, and is not placed at a service point that day. An
    allocation to an area leaves the device at the disposal of that area's team, so it stays free;
    the bookings of the same day (events, visits) are api.commitments'.
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


async def operators_at(session: AsyncSession, *, point_id: int, day: date) -> list[int]:
    """The operators at a service point on `day` (who was there, for a complaint about that place
    and day): posted at the point, assigned to it as a weekend service that day, or posted to the
    point's own area (a kecamatan's team is posted to the kecamatan and works at its office)."""
    point_area = select(ServicePoint.area_code).where(ServicePoint.id == point_id).scalar_subquery()
    posted = select(OperatorAssignment.operator_id).where(
        or_(OperatorAssignment.service_point_id == point_id, (OperatorAssignment.service_point_id.is_(None)) & (OperatorAssignment.area_code == point_area)),
        covering(OperatorAssignment, day),
    )
    at_event = select(EventAssignment.operator_id).where(
        EventAssignment.service_point_id == point_id, EventAssignment.day == day, EventAssignment.operator_id.is_not(None)
    )
    return sorted({operator_id for operator_id in await session.scalars(posted.union(at_event)) if operator_id is not None})
