"""Issue 22: a script's concurrent requests with one API key never wait for each other on the key's
row (PostgreSQL). `last_used_at` is written at most once a minute, by the request that finds the
row free; the others skip it (`SKIP LOCKED`) rather than queue behind that request's COMMIT."""

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.auth import service as auth
from api.auth.models import ApiKey
from api.auth.schemas import ApiKeyCreate, UserCreate
from api.principal import SYSTEM
from api.types import Role
from tests.committing import committed_database

race_engine = committed_database("auth_key_use")


async def test_requests_with_one_key_skip_its_locked_row(race_engine) -> None:
    maker = async_sessionmaker(race_engine, expire_on_commit=False, autoflush=False)
    async with maker() as session, session.begin():
        user = UserCreate(username="script.owner", display_name="Script", password=secrets.token_urlsafe(16), role=Role.admin)
        await auth.create_user(session, data=user, actor=SYSTEM)
        key_row, key = await auth.create_api_key(session, data=ApiKeyCreate(name="script", role=Role.admin, owner="script.owner"), actor=SYSTEM)

    async with maker() as first, maker() as second:
        await first.begin()
        await auth.principal_from_api_key(first, key=key)  # notes the minute: the row is locked until COMMIT
        await second.begin()
        await second.execute(text("SET LOCAL lock_timeout = '5s'"))  # a wait would fail the test, not hang it
        started = asyncio.get_running_loop().time()
        principal = await auth.principal_from_api_key(second, key=key)
        assert principal.id == key_row.id
        assert asyncio.get_running_loop().time() - started < 2, "the second request waited for the first one's row"
        await second.rollback()
        await first.commit()

    async with maker() as session:
        noted = await session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key_row.id))
    assert noted is not None and datetime.now(UTC) - noted < timedelta(minutes=1)

    # Within the minute nothing is written; past it, the next request notes the time again.
    async with maker() as session, session.begin():
        await auth.principal_from_api_key(session, key=key)
    async with maker() as session:
        assert await session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key_row.id)) == noted
    async with maker() as session, session.begin():
        await session.execute(update(ApiKey).where(ApiKey.id == key_row.id).values(last_used_at=noted - timedelta(minutes=5)))
    async with maker() as session, session.begin():
        await auth.principal_from_api_key(session, key=key)
    async with maker() as session:
        again = await session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key_row.id))
    assert again is not None and again > noted - timedelta(minutes=5) and datetime.now(UTC) - again < timedelta(minutes=1)
