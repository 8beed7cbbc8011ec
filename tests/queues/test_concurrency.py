"""Counters and walk-ins at the same moment, on committed data, each in its own connection."""

import asyncio
import random

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.areas import service as areas
from api.db import create_engine_for
from api.principal import ANONYMOUS, SYSTEM
from api.queues import service
from api.queues.models import Ticket
from api.queues.schemas import WalkIn
from tests.services.factories import make_office

WORKERS = 6
TICKETS = 36


async def _in_own_transaction(sessions: async_sessionmaker, work):
    """Run `work(session)` in a transaction of its own, again when the database says "busy"."""
    for attempt in range(200):
        try:
            async with sessions() as session, session.begin():
                return await work(session)
        except OperationalError:
            # SQLite: another writer committed after our transaction first read; start over.
            await asyncio.sleep(random.uniform(0.001, 0.01) * (1 + attempt % 5))
    raise AssertionError("the database stayed busy")


async def test_concurrent_walk_ins_and_counters_never_share_or_skip(migrated_database_url: str) -> None:
    engine = create_engine_for(migrated_database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        async with engine.begin() as connection:
            await areas.load_official(connection, prefix="36.74.01")
        point_id = await _in_own_transaction(sessions, lambda s: _office_id(s))

        async def walk_ins(_: int) -> list[int]:
            return [
                (await _in_own_transaction(sessions, lambda s: service.take_ticket(s, point_id=point_id, data=WalkIn(), actor=ANONYMOUS)))["number"]
                for _ in range(TICKETS // WORKERS)
            ]

        numbers = [n for batch in await asyncio.gather(*(walk_ins(i) for i in range(WORKERS))) for n in batch]
        assert sorted(numbers) == list(range(1, TICKETS + 1))

        async def counter(number: int) -> list[int]:
            called = []
            while True:
                ticket = await _in_own_transaction(sessions, lambda s: service.call_next(s, point_id=point_id, counter=number, actor=SYSTEM))
                if ticket is None:
                    return called
                called.append(ticket.id)

        called = [t for batch in await asyncio.gather(*(counter(i + 1) for i in range(WORKERS))) for t in batch]
        async with sessions() as session:
            tickets = list(await session.scalars(select(Ticket).where(Ticket.service_point_id == point_id)))
        assert len(called) == len(set(called)) == TICKETS  # nobody called twice
        assert sorted(called) == sorted(t.id for t in tickets)  # nobody skipped
        assert all(t.status == "called" and t.counter is not None for t in tickets)
    finally:
        await engine.dispose()


async def _office_id(session) -> int:
    return (await make_office(session, counters=WORKERS)).id
