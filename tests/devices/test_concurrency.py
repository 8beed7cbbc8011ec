"""Two moves of one device at the same time, on PostgreSQL, with separate connections.

The default `session` fixture is one rolled-back transaction, so this test builds its own
database in the throwaway cluster and commits for real.
"""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import calendar
from api.devices import service
from api.devices.models import Allocation
from api.devices.schemas import PlacementCreate
from api.errors import Conflict
from api.principal import SYSTEM
from api.types import Role
from tests.committing import committed_database, committing_client
from tests.devices.factories import make_device, place_device
from tests.factories import headers_for

TODAY = calendar.today()


race_engine = committed_database("devices_race")


async def _device(maker: async_sessionmaker[AsyncSession], *, placed: bool) -> int:
    async with maker() as session, session.begin():
        device_id = await make_device(session)
        if placed:
            await place_device(session, device_id, area="36.74.01", starts_on=TODAY - timedelta(days=10))
        return device_id


async def _allocations(maker: async_sessionmaker[AsyncSession], device_id: int) -> list[tuple[str, object, object]]:
    async with maker() as session:
        rows = await session.scalars(select(Allocation).where(Allocation.device_id == device_id).order_by(Allocation.starts_on))
        return [(a.area_code, a.starts_on, a.ends_on) for a in rows.all()]


async def test_the_database_settles_two_moves_the_service_cannot_see(race_engine) -> None:
    maker = async_sessionmaker(race_engine, expire_on_commit=False, autoflush=False)
    device_id = await _device(maker, placed=False)
    first, second = maker(), maker()
    try:
        await first.begin()
        await second.begin()
        await service.allocate_device(first, device_id=device_id, data=PlacementCreate(area="36.74.02", starts_on=TODAY), actor=SYSTEM)
        # The second move checks for overlaps before the first commits, so only the database can stop it.
        racing = asyncio.create_task(
            service.allocate_device(second, device_id=device_id, data=PlacementCreate(area="36.74.03", starts_on=TODAY + timedelta(days=1)), actor=SYSTEM)
        )
        await asyncio.sleep(0.3)
        assert not racing.done(), "the second insert should wait for the first transaction"
        await first.commit()
        with pytest.raises(Conflict):
            await racing
        await second.rollback()
    finally:
        await first.close()
        await second.close()
    assert await _allocations(maker, device_id) == [("36.74.02", TODAY, None)]


async def test_two_concurrent_moves_over_http_one_wins_the_other_gets_409(race_engine) -> None:
    maker = async_sessionmaker(race_engine, expire_on_commit=False, autoflush=False)
    device_id = await _device(maker, placed=True)
    async with maker() as session, session.begin():
        admin = await headers_for(session, role=Role.admin)
    async with committing_client(race_engine) as client:
        moves = [
            client.post(f"/api/v1/devices/{device_id}/allocations", json={"area": area, "from": (TODAY + timedelta(days=days)).isoformat()}, headers=admin)
            for area, days in (("36.74.02", 1), ("36.74.03", 2))
        ]
        responses = await asyncio.gather(*moves)
    assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.headers["content-type"].startswith("application/problem+json")
    winner = next(r for r in responses if r.status_code == 201).json()
    history = await _allocations(maker, device_id)
    assert len(history) == 2 and history[0][2] == TODAY + timedelta(days=(1 if winner["area"] == "36.74.02" else 2) - 1)
    assert history[1] == (winner["area"], TODAY + timedelta(days=1 if winner["area"] == "36.74.02" else 2), None)
