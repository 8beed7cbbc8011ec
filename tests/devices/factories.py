"""Devices and operators for tests, made through the service (rules and audit apply)."""

from datetime import date
from itertools import count

from sqlalchemy.ext.asyncio import AsyncSession

from api.devices import service
from api.devices.models import DeviceKind, DeviceOwner
from api.devices.schemas import DeviceCreate, OperatorCreate, PlacementCreate
from api.principal import SYSTEM

_sequence = count(1)


async def make_device(
    session: AsyncSession, *, kind: DeviceKind = DeviceKind.static, owner: DeviceOwner = DeviceOwner.apbd, capacity: int = 80, return_due: date | None = None
) -> int:
    loan = owner == DeviceOwner.loan
    data = DeviceCreate(
        serial=f"T-{next(_sequence):05d}",
        kind=kind,
        owner=owner,
        daily_capacity=capacity,
        lender="Pemerintah Kota Cilegon" if loan else None,
        return_due=(return_due or date(2030, 1, 1)) if loan else None,
    )
    return (await service.create_device(session, data=data, actor=SYSTEM)).id


async def make_operator(session: AsyncSession, *, phone: str | None = "081234567890") -> int:
    n = next(_sequence)
    return (await service.create_operator(session, data=OperatorCreate(name=f"Petugas {n}", staff_number=f"T-{n:05d}", phone=phone), actor=SYSTEM)).id


async def place_device(
    session: AsyncSession, device_id: int, *, area: str | None = None, service_point: int | None = None, starts_on: date, ends_on: date | None = None
) -> int:
    data = PlacementCreate(area=area, service_point_id=service_point, starts_on=starts_on, ends_on=ends_on)
    return (await service.allocate_device(session, device_id=device_id, data=data, actor=SYSTEM)).id


async def post_operator(session: AsyncSession, operator_id: int, *, area: str, starts_on: date, ends_on: date | None = None) -> int:
    data = PlacementCreate(area=area, starts_on=starts_on, ends_on=ends_on)
    return (await service.assign_operator(session, operator_id=operator_id, data=data, actor=SYSTEM)).id
