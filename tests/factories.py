"""Data for tests, made through the services (so rules and audit apply as in production)."""

from datetime import date, timedelta
from itertools import count

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from api import calendar
from api.auth import service as auth
from api.auth.schemas import UserCreate
from api.campaigns import service as campaigns
from api.campaigns.models import Campaign
from api.campaigns.schemas import CampaignCreate
from api.principal import SYSTEM, Principal
from api.services.models import ServicePoint
from api.types import Role

_sequence = count(1)
PASSWORD = "correct-horse-battery"


async def make_campaign(
    session: AsyncSession, *, root: str = "36.74", target: int = 760_097, start: date | None = None, deadline: date | None = None
) -> Campaign:
    today = calendar.today()
    return await campaigns.create_campaign(
        session,
        data=CampaignCreate(
            name=f"Campaign {next(_sequence)}",
            root_area=root,
            start_date=start or today - timedelta(days=60),
            deadline=deadline or today + timedelta(days=60),
            target=target,
        ),
        actor=SYSTEM,
    )


async def make_service_point(session: AsyncSession, *, area: str = "36.74.01", kind: str = "kecamatan_office", name: str | None = None) -> ServicePoint:
    point = ServicePoint(kind=kind, name=name or f"Point {next(_sequence)}", area_code=area, counters=2, opening_hours={})
    session.add(point)
    await session.flush()
    return point


async def make_user(session: AsyncSession, *, role: Role, area: str | None = None, service_point_id: int | None = None, password: str = PASSWORD):
    return await auth.create_user(
        session,
        data=UserCreate(
            username=f"{role.value}{next(_sequence)}",
            display_name=f"Test {role.value}",
            password=password,
            role=role,
            area=area,
            service_point_id=service_point_id,
        ),
        actor=SYSTEM,
    )


async def headers_for(session: AsyncSession, *, role: Role, area: str | None = None, service_point_id: int | None = None) -> dict[str, str]:
    """Authorization headers of a new user with this role and scope."""
    if role == Role.operator and service_point_id is None:
        service_point_id = (await make_service_point(session)).id
    user = await make_user(session, role=role, area=area, service_point_id=service_point_id)
    token, _ = await auth.sign_in(session, username=user.username, password=PASSWORD)
    return {"Authorization": f"Bearer {token}"}


def principal(role: Role, *, area: str | None = None, service_point_id: int | None = None) -> Principal:
    return Principal(kind="user", id=None, name=f"test-{role.value}", role=role, area=area, service_point_id=service_point_id)


def assert_problem(response: httpx.Response, status: int, *, field: str | None = None) -> dict:
    """The response is problem+json with this status (and names `field` when given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers["content-type"]
    body = response.json()
    assert body["status"] == status and body["title"]
    if field is not None:
        fields = [item.get("field") for item in body.get("errors") or []]
        assert any(f == field or (f or "").endswith("." + field) or (f or "").startswith(field) for f in fields), body
    return body
