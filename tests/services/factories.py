"""Service points, RW units, weekend services, devices and operators for the tests."""

from datetime import date, timedelta
from itertools import count

from sqlalchemy.ext.asyncio import AsyncSession

from api import calendar, flows
from api.areas.schemas import AreaCreate
from api.devices.models import Device, Operator
from api.principal import SYSTEM
from api.services import service
from api.services.models import WEEKDAYS, ServicePoint
from api.services.schemas import ServicePointCreate

_sequence = count(1)
ALL_DAY = {day: [["00:00", "24:00"]] for day in WEEKDAYS}
OFFICE_HOURS = {**{day: [["08:00", "12:00"], ["13:00", "15:00"]] for day in WEEKDAYS[:5]}, "sat": [["08:00", "12:00"]]}


def next_saturday(after: date | None = None) -> date:
    start = (after or calendar.today()) + timedelta(days=1)
    return start + timedelta(days=(5 - start.weekday()) % 7)


async def make_office(
    session: AsyncSession, *, area: str = "36.74.01", counters: int = 2, hours: dict | None = None, service_minutes: int = 10, name: str | None = None
) -> ServicePoint:
    return await service.create_point(
        session,
        data=ServicePointCreate(
            kind="kecamatan_office",
            name=name or f"Office {next(_sequence)}",
            area=area,
            counters=counters,
            opening_hours=ALL_DAY if hours is None else hours,
            service_minutes=service_minutes,
            address="Jl. Raya 1",
        ),
        actor=SYSTEM,
    )


async def make_rw(session: AsyncSession, *, kelurahan: str = "36.74.01.1001", population: int = 2500) -> str:
    code = f"{kelurahan}.{next(_sequence) % 1000:03d}"
    await flows.add_area_unit(session, data=AreaCreate(code=code, population=population), actor=SYSTEM)
    return code


async def make_event(session: AsyncSession, *, area: str | None = None, day: date | None = None, start: str = "08:00", end: str = "12:00") -> ServicePoint:
    return await service.create_point(
        session,
        data=ServicePointCreate(
            kind="weekend_event",
            name=f"Layanan akhir pekan {next(_sequence)}",
            area=area or await make_rw(session),
            counters=2,
            event_date=day or next_saturday(),
            event_start=start,
            event_end=end,
        ),
        actor=SYSTEM,
    )


async def make_device(session: AsyncSession, *, status: str = "active") -> Device:
    device = Device(serial=f"SN-{next(_sequence):05d}", kind="mobile", owner="apbd", status=status, daily_capacity=80)
    session.add(device)
    await session.flush()
    return device


async def make_operator(session: AsyncSession) -> Operator:
    operator = Operator(name=f"Petugas {next(_sequence)}", staff_number=f"OP-{next(_sequence):05d}", status="active")
    session.add(operator)
    await session.flush()
    return operator
