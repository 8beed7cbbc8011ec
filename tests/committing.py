"""For tests whose requests must commit for real (races on PostgreSQL).

The default `session` fixture is one rolled-back transaction, and two requests inside it cannot
race. These tests take a database of their own in the throwaway cluster (the city's areas loaded)
and an app whose every request opens, commits or rolls back its own session, as in production.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.areas import service as areas
from api.config import Settings
from api.db import commit, create_engine_for, get_session, hold_last_writes
from tests.conftest import migrate


@asynccontextmanager
async def city_database(pg_cluster: Any, name: str) -> AsyncIterator[AsyncEngine]:
    url = pg_cluster.create_database(name)
    migrate(url)
    engine = create_engine_for(url)
    async with engine.begin() as connection:
        await areas.load_official(connection, prefix="36.74")
    try:
        yield engine
    finally:
        await engine.dispose()


def committed_database(name: str) -> Callable[..., Any]:
    """The module fixture `race_engine`: the module's own database `name` (`city_database`)."""

    @pytest.fixture(scope="module", name="race_engine")
    async def fixture(pg_cluster: Any) -> AsyncIterator[AsyncEngine]:
        async with city_database(pg_cluster, name) as engine:
            yield engine

    return fixture


@asynccontextmanager
async def committing_client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    from api.main import create_app  # the app of this test's database, built when asked

    maker = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
    app = create_app(Settings(serve_frontend=False, log_json=True))

    async def own_session() -> AsyncIterator[AsyncSession]:
        async with maker() as session:
            hold_last_writes(session)
            try:
                yield session
                await commit(session)
            except BaseException:
                await session.rollback()
                raise

    app.dependency_overrides[get_session] = own_session
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
