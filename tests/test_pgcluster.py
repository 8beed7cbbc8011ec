"""The throwaway PostgreSQL harness itself: the Postgres-backed tests are
only as trustworthy as the cluster they run against."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import require_or_skip

try:
    from tests import pgcluster
except ImportError:  # tests/ is not a package; pytest put it on sys.path
    import pgcluster

psycopg = pytest.importorskip("psycopg")


@pytest.fixture(scope="module")
def pg_bin() -> Path:
    found = pgcluster.find_pg_bin()
    if found is None:
        require_or_skip("REKAM_REQUIRE_POSTGRES", "PostgreSQL server binaries (initdb, pg_ctl) not found")
    return found


def _postmaster_pid(datadir: Path) -> int:
    return int((datadir / "postmaster.pid").read_text().splitlines()[0])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Reparented zombies still answer kill(0) until PID 1 reaps them.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _wait_until(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_data_survives_stop_and_start(pg_bin: Path) -> None:
    with pgcluster.ThrowawayCluster(pg_bin) as pg:
        assert pg.url == f"postgresql+psycopg://postgres@127.0.0.1:{pg.port}/rekam_test"
        with psycopg.connect(pg.libpq_url) as conn:
            conn.execute("CREATE TABLE kecamatan (id int PRIMARY KEY, nama text NOT NULL)")
            conn.execute("INSERT INTO kecamatan VALUES (1, 'Cibeunying Kaler'), (2, 'Sukajadi')")

        pg.stop()
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(pg.libpq_url, connect_timeout=3)

        pg.start()
        with psycopg.connect(pg.libpq_url) as conn:
            rows = conn.execute("SELECT id, nama FROM kecamatan ORDER BY id").fetchall()
        assert rows == [(1, "Cibeunying Kaler"), (2, "Sukajadi")]

        datadir, tmpdir = pg.datadir, pg.tmpdir
        pid = _postmaster_pid(datadir)

    assert not tmpdir.exists()
    assert _wait_until(lambda: not _alive(pid)), f"postmaster {pid} outlived the cluster"


def test_create_database_returns_usable_url(pg_bin: Path) -> None:
    with pgcluster.ThrowawayCluster(pg_bin) as pg:
        url = pg.create_database("rekam_other")
        assert url == pg.url_for("rekam_other")
        with psycopg.connect(pg.libpq_url_for("rekam_other")) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("rekam_other",)
        with pytest.raises(ValueError):
            pg.create_database('x"; DROP DATABASE postgres; --')


def test_killed_owner_does_not_leak_a_server(pg_bin: Path, tmp_path: Path) -> None:
    # SIGKILL skips atexit and finally blocks, which is exactly how a CI
    # runner ends a hung job; the server must still go away.
    script = tmp_path / "owner.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys, time
            sys.path.insert(0, {str(Path(pgcluster.__file__).parent)!r})
            import pgcluster
            pg = pgcluster.ThrowawayCluster({str(pg_bin)!r}).__enter__()
            print(pg.tmpdir, flush=True)
            time.sleep(120)
            """
        )
    )
    owner = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        tmpdir = Path(owner.stdout.readline().strip())
        assert tmpdir.name.startswith("rekam-pg-"), "owner did not start a cluster"
        pid = _postmaster_pid(tmpdir / "data")
        assert _alive(pid)
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait()
        owner.stdout.close()

    assert _wait_until(lambda: not _alive(pid)), f"postmaster {pid} survived its owner"
    assert _wait_until(lambda: not tmpdir.exists()), f"{tmpdir} was not removed"
