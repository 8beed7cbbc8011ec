"""Home-visit data for tests: NIKs that pass every check, kits, operators, requests."""

from datetime import date
from itertools import count
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import service as auth
from api.auth.schemas import UserCreate
from api.devices.models import Device, Operator
from api.principal import SYSTEM
from api.types import Role
from api.visits import service
from api.visits.demo import nik as make_nik
from api.visits.models import HomeVisit
from api.visits.schemas import HomeVisitCreate, ScheduleRequest, StatusChange, VisitWindow
from tests.factories import PASSWORD

_serial = count(1)
SERPONG = "367401"
CIATER = "36.74.01.1001"


def adult_nik(kecamatan: str = SERPONG, *, born: date = date(1980, 5, 17), woman: bool = False) -> str:
    return make_nik(kecamatan, born, woman=woman, serial=next(_serial))


def payload(**changes: Any) -> dict[str, Any]:
    """A valid request body (a fresh NIK each time)."""
    body = {
        "name": "Warga Uji",
        "nik": adult_nik(),
        "phone": "0812 3456 7890",
        "address": "Jl. Ciater Raya No. 1, RT 002/RW 003",
        "area": CIATER,
        "reason": "sick",
        "note": "Call before coming.",
        "preferred_dates": [],
        "consent": True,
    }
    body.update(changes)
    return body


async def make_request(session: AsyncSession, *, today: date | None = None, **changes: Any) -> HomeVisit:
    return await service.submit(session, data=HomeVisitCreate(**payload(**changes)), actor=SYSTEM, today=today)


async def make_kit(session: AsyncSession, *, capacity: int = 20, kind: str = "mobile", status: str = "active", **extra: Any) -> Device:
    device = Device(serial=f"KIT-{next(_serial)}", kind=kind, owner=extra.pop("owner", "apbd"), status=status, daily_capacity=capacity, **extra)
    session.add(device)
    await session.flush()
    return device


async def make_operator(session: AsyncSession, *, status: str = "active") -> Operator:
    number = next(_serial)
    operator = Operator(name=f"Petugas {number}", staff_number=f"OP-{number}", status=status)
    session.add(operator)
    await session.flush()
    return operator


async def triage(session: AsyncSession, visit_id: int, *, today: date | None = None) -> HomeVisit:
    return await service.change_status(session, visit_id=visit_id, data=StatusChange(status="triaged"), actor=SYSTEM, today=today)


async def schedule(
    session: AsyncSession, visit_id: int, *, device_id: int, operator_id: int, day: date, start: str = "09:00", end: str = "10:00", today: date | None = None
) -> HomeVisit:
    data = ScheduleRequest(device_id=device_id, operator_id=operator_id, date=day, window=VisitWindow(start=start, end=end))
    return await service.schedule(session, visit_id=visit_id, data=data, actor=SYSTEM, today=today)


async def crew_headers(session: AsyncSession, *, operator_id: int) -> dict[str, str]:
    """Bearer headers of an operator account that is this petugas (no service point)."""
    user = await auth.create_user(
        session,
        data=UserCreate(username=f"crew{next(_serial)}", display_name="Kru kit keliling", password=PASSWORD, role=Role.operator, operator_id=operator_id),
        actor=SYSTEM,
    )
    token, _ = await auth.sign_in(session, username=user.username, password=PASSWORD)
    return {"Authorization": f"Bearer {token}"}
