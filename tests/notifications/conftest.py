from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import api.notifications.models  # noqa: F401 - the tables on Base.metadata
from api.config import Settings, get_settings
from api.db import create_engine_for
from api.notifications.gateway import LogGateway
from api.notifications.worker import Worker
from tests.notifications.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def allow_private(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """REKAM_WEBHOOK_ALLOW_PRIVATE_TARGETS=true: the receivers here are on 127.0.0.1."""
    monkeypatch.setenv("REKAM_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("REKAM_WEBHOOK_ALLOW_PRIVATE_TARGETS")
    get_settings.cache_clear()


def worker_settings(**changes) -> Settings:
    values = {"webhook_allow_private_targets": True, "webhook_timeout_seconds": 5.0, "notifications_lease_seconds": 30.0, "notifications_batch": 20}
    values.update(changes)
    return Settings(**values)


@pytest.fixture
async def committed_engine(migrated_database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh migrated database whose transactions really commit (workers need that)."""
    engine = create_engine_for(migrated_database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(committed_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(committed_engine, expire_on_commit=False, autoflush=False)


@pytest.fixture
async def worker(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Worker]:
    worker = Worker(sessions, settings=worker_settings(), gateway=LogGateway(), backoff=(0, 0, 0), message_backoff=(0, 0))
    yield worker
    await worker.aclose()


@pytest.fixture
def webhooks_app(app):
    """The app (api/main.py includes the webhooks and notifications routers)."""
    return app
