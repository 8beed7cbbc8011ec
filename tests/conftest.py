"""The test harness.

Every test that touches the database runs twice: on a SQLite file and on a throwaway PostgreSQL
cluster (tests/pgcluster.py). The schema is built once per backend by `alembic upgrade head`; each
test then runs inside a transaction that is rolled back at the end, and the app under test shares
that transaction (its commits become savepoints).

Without PostgreSQL server binaries the PostgreSQL half is skipped, unless REKAM_REQUIRE_POSTGRES=1
(as in CI), which turns the skip into a failure.
"""

import io
import os
import sys
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.config import Settings
from api.db import create_engine_for, get_session, sync_url
from tests.pgcluster import ThrowawayCluster, find_pg_bin
from tests.privacy import pytest_configure, pytest_runtest_protocol, pytest_sessionfinish  # noqa: F401 - the personal-data sweep's hooks

BACKENDS = ["sqlite", "postgresql"]


def require_or_skip(variable: str, reason: str) -> None:
    """Skip on a laptop without the tool; fail where CI promised to have it."""
    if os.environ.get(variable) == "1":
        pytest.fail(f"{reason}, but {variable}=1 requires it")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[ThrowawayCluster]:
    if find_pg_bin() is None:
        require_or_skip("REKAM_REQUIRE_POSTGRES", "PostgreSQL server binaries (initdb, pg_ctl) not found")
    with ThrowawayCluster() as cluster:
        yield cluster


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'rekam.db'}"
    cluster = request.getfixturevalue("pg_cluster")
    return cluster.url


def migrate(url: str, revision: str = "head") -> None:
    from alembic import command

    from api.cli import alembic_config

    command.upgrade(alembic_config(url), revision)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    migrate(database_url)
    engine = create_engine_for(database_url)
    from api.areas import service as areas

    async with engine.begin() as connection:
        await areas.load_official(connection, prefix="36.74")
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        session = AsyncSession(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False, autoflush=False)
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()


@pytest.fixture
def settings() -> Settings:
    return Settings(serve_frontend=False, log_json=True)


@pytest.fixture
def app(session: AsyncSession, settings: Settings):
    from api.main import create_app

    app = create_app(settings)

    async def shared_session() -> AsyncIterator[AsyncSession]:
        # Each request is a savepoint inside the test's transaction: a failed request undoes its own
        # writes and nothing the test set up before it, as in production where it is a transaction.
        request_transaction = await session.begin_nested()
        try:
            yield session
        except BaseException as exc:
            if getattr(exc, "keep_changes", False):
                await request_transaction.commit()
            else:
                await request_transaction.rollback()
            raise
        else:
            await request_transaction.commit()

    app.dependency_overrides[get_session] = shared_session
    return app


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
def fresh_database_url(database_url: str, request: pytest.FixtureRequest, tmp_path) -> str:
    """An empty database of the same backend as `database_url`, for tests that commit."""
    if database_url.startswith("sqlite"):
        return f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    cluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database(f"fresh_{tmp_path.name[-10:].lower().replace('-', '_')}")


@pytest.fixture
def migrated_database_url(fresh_database_url: str) -> str:
    """A fresh database with the schema, for tests whose sessions commit (concurrency, servers)."""
    migrate(fresh_database_url)
    return fresh_database_url


@pytest.fixture
def configured_database(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the app's settings (DATABASE_URL) at a fresh, migrated database, as the CLI sees it."""
    from api.config import get_settings
    from api.db import get_engine, get_sessionmaker

    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    for cached in (get_settings, get_engine, get_sessionmaker):
        cached.cache_clear()
    migrate(fresh_database_url)
    yield fresh_database_url
    for cached in (get_settings, get_engine, get_sessionmaker):
        cached.cache_clear()


@pytest.fixture
def log_output(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Everything structlog writes during the test, as text."""
    from api.logging import configure_logging

    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)
    configure_logging(Settings(log_json=True))
    yield buffer
    monkeypatch.undo()
    configure_logging(Settings(log_json=True))


def sync_engine_for(url: str):
    return create_engine(sync_url(url))
