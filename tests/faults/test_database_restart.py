"""PostgreSQL goes away under a running app: 503 problem+json while it is down, normal after."""

import time

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from api import db
from api.db import create_engine_for
from tests.conftest import migrate, require_or_skip
from tests.live import live_server
from tests.pgcluster import ThrowawayCluster, find_pg_bin


@pytest.fixture
def own_cluster():
    if find_pg_bin() is None:
        require_or_skip("REKAM_REQUIRE_POSTGRES", "PostgreSQL server binaries (initdb, pg_ctl) not found")
    with ThrowawayCluster() as cluster:
        yield cluster


def test_requests_fail_with_503_while_the_database_is_down_and_recover(own_cluster: ThrowawayCluster) -> None:
    migrate(own_cluster.url)
    with live_server(own_cluster.url) as base:
        assert httpx.get(f"{base}/api/v1/campaigns").status_code == 200
        own_cluster.stop()
        down = httpx.get(f"{base}/api/v1/campaigns", timeout=30)
        assert down.status_code == 503, down.text
        assert down.headers["content-type"].startswith("application/problem+json")
        assert int(down.headers["retry-after"]) > 0
        # Public reads, /health among them, may be answered from the process's read cache for up
        # to REKAM_PUBLIC_READ_CACHE_SECONDS (1 s, api/fastpath.py); past that, health says 503.
        time.sleep(1.2)
        health = httpx.get(f"{base}/api/v1/health", timeout=30)
        assert health.status_code == 503
        own_cluster.start()
        answers = [httpx.get(f"{base}/api/v1/campaigns", timeout=30).status_code for _ in range(3)]
        assert answers[-1] == 200 and 500 not in answers, answers


async def _select_one(engine) -> int:
    async with engine.connect() as connection:
        return (await connection.execute(text("SELECT 1"))).scalar_one()


async def test_a_pooled_connection_is_pinged_only_after_sitting_idle(own_cluster: ThrowawayCluster, monkeypatch) -> None:
    """Not at every checkout (a round trip per request under load), but a connection that sat in
    the pool past IDLE_BEFORE_PING_SECONDS is pinged, and a dead one replaced instead of failing."""
    engine = create_engine_for(own_cluster.url)
    try:
        assert await _select_one(engine) == 1
        own_cluster.restart()
        # Returned moments ago: used as it is, and the restart shows.
        monkeypatch.setattr(db, "IDLE_BEFORE_PING_SECONDS", 3600.0)
        with pytest.raises(DBAPIError) as failed:
            await _select_one(engine)
        assert failed.value.connection_invalidated
        assert await _select_one(engine) == 1  # the pool was renewed
        own_cluster.restart()
        # Idle long enough: pinged, found dead, replaced; the caller sees nothing.
        monkeypatch.setattr(db, "IDLE_BEFORE_PING_SECONDS", 0.0)
        assert await _select_one(engine) == 1
    finally:
        await engine.dispose()
