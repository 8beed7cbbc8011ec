"""Queue benchmarks, printed as ratios measured in one run on this machine.

1. call-next operations per second with 8 concurrent counters, divided by GET /api/v1/health
   requests per second (same server, same client, same concurrency).
2. 5,000 concurrent SSE subscribers (--subscribers) of one point's board: the delay from a call (the moment the
   call-next request is sent) to its delivery at each subscriber; median and 99th percentile,
   and how many of the 500 received each call.

Runs one uvicorn server on 127.0.0.1 against a fresh SQLite file, or against DATABASE_URL when
that names an empty PostgreSQL database. Usage: python bench/bench_queues.py [--seconds 3]
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import httpx
from common import server

ROOT = Path(__file__).resolve().parents[1]
COUNTERS = 8
SUBSCRIBERS = 5000
CALLS = 5


async def seed(url: str, tickets: int) -> tuple[int, str]:
    from sqlalchemy import insert
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from api.areas import service as areas
    from api.auth import service as auth
    from api.auth.schemas import ApiKeyCreate
    from api.calendar import today as local_today
    from api.db import create_engine_for
    from api.principal import SYSTEM
    from api.queues.models import QueueDay, Ticket
    from api.services import service
    from api.services.models import WEEKDAYS
    from api.services.schemas import ServicePointCreate
    from api.types import Role

    engine = create_engine_for(url)
    try:
        async with engine.begin() as connection:
            await areas.load_official(connection, prefix="36.74.01")
        async with async_sessionmaker(engine, expire_on_commit=False)() as session, session.begin():
            point = await service.create_point(
                session,
                data=ServicePointCreate(
                    kind="kecamatan_office", name="Bench office", area="36.74.01", counters=COUNTERS, opening_hours={d: [["00:00", "24:00"]] for d in WEEKDAYS}
                ),
                actor=SYSTEM,
            )
            now, day = datetime.now(UTC), local_today()
            await session.execute(
                insert(Ticket),
                [
                    {"service_point_id": point.id, "day": day, "number": n, "status": "waiting", "priority": "none", "arrived_at": now, "recalls": 0}
                    for n in range(1, tickets + 1)
                ],
            )
            await session.execute(insert(QueueDay), [{"service_point_id": point.id, "day": day, "last_number": tickets}])
            _, secret = await auth.create_api_key(session, data=ApiKeyCreate(name="bench", role=Role.operator, service_point_id=point.id), actor=SYSTEM)
        return point.id, secret
    finally:
        await engine.dispose()


async def rate(client: httpx.AsyncClient, seconds: float, request) -> tuple[float, int]:
    """Requests per second of `request(client, worker)` run by COUNTERS workers for `seconds`."""
    done, retried = 0, 0
    stop = time.perf_counter() + seconds

    async def worker(number: int) -> None:
        nonlocal done, retried
        while time.perf_counter() < stop:
            response = await request(client, number)
            if response.status_code == 503:  # SQLite busy: the counter's screen tries again
                retried += 1
                continue
            response.raise_for_status()
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(i + 1) for i in range(COUNTERS)))
    return done / (time.perf_counter() - started), retried


async def sse_delays(base: str, point_id: int, headers: dict[str, str], subscribers: int) -> tuple[list[float], list[int], int]:
    """Delays from each call to its delivery at every subscriber; receivers per call; failed subscribers.

    Subscribers are plain asyncio connections reading the event stream line by line (an httpx
    client per stream would make the load generator, not the server, the bottleneck at 5,000)."""
    host, port = base.removeprefix("http://").split(":")
    received: dict[int, list[float]] = defaultdict(list)  # ticket number called -> delivery times
    ready = asyncio.Semaphore(0)
    sent_at: dict[int, float] = {}  # ticket number -> when its call-next was sent
    failed = 0
    opening = asyncio.Semaphore(200)  # connections being opened at once

    async def subscriber() -> None:
        nonlocal failed
        writer = None
        try:
            async with opening:
                reader, writer = await asyncio.open_connection(host, int(port), limit=1 << 20)
                writer.write(f"GET /api/v1/service-points/{point_id}/queue/events HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode())
                await writer.drain()
                status = await reader.readline()
                if b" 200 " not in status:
                    raise RuntimeError(status)
            seen_state, event, calls = False, None, 0
            while True:
                line = (await reader.readline()).decode().rstrip("\r\n")
                if not line and reader.at_eof():
                    return
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "call":
                    received[json.loads(line[5:])["number"]].append(time.perf_counter())
                    calls += 1
                    if calls == CALLS:
                        return
                elif line == "" and event:
                    if not seen_state:
                        seen_state = True
                        ready.release()
                    event = None
        except (OSError, RuntimeError, asyncio.IncompleteReadError):
            failed += 1
            ready.release()
        finally:
            if writer is not None:
                writer.close()

    async with httpx.AsyncClient(timeout=60) as actor:
        tasks = [asyncio.create_task(subscriber()) for _ in range(subscribers)]
        for _ in range(subscribers):
            await asyncio.wait_for(ready.acquire(), 120)
        for _ in range(CALLS):
            started = time.perf_counter()
            response = await actor.post(f"{base}/api/v1/service-points/{point_id}/call-next", json={"counter": 1}, headers=headers)
            response.raise_for_status()
            sent_at[response.json()["number"]] = started
            await asyncio.sleep(0.5)
        await asyncio.wait(tasks, timeout=30)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    delays = [(t - sent_at[number]) * 1000 for number in sent_at for t in received[number]]
    return delays, [len(received[number]) for number in sent_at], failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--subscribers", type=int, default=SUBSCRIBERS, help=f"SSE subscribers of one board (default {SUBSCRIBERS:,}, the goal of issue #22)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DATABASE_URL") or f"sqlite+aiosqlite:///{tmp}/bench.db"
        sys.path.insert(0, str(ROOT))
        from tests.conftest import migrate

        migrate(url)
        point_id, secret = asyncio.run(seed(url, tickets=600))
        headers = {"X-API-Key": secret}
        with server(url) as (base, pid):

            async def run() -> None:
                async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=COUNTERS)) as client:
                    health, _ = await rate(client, args.seconds, lambda c, _: c.get(f"{base}/api/v1/health"))
                    calls, retried = await rate(
                        client, args.seconds, lambda c, n: c.post(f"{base}/api/v1/service-points/{point_id}/call-next", json={"counter": n}, headers=headers)
                    )
                print(f"database: {url.split(':')[0]}")
                print(f"GET /health: {health:.0f} req/s; call-next with {COUNTERS} counters: {calls:.0f} ops/s ({retried} busy retries)")
                ratio = calls / health
                print(f"ratio call-next / health: {ratio:.3f} (goal >= 0.3: {'met' if ratio >= 0.3 else 'NOT met'})")
                subscribers = args.subscribers
                delays, counts, failed = await sse_delays(base, point_id, headers, subscribers)
                print(f"SSE: {subscribers:,} subscribers ({failed} could not subscribe), {CALLS} calls; receivers per call: {counts}")
                q = statistics.quantiles(delays, n=100) if len(delays) > 1 else [float("nan")] * 99
                status = Path(f"/proc/{pid}/status").read_text()  # noqa: ASYNC240 - a tiny /proc file, after the timed part
                rss = {line.split(":")[0]: int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith(("VmRSS", "VmHWM"))}
                everyone = all(c == subscribers for c in counts) and not failed
                print(
                    f"delay call -> delivery: median {statistics.median(delays) if delays else float('nan'):.1f} ms, p99 {q[98]:.1f} ms (goal < 1,000 ms: {'met' if q[98] < 1000 else 'NOT met'})"
                )
                print(f"all {subscribers:,} received every call: {everyone} (goal: yes)")
                print(
                    f"server memory: peak {rss.get('VmHWM', float('nan')):.0f} MB, now {rss.get('VmRSS', float('nan')):.0f} MB (goal < 500 MB: {'met' if rss.get('VmHWM', 1e9) < 500 else 'NOT met'})"
                )

            asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
