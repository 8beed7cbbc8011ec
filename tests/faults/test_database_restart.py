"""PostgreSQL goes away under a running app: 503 problem+json while it is down, normal after."""

import time

import httpx
import pytest

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
