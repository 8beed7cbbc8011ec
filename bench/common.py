"""Shared set-up of the benchmarks: a database with the whole country, a server, a campaign."""

import asyncio
import contextlib
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable


def cli(url: str, *args: str) -> None:
    subprocess.run([PYTHON, "-m", "api.cli", *args], env={**os.environ, "DATABASE_URL": url}, cwd=ROOT, check=True, capture_output=True)


def prepare(url: str) -> None:
    """Migrate and load all 91,600 official areas."""
    cli(url, "migrate")
    cli(url, "areas", "load")


async def _campaign_and_key(url: str, *, days_back: int, name: str, root: str = "0") -> tuple[int, str]:
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.auth import service as auth
    from api.auth.models import User
    from api.auth.schemas import ApiKeyCreate, UserCreate
    from api.campaigns import service as campaigns
    from api.campaigns.schemas import CampaignCreate
    from api.db import create_engine_for
    from api.principal import SYSTEM
    from api.types import Role

    engine = create_engine_for(url)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            today = date.today()
            campaign = await campaigns.create_campaign(
                session,
                data=CampaignCreate(
                    name=name, root_area=root, start_date=today - timedelta(days=days_back), deadline=today + timedelta(days=90), target=200_000_000
                ),
                actor=SYSTEM,
            )
            # A key needs an owner (an active account): one bench admin, made once per database.
            if await session.scalar(select(User.id).where(User.username == "bench.admin")) is None:
                user = UserCreate(username="bench.admin", display_name="bench", password=secrets.token_urlsafe(16), role=Role.admin)
                await auth.create_user(session, data=user, actor=SYSTEM)
            data = ApiKeyCreate(name=f"bench {name}", role=Role.admin, owner="bench.admin")
            _, key = await auth.create_api_key(session, data=data, actor=SYSTEM)
            return campaign.id, key
    finally:
        await engine.dispose()


def campaign_and_key(url: str, *, days_back: int = 30, name: str = "bench", root: str = "0") -> tuple[int, str]:
    return asyncio.run(_campaign_and_key(url, days_back=days_back, name=name, root=root))


def kecamatan_codes() -> list[str]:
    from api.areas.service import read_official_rows

    return [row["code"] for row in read_official_rows() if row["level"] == "kecamatan"]


def cpu_seconds(pids: list[int]) -> float:
    """The CPU time (user and system, every thread) the processes have used so far (Linux /proc)."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _started(command: list[str], env: dict[str, str], port: int) -> Iterator[tuple[str, int]]:
    """A server process on 127.0.0.1:port, once its health answers; stopped on the way out."""
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not start")
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def server(url: str) -> Iterator[tuple[str, int]]:
    """uvicorn on 127.0.0.1 as a subprocess; yields (base url, pid)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "REKAM_LOG_LEVEL": "WARNING", "REKAM_SERVE_FRONTEND": "false"}
    command = [
        PYTHON,
        "-m",
        "uvicorn",
        "api.main:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with _started(command, env, port) as started:
        yield started


@contextmanager
def serve_frontend(url: str) -> Iterator[str]:
    """`rekam serve` (the API and the SPA's files, as residents get them) on 127.0.0.1; yields its base url."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "REKAM_LOG_LEVEL": "WARNING"}
    with _started([PYTHON, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)], env, port) as (base, _pid):
        yield base


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def median_ms(client: httpx.Client, url: str, runs: int, **params: str) -> float:
    client.get(url, params=params)  # warm up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url, params=params)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text[:300]
    return statistics.median(times)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), "?")
    return f"{os.cpu_count()} cores, {cpu}, Python {sys.version.split()[0]}"
