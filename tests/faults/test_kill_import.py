"""SIGKILL of the server in the middle of a large atomic tally import, then a restart.

The import is streamed as CSV and the upload is held after SENT_BEFORE_KILL rows: the server has
taken the campaign's write lock, written those rows' tallies, history and rollups in its open
transaction and is waiting for the rest, so the kill certainly lands mid-import (the test checks
the lock is held before it kills). After a restart on the same database the import must be wholly
absent or wholly present, the rollups must equal the raw sums, and re-posting the same body with
the same Idempotency-Key must complete it.
"""

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select, text

from api.areas.service import read_official_rows
from api.tallies.models import Tally, TallyImport
from api.tallies.writer import LOCK_NAMESPACE as _LOCK_NAMESPACE
from tests.conftest import sync_engine_for
from tests.demo_db import prepare_demo_and_admin
from tests.live import kill_server, start_server, wait_until_healthy
from tests.tallies.invariants import mismatches, queries

ROWS = 100_000
SENT_BEFORE_KILL = 60_000
ROOT = "36.74"
KEY = "kill-test-import-1"


def csv_body(areas: list[str], last_day) -> tuple[bytes, int]:
    """ROWS tallies, every area every day back from `last_day`; (body, byte offset after SENT_BEFORE_KILL rows)."""
    lines, cut, day = ["area,date,count\n"], 0, last_day
    while len(lines) <= ROWS:
        stamp = day.isoformat()
        for i, area in enumerate(areas):
            if len(lines) > ROWS:
                break
            lines.append(f"{area},{stamp},{1 + (i * 7 + day.toordinal()) % 40}\n")
            if len(lines) == SENT_BEFORE_KILL + 1:
                cut = sum(map(len, lines))
        day -= timedelta(days=1)
    return "".join(lines).encode(), cut


def held_stream(body: bytes, cut: int, release: threading.Event) -> Iterator[bytes]:
    """The body in 64 kB pieces, stopping at `cut` until `release` is set."""
    for start in range(0, cut, 65536):
        yield body[start : min(start + 65536, cut)]
    release.wait(120)
    for start in range(cut, len(body), 65536):
        yield body[start : start + 65536]


def writer_holds_lock(engine, campaign_id: int, url: str) -> bool:
    """Whether another connection is inside a write transaction on the campaign's tallies."""
    if url.startswith("postgresql"):
        with engine.connect() as connection:
            held = connection.scalar(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = :ns AND objid = :id"),
                {"ns": _LOCK_NAMESPACE, "id": campaign_id},
            )
            return bool(held)
    import sqlite3

    connection = sqlite3.connect(url.split("///", 1)[1], timeout=0)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.rollback()
        return False
    except sqlite3.OperationalError:  # "database is locked": the server is the writer
        return True
    finally:
        connection.close()


def written_bytes(engine, url: str) -> int:
    """Bytes the uncommitted import has put on disk so far (visible before it commits)."""
    if url.startswith("postgresql"):
        with engine.connect() as connection:
            return int(connection.scalar(text("SELECT pg_relation_size('tallies') + pg_relation_size('tally_changes')")))
    wal = url.split("///", 1)[1] + "-wal"
    return os.path.getsize(wal) if os.path.exists(wal) else 0


def cpu_seconds(pid: int) -> float:
    """CPU time the server has used so far (user + system, in clock ticks)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    return float(fields[11]) + float(fields[12])


def state(engine, campaign_id: int) -> tuple[int, int, list[str]]:
    """(tallies of the campaign, its imports, rollup mismatches)."""
    with engine.connect() as connection:
        tallies = connection.scalar(select(func.count()).select_from(Tally).where(Tally.campaign_id == campaign_id))
        imports = connection.scalar(select(func.count()).select_from(TallyImport).where(TallyImport.campaign_id == campaign_id))
        raw, rollups, totals = (connection.execute(q).all() for q in queries(campaign_id))
    return tallies, imports, mismatches(raw, rollups, totals, root=ROOT)


def test_killed_import_is_all_or_nothing_and_a_retry_with_the_key_completes_it(fresh_database_url: str) -> None:
    url = fresh_database_url
    token = prepare_demo_and_admin(url)
    headers = {"Authorization": f"Bearer {token}"}
    areas = [row["code"] for row in read_official_rows(ROOT) if row["code"].startswith(ROOT + ".")]
    yesterday = datetime.now(ZoneInfo("Asia/Jakarta")).date() - timedelta(days=1)
    body, cut = csv_body(areas, yesterday)
    engine = sync_engine_for(url)
    server, base = start_server(url)
    try:
        wait_until_healthy(base, server)
        created = httpx.post(
            f"{base}/api/v1/campaigns",
            headers=headers,
            json={
                "name": "Kill test",
                "root_area": ROOT,
                "start_date": (yesterday - timedelta(days=ROWS // len(areas) + 2)).isoformat(),
                "deadline": (yesterday + timedelta(days=60)).isoformat(),
                "target": 100_000_000,
            },
        )
        assert created.status_code == 201, created.text
        campaign_id = created.json()["id"]
        path = f"/api/v1/campaigns/{campaign_id}/tallies"
        post_headers = {**headers, "Content-Type": "text/csv", "Idempotency-Key": KEY}
        before = written_bytes(engine, url)
        release = threading.Event()
        with ThreadPoolExecutor(max_workers=1) as pool:
            upload = pool.submit(httpx.post, base + path, content=held_stream(body, cut, release), headers=post_headers, timeout=120)
            # Wait until the server holds the write lock and has either put a good part of the held
            # rows on disk (uncommitted) or gone idle waiting for the rest of the body: it is then
            # inside the import's transaction with the rows it received written.
            deadline = time.monotonic() + 90
            cpu, cpu_changed = cpu_seconds(server.pid), time.monotonic()
            while True:
                assert time.monotonic() < deadline, "the server never started writing the import"
                assert not upload.done(), upload.result().text[:500]
                time.sleep(0.1)
                now_cpu = cpu_seconds(server.pid)
                if now_cpu != cpu:
                    cpu, cpu_changed = now_cpu, time.monotonic()
                waiting_for_body = time.monotonic() - cpu_changed > 1.0
                if writer_holds_lock(engine, campaign_id, url) and (written_bytes(engine, url) - before > 2_000_000 or waiting_for_body):
                    break
            assert writer_holds_lock(engine, campaign_id, url)
            kill_server(server)
            release.set()
            with pytest.raises(httpx.TransportError):
                upload.result()
    finally:
        kill_server(server)

    # After the crash, before and after a restart: nothing of the import, rollups consistent.
    tallies, imports, problems = state(engine, campaign_id)
    assert (tallies, imports) in ((0, 0), (ROWS, 1)), (tallies, imports)
    assert problems == []

    server, base = start_server(url)
    try:
        wait_until_healthy(base, server)
        retried = httpx.post(base + path, content=body, headers=post_headers, timeout=300)
        assert retried.status_code == 200, retried.text[:1000]
        summary = retried.json()
        assert summary["rows"] == ROWS and summary["rejected"] == 0
        assert summary["imported"] + summary["unchanged"] == ROWS
        tallies, imports, problems = state(engine, campaign_id)
        assert (tallies, imports) == (ROWS, 1)
        assert problems == []
        # A second retry is answered from the stored summary and writes nothing.
        again = httpx.post(base + path, content=body, headers=post_headers, timeout=300)
        assert again.status_code == 200 and again.json() == summary
        assert state(engine, campaign_id)[:2] == (ROWS, 1)
    finally:
        kill_server(server)
        engine.dispose()
