"""The fleet: devices, their loans and their status.

Rules
- A device has a unique serial, a kind (static, mobile), an owner (kemendagri, apbd, loan) and a
  daily capacity (recordings per day with an operator on duty). A loan names its lender and its
  return date; a device that is not a loan has neither.
- Device status follows a state machine: active ⇄ faulty → in_repair → active; `returned` (loans
  only) and `retired` are final and reachable from any other state. Any other move is a 409.
  A loan whose return date has passed and that is not returned is flagged `loan_overdue`.
- Only an active device can be allocated (not a faulty, in-repair, returned or retired one).
  A returned or retired device leaves its place from the day it changes status.
- Scope: the city office (admin) registers devices; a supervisor changes only the status and
  notes of a device placed in their area today.
- Every change is audited, one entry per change.
"""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api import calendar
from api.areas import service as areas
from api.audit import service as audit
from api.devices.availability import covering
from api.devices.models import Allocation, Device, DeviceOwner, DeviceStatus
from api.devices.placements import end_places, flush_or_conflict, place
from api.devices.schemas import AllocationRead, DeviceCreate, DeviceRead, DeviceUpdate, PlacementCreate
from api.errors import Conflict, Forbidden, RuleViolation, field_problem, get_or_404
from api.pagination import PageParams, paginate
from api.principal import Principal
from api.types import Role

DEVICE_FIELDS = ["serial", "kind", "owner", "lender", "return_due", "status", "daily_capacity", "notes"]

# The device state machine; `returned` additionally requires a loan.
FINAL_DEVICE_STATES = frozenset({DeviceStatus.returned, DeviceStatus.retired})
DEVICE_TRANSITIONS: dict[DeviceStatus, frozenset[DeviceStatus]] = {
    DeviceStatus.active: frozenset({DeviceStatus.faulty, *FINAL_DEVICE_STATES}),
    DeviceStatus.faulty: frozenset({DeviceStatus.active, DeviceStatus.in_repair, *FINAL_DEVICE_STATES}),
    DeviceStatus.in_repair: frozenset({DeviceStatus.active, *FINAL_DEVICE_STATES}),
    DeviceStatus.returned: frozenset(),
    DeviceStatus.retired: frozenset(),
}
# What a supervisor may change on a device placed in their area; the rest is the city office's.
SUPERVISOR_DEVICE_FIELDS = frozenset({"status", "notes"})


def loan_overdue(device: Device, *, on: date) -> bool:
    return device.return_due is not None and device.return_due < on and device.status != DeviceStatus.returned.value


def _check_loan_terms(values: dict[str, Any]) -> None:
    is_loan = values["owner"] == DeviceOwner.loan.value
    errors = []
    for name in ("lender", "return_due"):
        if is_loan and values.get(name) is None:
            errors.append(field_problem(name, code="device.loan_needs"))
        if not is_loan and values.get(name) is not None:
            errors.append(field_problem(name, code="device.only_loans"))
    if errors:
        raise RuleViolation(code="device.loan_terms", errors=errors)


async def _ensure_serial_free(session: AsyncSession, serial: str, *, device_id: int | None = None) -> None:
    other = await session.scalar(select(Device.id).where(Device.serial == serial))
    if other is not None and other != device_id:
        raise Conflict(
            code="device.serial_taken", params={"serial": serial}, errors=[field_problem("serial", code="device.serial_taken", params={"serial": serial})]
        )


async def create_device(session: AsyncSession, *, data: DeviceCreate, actor: Principal) -> DeviceRead:
    values = data.model_dump()
    values["owner"] = data.owner.value
    _check_loan_terms(values)
    await _ensure_serial_free(session, data.serial)
    device = Device(**{**values, "kind": data.kind.value, "status": DeviceStatus.active.value})
    session.add(device)
    await flush_or_conflict(session, code="device.serial_taken", params={"serial": data.serial})
    await audit.record(session, actor=actor, action="device.create", entity="device", entity_id=device.id, after=audit.snapshot_of(device, DEVICE_FIELDS))
    return (await device_reads(session, [device], day=calendar.today()))[0]


async def get_device_row(session: AsyncSession, *, device_id: int) -> Device:
    return await get_or_404(session, Device, device_id, what="device")


async def get_device(session: AsyncSession, *, device_id: int) -> DeviceRead:
    device = await get_device_row(session, device_id=device_id)
    return (await device_reads(session, [device], day=calendar.today()))[0]


async def device_reads(session: AsyncSession, devices: Sequence[Device], *, day: date) -> list[DeviceRead]:
    """Devices with where each is on `day`, in one query for the whole page."""
    ids = [d.id for d in devices]
    placed = {}
    if ids:
        rows = await session.scalars(select(Allocation).where(Allocation.device_id.in_(ids), covering(Allocation, day)))
        placed = {a.device_id: a for a in rows.all()}
    now = calendar.today()
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
    day = day or calendar.today()
    stmt = select(Device)
    if kind:
        stmt = stmt.where(Device.kind == kind)
    if owner:
        stmt = stmt.where(Device.owner == owner)
    if status:
        stmt = stmt.where(Device.status == status)
    if area:
        areas.require_code(area, location="query")
        here = select(Allocation.device_id).where(covering(Allocation, day), areas.in_subtree(Allocation.area_code, area))
        stmt = stmt.where(Device.id.in_(here))
    if loan_due_before:
        stmt = stmt.where(Device.return_due < loan_due_before)
    if overdue is not None:
        late = (Device.return_due < calendar.today()) & (Device.status != DeviceStatus.returned.value)
        stmt = stmt.where(late if overdue else ~late | Device.return_due.is_(None))
    devices, next_cursor = await paginate(session, stmt, keys=[Device.id], page=page)
    return await device_reads(session, devices, day=day), next_cursor


async def _current_allocation(session: AsyncSession, device_id: int, day: date) -> Allocation | None:
    return await session.scalar(select(Allocation).where(Allocation.device_id == device_id, covering(Allocation, day)))


async def update_device(session: AsyncSession, *, device_id: int, data: DeviceUpdate, actor: Principal) -> DeviceRead:
    device = await get_device_row(session, device_id=device_id)
    changes = data.model_dump(exclude_unset=True)
    now = calendar.today()
    if actor.role != Role.admin:
        others = sorted(set(changes) - SUPERVISOR_DEVICE_FIELDS)
        if others:
            raise Forbidden(code="device.city_office_only", errors=[field_problem(name, code="device.city_office_field") for name in others])
        here = await _current_allocation(session, device.id, now)
        if here is None or not actor.covers_area(here.area_code):
            raise Forbidden(code="scope.not_posted_here", params={"what": "device"})
    before = audit.snapshot_of(device, DEVICE_FIELDS)
    values = {**before, **{k: (v.value if hasattr(v, "value") else v) for k, v in changes.items()}}
    for required in ("serial", "kind", "owner", "daily_capacity", "status"):
        if values[required] is None:
            raise RuleViolation.on_field(required, code="not_null")
    _check_loan_terms(values)
    new_status = DeviceStatus(values["status"])
    old_status = DeviceStatus(device.status)
    if new_status != old_status:
        if new_status not in DEVICE_TRANSITIONS[old_status]:
            params = {"status": old_status.value, "target": new_status.value}
            raise Conflict(code="status.move", params=params, errors=[field_problem("status", code="status.move", params=params)])
        if new_status == DeviceStatus.returned and values["owner"] != DeviceOwner.loan.value:
            raise Conflict(code="device.return_not_loan", errors=[field_problem("status", code="device.return_not_loan")])
    if values["serial"] != device.serial:
        await _ensure_serial_free(session, values["serial"], device_id=device.id)
    for name in DEVICE_FIELDS:
        setattr(device, name, values[name])
    await flush_or_conflict(session, code="device.serial_taken", params={"serial": values["serial"]})
    after = audit.snapshot_of(device, DEVICE_FIELDS)
    if after != before:
        await audit.record(session, actor=actor, action="device.update", entity="device", entity_id=device.id, before=before, after=after)
    if new_status in FINAL_DEVICE_STATES and new_status != old_status:
        await end_places(session, Allocation, Allocation.device_id, device.id, from_day=now, actor=actor, entity="allocation")
    return (await device_reads(session, [device], day=now))[0]


async def allocate_device(session: AsyncSession, *, device_id: int, data: PlacementCreate, actor: Principal) -> Allocation:
    device = await get_device_row(session, device_id=device_id)
    if device.status != DeviceStatus.active.value:
        params = {"what": "device", "status": device.status}
        raise Conflict(
            code="placement.not_active", params=params, errors=[field_problem("device_id", location="path", code="placement.not_active", params=params)]
        )
    allocation = await place(
        session, model=Allocation, owner=Allocation.device_id, owner_id=device.id, data=data, actor=actor, entity="allocation", what="device"
    )
    assert isinstance(allocation, Allocation)
    return allocation


async def device_history(session: AsyncSession, *, device_id: int, page: PageParams) -> tuple[list[Allocation], str | None]:
    await get_device_row(session, device_id=device_id)
    stmt = select(Allocation).where(Allocation.device_id == device_id)
    return await paginate(session, stmt, keys=[Allocation.starts_on, Allocation.id], page=page)
