"""Load: a realistic mix against `rekam serve --workers N` on a throwaway PostgreSQL, loopback only.

Set-up, as an operator would do it: a private PostgreSQL cluster (tests/pgcluster.py), `rekam
migrate`, `rekam demo` (Kota Tangerang Selatan), then the credentials the traffic needs: a
supervisor API key for the city's tally script and one signed-in operator per kecamatan office.
The offices are opened around the clock so that the run does not depend on the time of day.

Two phases with the same number of concurrent clients, each bounded in time and in requests:
1. GET /api/v1/health, the floor of what the stack (uvicorn, middleware, client) can do;
2. the mix: most clients read public progress (the city and one kecamatan), the daily series, the
   schedule, the service points and the queue boards; some take a number (residents behind the
   proxy, each with their own address), call the next resident to a counter and complete them
   (operators), and post a small batch of today's tallies (the API-key script).

Each client remembers the ETag of what it read and sends If-None-Match, as a browser does; a 304
counts as an answer. Expected non-2xx answers: 204 (nobody waiting) and 409 on a counter move that
lost a race. Anything else, or a transport error, is an error; the script exits 1 if there was one.

The clients are cheap (bench/http1.py: raw HTTP/1.1 on kept-alive connections, uvloop when
installed), so that the figures are the server's, not the load generator's queueing; the script
prints the CPU seconds it used. The health phase's p99 is the floor of every figure of the mix.

Run: python bench/bench_load.py [--seconds 15] [--health-seconds 5] [--concurrency 32] [--workers 2]
     [--mix all|writes] [--sample-waits]
"""

import argparse
import asyncio
import contextlib
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from common import PYTHON, ROOT, cli, cpu_seconds, free_port, machine
from http1 import Client, HTTPError, Response, install_uvloop

from tests.pgcluster import ThrowawayCluster, find_pg_bin

CITY = "36.74"
EXPECTED = {200, 201, 204, 304}
# Share of the mix per kind of work (a counter turn is three requests: call-next, start, complete).
WEIGHTS = {
    "progress city": 18,
    "progress kecamatan": 14,
    "progress daily": 8,
    "schedule": 8,
    "service points": 8,
    "queue board": 22,
    "city queue board": 9,
    "take a number": 6,
    "counter turn": 6,
    "tally post": 1,
}
# `--mix writes` (issue #22): only the writers that contend for a campaign's tallies and queues, so
# that lock waits show even when the machine is busy: take a number, counter turns, tally posts.
WRITE_WEIGHTS = {"take a number": 6, "counter turn": 6, "tally post": 2}


@dataclass
class Fixture:
    campaign_id: int
    tally_key: str
    kelurahan: dict[str, list[str]]  # kecamatan -> its kelurahan
    offices: dict[int, int]  # service point -> counters
    operators: dict[int, tuple[str, str]]  # service point -> (username, password)


async def _prepare(url: str) -> Fixture:
    """Credentials and 24-hour offices, written once before the server starts."""
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import AsyncSession

    import api.models  # noqa: F401 - every table, so that foreign keys between domains resolve
    from api import flows
    from api.area_codes import in_subtree
    from api.areas.models import Area
    from api.auth import service as auth
    from api.auth.schemas import ApiKeyCreate, UserCreate
    from api.campaigns.models import Campaign
    from api.db import create_engine_for
    from api.principal import SYSTEM
    from api.services.models import WEEKDAYS, ServicePoint, ServicePointKind
    from api.services.schemas import ServicePointUpdate
    from api.types import Role

    engine = create_engine_for(url)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            campaign_id = await session.scalar(select(Campaign.id).where(Campaign.root_area_code == CITY).order_by(Campaign.id).limit(1))
            assert campaign_id is not None, "the demo has no campaign for the city"
            # A key needs an active account answerable for it (#17): the city's supervisor of the script.
            await auth.create_user(
                session,
                data=UserCreate(username="load.script", display_name="Load tally script", password=secrets.token_urlsafe(16), role=Role.supervisor, area=CITY),
                actor=SYSTEM,
            )
            _, tally_key = await auth.create_api_key(
                session, data=ApiKeyCreate(name="load: city tally script", role=Role.supervisor, area=CITY, owner="load.script"), actor=SYSTEM
            )
            kelurahan: dict[str, list[str]] = defaultdict(list)
            for code in (await session.scalars(select(Area.code).where(in_subtree(Area.code, CITY), Area.level == "kelurahan").order_by(Area.code))).all():
                kelurahan[code.rsplit(".", 1)[0]].append(code)
            points = (
                await session.scalars(select(ServicePoint).where(ServicePoint.kind == ServicePointKind.kecamatan_office.value).order_by(ServicePoint.id))
            ).all()
            offices, operators = {}, {}
            for point in points:
                await flows.update_service_point(
                    session, point_id=point.id, data=ServicePointUpdate(opening_hours={d: [["00:00", "24:00"]] for d in WEEKDAYS}), actor=SYSTEM
                )
                username, password = f"load.operator.{point.id}", secrets.token_urlsafe(16)
                await auth.create_user(
                    session,
                    data=UserCreate(
                        username=username, display_name=f"Load operator {point.id}", password=password, role=Role.operator, service_point_id=point.id
                    ),
                    actor=SYSTEM,
                )
                offices[point.id], operators[point.id] = point.counters, (username, password)
        return Fixture(campaign_id, tally_key, dict(kelurahan), offices, operators)
    finally:
        await engine.dispose()


class Server:
    """`rekam serve --workers N` in its own process group, with a guard that ends the group when
    this script dies in any way (even SIGKILL, which skips every `finally`)."""

    def __init__(self, url: str, workers: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # A file, not a pipe: a pipe nobody reads would stall the server once it fills.
        self.log = tempfile.TemporaryFile()
        env = {**os.environ, "DATABASE_URL": url, "REKAM_LOG_LEVEL": "WARNING", "REKAM_SERVE_FRONTEND": "false"}
        self.process = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "api.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--forwarded-allow-ips",
                "127.0.0.1",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            start_new_session=True,
        )
        guard = f"import os, signal, sys\nsys.stdin.buffer.read()\ntry: os.killpg({self.process.pid}, signal.SIGKILL)\nexcept ProcessLookupError: pass\n"
        self.guard = subprocess.Popen(
            [PYTHON, "-c", guard], stdin=subprocess.PIPE, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"rekam serve exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                if httpx.get(self.base + "/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise SystemExit("rekam serve did not answer within 60 s")

    def connections_per_worker(self) -> list[int]:
        """How many of the clients' connections each worker holds now (Linux /proc; [] elsewhere).
        Each worker listens on a socket of its own (`rekam serve`, SO_REUSEPORT) and the kernel
        picks one per connection by a hash of its addresses: the split of kept-alive connections
        varies from run to run (13/19 happens), and the worker with more is the slower (`phase`
        keeps its connections for the whole mix). With uvicorn's one shared socket it was
        whatever the accepting race made it, from 16/16 to 2/30."""
        try:
            lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
            workers = [int(pid) for pid in Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()]
        except OSError:
            return []
        # Established (01) sockets whose local port is the server's, by inode.
        ours = {f[9] for f in map(str.split, lines) if int(f[1].rsplit(":", 1)[1], 16) == self.port and f[3] == "01"}
        split = []
        for pid in workers:
            with contextlib.suppress(OSError):
                links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
                held = sum(1 for link in links if link.startswith("socket:[") and link[8:-1] in ours)
                if held:
                    split.append(held)
        return sorted(split)

    def log_tail(self, size: int = 3000) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-size:]

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self.guard.stdin is not None:
            self.guard.stdin.close()  # the group is gone; the guard exits without killing anything
        self.guard.wait(timeout=10)
        self.log.close()


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # distinct unexpected answers -> how many
    requests: int = 0
    seconds: float = 0.0
    client_cpu: float = 0.0  # CPU seconds this script spent generating the load (it shares the machine)

    def note(self, kind: str, status: int | None, started: float, *, expected: set[int] = EXPECTED, response: Response | None = None, detail: str = "") -> None:
        self.latencies[kind].append((time.perf_counter() - started) * 1000)
        self.requests += 1
        if status is not None:
            self.statuses[kind][status] += 1
        if status not in expected:
            self.errors[kind] += 1
            text = response.text if response is not None else detail
            sample = f"{kind}: {status or 'no answer'} {text[:300]}"
            if sample in self.samples or len(self.samples) < 10:
                self.samples[sample] += 1


class Mix:
    """The shared state of one phase: the time and request bounds, the counters free for use."""

    def __init__(self, base: str, fixture: Fixture, tokens: dict[int, str], *, seconds: float, max_requests: int, writes_only: bool = False) -> None:
        self.base, self.fixture, self.tokens = base, fixture, tokens
        self.writes_only = writes_only
        self.stop_at = time.perf_counter() + seconds
        self.max_requests = max_requests
        self.results = Results()
        # One operator at a time per counter: a (point, counter) pair is taken from here for a turn.
        self.free_counters: list[tuple[int, int]] = [(p, c) for p, n in fixture.offices.items() for c in range(1, n + 1)]
        self.resident = 0
        self.tally_posts = 0
        self.day_counts: dict[str, int] = defaultdict(int)
        from api import calendar  # the campaign's day (Asia/Jakarta), as the server's checks see it

        today = calendar.today()
        self.today, self.week_end = today.isoformat(), (today + timedelta(days=6)).isoformat()

    def running(self) -> bool:
        return time.perf_counter() < self.stop_at and self.results.requests < self.max_requests

    async def get(self, client: Client, etags: dict[str, str], kind: str, path: str, params: dict[str, Any]) -> None:
        key = path + repr(sorted(params.items()))
        headers = {"If-None-Match": etags[key]} if key in etags else {}
        started = time.perf_counter()
        try:
            response = await client.get(path, params=params, headers=headers)
        except HTTPError as exc:
            self.results.note(kind, None, started, detail=repr(exc))
            return
        self.results.note(kind, response.status_code, started, response=response)
        if "etag" in response.headers:
            etags[key] = response.headers["etag"]

    async def post(self, client: Client, kind: str, path: str, *, expected: set[int] = EXPECTED, **kwargs: Any) -> Response | None:
        started = time.perf_counter()
        try:
            response = await client.post(path, **kwargs)
        except HTTPError as exc:
            self.results.note(kind, None, started, expected=expected, detail=repr(exc))
            return None
        self.results.note(kind, response.status_code, started, expected=expected, response=response)
        return response

    async def one(self, client: Client, etags: dict[str, str], rng: random.Random) -> None:
        f, api = self.fixture, "/api/v1"
        weights = WRITE_WEIGHTS if self.writes_only else WEIGHTS
        kind = rng.choices(list(weights), weights=list(weights.values()))[0]
        progress = f"{api}/campaigns/{f.campaign_id}/progress"
        if kind == "progress city":
            await self.get(client, etags, kind, progress, {"area": CITY, "depth": 1})
        elif kind == "progress kecamatan":
            await self.get(client, etags, kind, progress, {"area": rng.choice(list(f.kelurahan)), "depth": 1})
        elif kind == "progress daily":
            await self.get(client, etags, kind, progress + "/daily", {"area": rng.choice([CITY, *f.kelurahan])})
        elif kind == "schedule":
            await self.get(client, etags, kind, f"{api}/schedule", {"from": self.today, "to": self.week_end, "area": rng.choice([CITY, *f.kelurahan])})
        elif kind == "service points":
            await self.get(client, etags, kind, f"{api}/service-points", {"area": CITY, "date": self.today})
        elif kind == "queue board":
            await self.get(client, etags, kind, f"{api}/service-points/{rng.choice(list(f.offices))}/queue", {})
        elif kind == "city queue board":
            await self.get(client, etags, kind, f"{api}/queues", {"area": CITY})
        elif kind == "take a number":
            # Every resident from their own address, as nginx reports it: the public write limit
            # is per address and must not be what this measures.
            self.resident += 1
            n = self.resident
            address = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
            body = {"priority": "elderly"} if rng.random() < 0.1 else {}
            await self.post(client, kind, f"{api}/service-points/{rng.choice(list(f.offices))}/tickets", json=body, headers={"X-Forwarded-For": address})
        elif kind == "counter turn":
            await self.counter_turn(client, rng)
        else:
            await self.tally_post(client, rng)

    async def counter_turn(self, client: Client, rng: random.Random) -> None:
        if not self.free_counters:
            return
        point, counter = self.free_counters.pop(rng.randrange(len(self.free_counters)))
        try:
            headers = {"Authorization": f"Bearer {self.tokens[point]}"}
            called = await self.post(client, "call-next", f"/api/v1/service-points/{point}/call-next", json={"counter": counter}, headers=headers)
            if called is None or called.status_code != 200:
                return
            ticket = called.json()["id"]
            for move in ("start", "complete"):
                moved = await self.post(client, move, f"/api/v1/tickets/{ticket}/{move}", headers=headers, expected=EXPECTED | {409})
                if moved is None or moved.status_code != 200:
                    return
        finally:
            self.free_counters.append((point, counter))

    async def tally_post(self, client: Client, rng: random.Random) -> None:
        """The city's script re-posts one kecamatan's kelurahan figures for today, a little higher."""
        kecamatan = rng.choice(list(self.fixture.kelurahan))
        rows = []
        for code in self.fixture.kelurahan[kecamatan]:
            self.day_counts[code] += rng.randint(0, 5)
            rows.append({"area": code, "date": self.today, "count": self.day_counts[code], "source": "script"})
        self.tally_posts += 1
        await self.post(
            client,
            "tally post",
            f"/api/v1/campaigns/{self.fixture.campaign_id}/tallies",
            json={"tallies": rows},
            headers={"X-API-Key": self.fixture.tally_key, "Idempotency-Key": f"load-{os.getpid()}-{self.tally_posts}"},
        )


async def phase(
    base: str, fixture: Fixture, tokens: dict[int, str], *, concurrency: int, seconds: float, max_requests: int, health: bool, writes_only: bool = False
) -> Results:
    mix = Mix(base, fixture, tokens, seconds=seconds, max_requests=max_requests, writes_only=writes_only)

    async def client_loop(number: int) -> None:
        # One kept-alive connection per simulated client, as a browser or a counter's screen has.
        client, rng, etags = Client(base), random.Random(number), {}
        try:
            while mix.running():
                if health:
                    await mix.get(client, etags, "health", "/api/v1/health", {})
                else:
                    await mix.one(client, etags, rng)
        finally:
            client.close()

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(client_loop(i) for i in range(concurrency)))
    mix.results.seconds = time.perf_counter() - started
    mix.results.client_cpu = time.process_time() - cpu
    return mix.results


async def sign_in_operators(base: str, fixture: Fixture) -> dict[int, str]:
    tokens = {}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for point, (username, password) in fixture.operators.items():
            response = await client.post("/api/v1/auth/token", data={"username": username, "password": password})
            response.raise_for_status()
            tokens[point] = response.json()["access_token"]
    return tokens


class WaitSampler:
    """`--sample-waits`: what the server's transactions wait for during the mix, from
    `pg_stat_activity` every 50 ms (a thread with its own connection): the non-idle backends by
    state, wait event and the start of their query, most frequent first."""

    def __init__(self, url: str) -> None:
        import threading

        self.url = url.replace("postgresql+psycopg://", "postgresql://")
        self.counts: dict[tuple[str, str, str], int] = defaultdict(int)
        self.blockers: dict[tuple[str, str, str], int] = defaultdict(int)
        self.samples = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            while not self.stopping.wait(0.05):
                rows = connection.execute(
                    "SELECT state, coalesce(wait_event_type || ':' || wait_event, 'running'), left(regexp_replace(query, '\\s+', ' ', 'g'), 60) "
                    "FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND state <> 'idle'"
                ).fetchall()
                self.samples += 1
                for state, wait, query in rows:
                    self.counts[(state, wait, query)] += 1
                # Who the waiting ones wait for, and what that transaction is doing meanwhile.
                for state, wait, query in connection.execute(
                    "SELECT b.state, coalesce(b.wait_event_type || ':' || b.wait_event, 'running'), left(regexp_replace(b.query, '\\s+', ' ', 'g'), 60) "
                    "FROM pg_stat_activity AS a CROSS JOIN LATERAL unnest(pg_blocking_pids(a.pid)) AS blocker(pid) "
                    "JOIN pg_stat_activity AS b ON b.pid = blocker.pid WHERE a.wait_event_type = 'Lock'"
                ).fetchall():
                    self.blockers[(state, wait, query)] += 1

    def __enter__(self) -> "WaitSampler":
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)

    def report(self, top: int = 30) -> None:
        print(f"  where transactions wait ({self.samples} samples of pg_stat_activity, every 50 ms; backend-samples by state, wait, query):")
        for (state, wait, query), n in sorted(self.counts.items(), key=lambda item: -item[1])[:top]:
            print(f"    {n:>6,}  {state:<19}  {wait:<28}  {query}")
        print("  what the transactions waited for were doing (pg_blocking_pids of each waiting backend):")
        for (state, wait, query), n in sorted(self.blockers.items(), key=lambda item: -item[1])[: top // 2]:
            print(f"    {n:>6,}  {state:<19}  {wait:<28}  {query}")


def sessions_opened(url: str) -> int:
    """How many sessions the database has had (PostgreSQL's own count, `pg_stat_database.sessions`):
    the difference over the mix is the connections the workers opened during it."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as connection:
        connection.execute("SELECT pg_stat_clear_snapshot()")
        row = connection.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()").fetchone()
        return int(row[0]) if row else 0


def children(pid: int) -> list[int]:
    with contextlib.suppress(OSError):
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return []


def quantile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else (values[0] if values else float("nan"))


def report(results: Results, title: str) -> float:
    rate = results.requests / results.seconds
    print(f"  {title}: {results.requests:,} requests in {results.seconds:.1f} s = {rate:,.0f} req/s (load generator: {results.client_cpu:.1f} CPU s)")
    every = [ms for values in results.latencies.values() for ms in values]
    width = max(len(k) for k in results.latencies) if results.latencies else 10
    print(f"    {'kind':<{width}}  {'count':>7}  {'req/s':>7}  {'p50 ms':>7}  {'p99 ms':>7}  statuses")
    for kind in sorted(results.latencies, key=lambda k: -len(results.latencies[k])):
        values = results.latencies[kind]
        statuses = " ".join(f"{s}:{n}" for s, n in sorted(results.statuses[kind].items()))
        print(
            f"    {kind:<{width}}  {len(values):>7,}  {len(values) / results.seconds:>7.1f}  {statistics.median(values):>7.1f}  {quantile(values, 99):>7.1f}  {statuses}"
        )
    if every:
        print(f"    {'all':<{width}}  {len(every):>7,}  {rate:>7.1f}  {statistics.median(every):>7.1f}  {quantile(every, 99):>7.1f}")
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15, help="length of the mix (default 15)")
    parser.add_argument("--health-seconds", type=float, default=5, help="length of the health phase (default 5)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent clients in both phases (default 32)")
    parser.add_argument("--workers", type=int, default=2, help="API processes: rekam serve --workers N (default 2)")
    parser.add_argument("--max-requests", type=int, default=200_000, help="upper bound on requests per phase")
    parser.add_argument("--mix", choices=["all", "writes"], default="all", help="writes: only tickets, counter turns and tally posts (default all)")
    parser.add_argument("--sample-waits", action="store_true", help="sample pg_stat_activity's wait events during the mix and print them")
    args = parser.parse_args()
    if not 1 <= args.concurrency <= 500 or not 1 <= args.workers <= 16 or not 0 < args.seconds <= 600 or not 0 < args.health_seconds <= 600:
        parser.error("keep it bounded: concurrency 1..500, workers 1..16, seconds 0..600")

    # SIGTERM (and SIGHUP) unwind like Ctrl-C, so the server and the cluster are always cleaned up.
    def interrupted(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored (`&`)
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)

    if find_pg_bin() is None:
        # The same rule as the tests: skipped where PostgreSQL is not installed, unless required.
        print("load mix: skipped, the PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        return 1 if os.environ.get("REKAM_REQUIRE_POSTGRES") == "1" else 0
    uvloop = install_uvloop()
    from api.config import Settings

    print(
        f"load mix ({machine()}), PostgreSQL, rekam serve --workers {args.workers} (requests at once per worker: "
        f"{Settings().requests_at_once or 'no limit'}, REKAM_REQUESTS_AT_ONCE), {args.concurrency} concurrent clients "
        f"(bench/http1.py, keep-alive, {'uvloop' if uvloop else 'asyncio'}), load average {os.getloadavg()[0]:.1f}"
    )
    started = time.perf_counter()
    try:
        with ThrowawayCluster(dbname="rekam_load") as cluster:
            cli(cluster.url, "migrate")
            cli(cluster.url, "demo")
            fixture = asyncio.run(_prepare(cluster.url))
            print(
                f"  set-up: migrate, demo, {len(fixture.offices)} offices ({sum(fixture.offices.values())} counters) open 24 h, "
                f"{sum(map(len, fixture.kelurahan.values()))} kelurahan, {time.perf_counter() - started:.0f} s"
            )
            server = Server(cluster.url, args.workers)
            try:  # the server goes before the cluster it uses
                server.wait_ready()
                tokens = asyncio.run(sign_in_operators(server.base, fixture))
                bounds = {"concurrency": args.concurrency, "max_requests": args.max_requests}
                health = asyncio.run(phase(server.base, fixture, tokens, seconds=args.health_seconds, health=True, **bounds))
                sampler = WaitSampler(cluster.url) if args.sample_waits else None
                split: list[int] = []
                halfway = threading.Timer(args.seconds / 2, lambda: split.extend(server.connections_per_worker()))
                halfway.start()
                opened = sessions_opened(cluster.url)
                # The CPU the mix cost the server and the database, per request: less noisy than
                # its latencies on a shared machine. Backends that end during the mix are missed.
                postmaster = int((cluster.datadir / "postmaster.pid").read_text().split()[0])
                workers_cpu, database_cpu = cpu_seconds(children(server.process.pid)), cpu_seconds(children(postmaster))
                with sampler or contextlib.nullcontext():
                    mix = asyncio.run(phase(server.base, fixture, tokens, seconds=args.seconds, health=False, writes_only=args.mix == "writes", **bounds))
                workers_cpu = cpu_seconds(children(server.process.pid)) - workers_cpu
                database_cpu = cpu_seconds(children(postmaster)) - database_cpu
                halfway.cancel()
                opened = sessions_opened(cluster.url) - opened - 1  # less this probe's own
                if sum(health.errors.values()) + sum(mix.errors.values()) and server.log_tail().strip():
                    print(f"  server log (tail):\n{server.log_tail()}")
            finally:
                server.stop()
            health_rate = report(health, "GET /api/v1/health")
            every = [ms for values in health.latencies.values() for ms in values]
            if every:
                print(
                    f"    the floor: no request of the mix can be faster than /health on this server and machine (p50 {statistics.median(every):.0f} ms, "
                    f"p99 {quantile(every, 99):.0f} ms; the load generator used {health.client_cpu / health.seconds:.0%} of a core)"
                )
            mix_rate = report(mix, "mix")
            if split:
                print(f"    the clients' connections per worker halfway through the mix: {' / '.join(map(str, split))}")
            print(f"    database connections the workers opened during the mix: {opened}")
            served = sum(len(values) for values in mix.latencies.values())
            if served:
                print(
                    f"    CPU per request of the mix: the workers {1000 * workers_cpu / served:.2f} ms, PostgreSQL {1000 * database_cpu / served:.2f} ms "
                    f"({workers_cpu:.1f} and {database_cpu:.1f} CPU s)"
                )
            if sampler is not None:
                sampler.report()
            errors = sum(health.errors.values()) + sum(mix.errors.values())
            print(f"  unexpected answers: {errors} (goal: none)")
            for sample, times in [*health.samples.items(), *mix.samples.items()]:
                print(f"    {times} x {sample}")
            print(f"  ratio mix / health throughput: {mix_rate / health_rate:.2f} (load average now {os.getloadavg()[0]:.1f})")
            for kind in ("complete", "tally post"):  # issue #22: the campaign lock's queue
                values = mix.latencies.get(kind)
                if values:
                    p99 = quantile(values, 99)
                    print(f"  {kind} p99 {p99:,.0f} ms (goal <= 300 ms with 32 clients: {'met' if p99 <= 300 else 'NOT met'})")
            return 1 if errors else 0
    except KeyboardInterrupt as exc:
        print(f"\ninterrupted ({str(exc) or 'SIGINT'}); cleaning up", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
