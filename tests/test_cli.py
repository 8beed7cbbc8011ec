"""The operators' commands on a fresh machine."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import migrate
from tests.live import kill_server, start_server, wait_until_healthy


def test_migrate_creates_the_database_folder(tmp_path) -> None:
    database = tmp_path / "not-yet" / "rekam.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    done = subprocess.run([sys.executable, "-m", "api.cli", "migrate"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert database.is_file()


def _listening_and_held(port: int, pids: list[int]) -> tuple[dict[int, set[str]], dict[int, int]]:
    """Per process: the inodes of its listening sockets on `port`, and how many of the port's
    established connections it holds (Linux /proc)."""
    rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    on_port = [row for row in rows if int(row[1].rsplit(":", 1)[1], 16) == port]
    listening = {row[9] for row in on_port if row[3] == "0A"}
    established = {row[9] for row in on_port if row[3] == "01"}
    listens: dict[int, set[str]] = {}
    holds: dict[int, int] = {}
    for pid in pids:
        inodes = {link[8:-1] for link in (os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()) if link.startswith("socket:[")}
        listens[pid] = inodes & listening
        holds[pid] = len(inodes & established)
    return listens, holds


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux /proc")
def test_each_worker_listens_on_a_socket_of_its_own_and_gets_connections(tmp_path) -> None:
    """`rekam serve --workers 2`: two listening sockets on the port, one per worker (SO_REUSEPORT),
    none in the supervisor; 32 kept-alive clients arriving at once reach both workers (with one
    shared socket, one worker once took 30 of them)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'rekam.db'}"
    migrate(url)
    server, base = start_server(url, workers=2)
    try:
        wait_until_healthy(base, server)
        port = int(base.rsplit(":", 1)[1])
        workers = [int(pid) for pid in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()]
        clients = [httpx.Client(base_url=base, timeout=10) for _ in range(32)]
        try:
            for client in clients:
                assert client.get("/api/v1/health").status_code == 200
            listens, holds = _listening_and_held(port, [server.pid, *workers])
        finally:
            for client in clients:
                client.close()
    finally:
        kill_server(server)
    serving = [pid for pid in workers if listens[pid]]
    assert len(serving) == 2, listens  # the spawn's resource tracker is a child too, listening on nothing
    assert all(len(listens[pid]) == 1 for pid in serving) and listens[serving[0]] != listens[serving[1]], listens
    assert not listens[server.pid], "the supervisor only holds the port: it is given no connection"
    assert sum(holds[pid] for pid in serving) == 32 and all(holds[pid] for pid in serving), holds


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="elsewhere uvicorn's own socket and message")
def test_serve_says_when_the_port_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert f"127.0.0.1:{port}" in done.stderr and "in use" in done.stderr
