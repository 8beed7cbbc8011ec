"""Demo staff: one account per role, with random passwords printed once. Demo only.

The operator works at the Serpong kecamatan office; the office is created here when no service
point of that name exists yet (the services demo looks it up by name and completes it).
"""

import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import service
from api.auth.models import User
from api.auth.schemas import UserCreate
from api.principal import SYSTEM
from api.services.models import ServicePoint, ServicePointKind
from api.types import Role

SERPONG = "36.74.01"
SERPONG_OFFICE = "Kantor Kecamatan Serpong"
# Weekdays, and Saturday and Sunday too: the campaign opens on weekends for residents busy in the week.
OFFICE_HOURS = {day: [["08:00", "15:00"]] for day in ("mon", "tue", "wed", "thu", "fri")} | {"sat": [["08:00", "14:00"]], "sun": [["08:00", "14:00"]]}
# username, role, display name; the supervisor is scoped to Serpong, the operator to its office.
DEMO_STAFF = [
    ("admin", Role.admin, "Admin Disdukcapil (demo)"),
    ("viewer", Role.viewer, "Pemantau kampanye (demo)"),
    ("handler", Role.handler, "Petugas pengaduan pungli (demo)"),
    ("serpong.supervisor", Role.supervisor, "Supervisor Kecamatan Serpong (demo)"),
    ("serpong.operator", Role.operator, "Operator Kantor Kecamatan Serpong (demo)"),
]


async def serpong_office(session: AsyncSession) -> ServicePoint:
    point = await session.scalar(select(ServicePoint).where(ServicePoint.name == SERPONG_OFFICE).order_by(ServicePoint.id).limit(1))
    if point is None:
        point = ServicePoint(
            kind=ServicePointKind.kecamatan_office.value, name=SERPONG_OFFICE, area_code=SERPONG, counters=2, opening_hours=OFFICE_HOURS, active=True
        )
        session.add(point)
        await session.flush()
    return point


async def load(session: AsyncSession) -> list[str]:
    """Create the demo accounts that are missing; the lines to print (passwords only when created)."""
    existing = set((await session.scalars(select(User.username).where(User.username.in_([s[0] for s in DEMO_STAFF])))).all())
    lines = []
    for username, role, display_name in DEMO_STAFF:
        if username in existing:
            lines.append(f"user {username} ({role.value}): already there, password unchanged")
            continue
        area = SERPONG if role == Role.supervisor else None
        point = (await serpong_office(session)).id if role == Role.operator else None
        password = secrets.token_urlsafe(12)
        await service.create_user(
            session,
            data=UserCreate(username=username, display_name=display_name, password=password, role=role, area=area, service_point_id=point),
            actor=SYSTEM,
        )
        scope = f" of {area}" if area else (f" at {SERPONG_OFFICE}" if point else "")
        lines.append(f"user {username} ({role.value}{scope}): password {password}  (demo only; shown once)")
    return lines


OPERATOR_PASSWORD = "rekam-demo-operator"


def slug(name: str) -> str:
    return name.lower().replace(" ", "-")


async def load_office_operators(session: AsyncSession, *, offices: dict[str, ServicePoint]) -> list[str]:
    """An operator account at each kecamatan office (`operator-<kecamatan>`); the usernames made."""
    created = []
    for office in offices.values():
        name = office.name.removeprefix("Kantor Kecamatan ")
        username = f"operator-{slug(name)}"
        if await session.scalar(select(User.id).where(User.username == username)) is None:
            await service.create_user(
                session,
                data=UserCreate(username=username, display_name=f"Operator {name}", password=OPERATOR_PASSWORD, role=Role.operator, service_point_id=office.id),
                actor=SYSTEM,
            )
            created.append(username)
    return created
