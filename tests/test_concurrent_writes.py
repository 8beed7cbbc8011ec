"""Issue 17, item 7: six identical requests at once answer 409 (or the idempotent result), never 500.

Each service checks "does it exist?" before it inserts; concurrent requests all pass that check
and the database's unique index refuses all but one at flush or commit. `api/errors.py` turns that
refusal into 409. PostgreSQL only: SQLite has one writer at a time, so the requests queue up and
the later ones see the first one's row (409 from the service itself). The requests commit for
real, so the module builds its own database in the throwaway cluster.
"""

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import calendar
from api.types import Role
from tests.committing import committed_database, committing_client
from tests.factories import headers_for, make_campaign
from tests.services.factories import make_device, make_event, make_office, next_saturday

COPIES = 6


race_engine = committed_database("concurrent_writes")


async def _setup(engine, make: Callable[[AsyncSession], Awaitable[tuple[str, str, dict]]]) -> tuple[str, str, dict, dict[str, str]]:
    maker = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
    async with maker() as session, session.begin():
        method, url, body = await make(session)
        admin = await headers_for(session, role=Role.admin)
    return method, url, body, admin


async def _all_at_once(engine, method: str, url: str, body: dict, headers: dict[str, str]) -> list[httpx.Response]:
    async with committing_client(engine) as client:
        return list(await asyncio.gather(*(client.request(method, url, json=body, headers=headers) for _ in range(COPIES))))


async def _area(session: AsyncSession) -> tuple[str, str, dict]:
    return "POST", "/api/v1/areas", {"code": "36.74.01.1001.042", "name": "RW 042"}


async def _closure(session: AsyncSession) -> tuple[str, str, dict]:
    point = await make_office(session)
    return "POST", f"/api/v1/service-points/{point.id}/closures", {"date": next_saturday().isoformat(), "reason": "Libur"}


async def _targets(session: AsyncSession) -> tuple[str, str, dict]:
    campaign = await make_campaign(session)
    return "PUT", f"/api/v1/campaigns/{campaign.id}/targets", {"targets": [{"area": "36.74.01", "target": 80_828}]}


async def _assignments(session: AsyncSession) -> tuple[str, str, dict]:
    point = await make_event(session)
    device = await make_device(session)
    return "PUT", f"/api/v1/service-points/{point.id}/assignments", {"device_ids": [device.id]}


async def _snapshot(session: AsyncSession) -> tuple[str, str, dict]:
    campaign = await make_campaign(session)
    return "POST", f"/api/v1/campaigns/{campaign.id}/snapshots", {"area": "36.74.01", "as_of": calendar.today().isoformat(), "cumulative": 1234}


@pytest.mark.parametrize("make", [_area, _closure, _targets, _assignments, _snapshot], ids=["areas", "closures", "targets", "assignments", "snapshots"])
async def test_six_identical_writes_at_once_are_never_a_500(race_engine, make) -> None:
    method, url, body, admin = await _setup(race_engine, make)
    responses = await _all_at_once(race_engine, method, url, body, admin)
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {200, 201, 409} and statuses[0] in (200, 201), [r.text for r in responses]
    for conflict in (r for r in responses if r.status_code == 409):
        assert conflict.headers["content-type"].startswith("application/problem+json")


async def test_six_requests_for_one_resident_at_once_make_one_open_request(race_engine) -> None:
    """Issue 17, item 11: requests for one NIK racing past the "is one open?" check all get 201;
    the losers of the open-request index become merges of the winner."""
    from sqlalchemy import func, select

    from api.visits.models import HomeVisit, HomeVisitMerge
    from tests.visits.factories import adult_nik, payload

    nik = adult_nik()

    async def _visit(session: AsyncSession) -> tuple[str, str, dict]:
        await make_campaign(session)
        return "POST", "/api/v1/home-visits", payload(nik=nik)

    method, url, body, admin = await _setup(race_engine, _visit)
    responses = await _all_at_once(race_engine, method, url, body, admin)  # staff: not rate-limited
    assert [r.status_code for r in responses] == [201] * COPIES, [r.text for r in responses]
    assert len({r.json()["tracking_code"] for r in responses}) == COPIES
    maker = async_sessionmaker(race_engine, expire_on_commit=False)
    async with maker() as session:
        visit_ids = (await session.scalars(select(HomeVisit.id).where(HomeVisit.nik == nik))).all()
        assert len(visit_ids) == 1
        merges = await session.scalar(select(func.count()).select_from(HomeVisitMerge).where(HomeVisitMerge.home_visit_id == visit_ids[0]))
        assert merges == COPIES - 1
