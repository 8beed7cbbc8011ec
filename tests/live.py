"""A real `uvicorn` server in a subprocess, for tests that need HTTP over a socket."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(database_url: str, *, env: dict[str, str] | None = None, workers: int = 1) -> tuple[subprocess.Popen, str]:
    """Start `rekam serve` on 127.0.0.1:<free port> in its own process group; (process, base URL).

    Its own group, so a test can SIGKILL the server and any workers at once (`kill_server`)."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REKAM_SERVE_FRONTEND": "false",
        "REKAM_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    command = [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    return subprocess.Popen(command, env=environment, start_new_session=True), f"http://127.0.0.1:{port}"


def kill_server(server: subprocess.Popen) -> None:
    """SIGKILL the server's whole process group, as a crash or the OOM killer would."""
    with suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait()


@contextmanager
def live_server(database_url: str, *, env: dict[str, str] | None = None, workers: int = 1, wait: bool = True) -> Iterator[str]:
    """Serve the app on 127.0.0.1:<free port> against `database_url`; yields the base URL."""
    server, base = start_server(database_url, env=env, workers=workers)
    try:
        if wait:
            wait_until_healthy(base, server)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            kill_server(server)


def wait_until_healthy(base: str, server: subprocess.Popen | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server is not None and server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server at {base} did not become healthy")
