"""Idempotency-Key with a retry sent while the first request is still running (or dies)."""

import asyncio
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession

from api import idempotency
from api.db import create_engine_for, sqlite_write_intent
from api.types import Role
from tests.factories import principal

ACTOR = principal(Role.admin)


async def _body() -> AsyncIterator[bytes]:
    yield b'{"tallies": []}'


async def _two_requests(url: str, *, first_commits: bool) -> tuple[list[str], tuple[int, dict]]:
    """A first request that is held mid-work, a retry with the same key meanwhile; the retry's answer."""
    engine = create_engine_for(url)
    calls: list[str] = []
    working, finish = asyncio.Event(), asyncio.Event()

    async def first_work(stream: AsyncIterator[bytes]) -> tuple[int, dict]:
        async for _ in stream:
            pass
        calls.append("first")
        working.set()
        await finish.wait()
        return 200, {"done_by": "first"}

    async def second_work(stream: AsyncIterator[bytes]) -> tuple[int, dict]:
        async for _ in stream:
            pass
        calls.append("second")
        return 200, {"done_by": "second"}

    async def request(work, *, commit: bool) -> tuple[int, dict]:
        sqlite_write_intent.set(True)  # a POST, as the app marks it
        async with AsyncSession(engine, expire_on_commit=False) as session:
            async with session.begin() as transaction:
                answer = await idempotency.run_once(session, key="retry-1", actor=ACTOR, method="POST", target="/t", body=_body(), work=work)
                if not commit:
                    await transaction.rollback()  # the first request's process died
            return answer

    try:
        first = asyncio.create_task(request(first_work, commit=first_commits))
        await working.wait()
        second = asyncio.create_task(request(second_work, commit=True))
        await asyncio.sleep(0.5)  # let the retry reach the database and wait there
        assert calls == ["first"]  # the retry is not doing the work in parallel
        finish.set()
        await first
        return calls, await second
    finally:
        await engine.dispose()


async def test_a_retry_during_the_request_waits_and_replays_its_answer(migrated_database_url: str) -> None:
    calls, answer = await _two_requests(migrated_database_url, first_commits=True)
    assert calls == ["first"]
    assert answer == (200, {"done_by": "first"})


async def test_a_retry_after_the_request_died_does_the_work(migrated_database_url: str) -> None:
    calls, answer = await _two_requests(migrated_database_url, first_commits=False)
    assert calls == ["first", "second"]
    assert answer == (200, {"done_by": "second"})
