"""Queue benchmarks, printed as ratios measured in one run on this machine.

1. call-next with 8 counters at once, against GET /api/v1/health on the same server, both measured
   by the same load generator: wrk -t1 -c8 (a Lua script posts call-next, the counter going round
   1..8; only 200 answers count, a 204 means the line ran out). While call-next is measured, one
   board subscriber is connected, as the office's screen would be, so every call renders the board.
2. 5,000 concurrent SSE subscribers (--subscribers) of one point's board, opened by several client
   processes (--clients, uvloop, raw sockets, 100 connections being opened at once per process):
   every call reaches every subscriber? The delay of each delivery is its receive time minus the
   moment the call-next request was sent (wall clock, the same machine): median and p99; and the
   server's peak memory.

Runs one uvicorn server (one process) on 127.0.0.1 against a fresh SQLite file, or against
DATABASE_URL when that names an empty PostgreSQL database.
Usage: python bench/bench_queues.py [--seconds 3] [--subscribers 5000] [--clients 4] [--url URL]
(a 1 s call-next run first warms the server up, uncounted; --url: measure a server already running, seeded by `--seed-only`, e.g. an older checkout).
"""

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
from common import cpu_seconds, server

ROOT = Path(__file__).resolve().parents[1]
COUNTERS = 8
SUBSCRIBERS = 5000
CALLS = 5
TICKETS = 3000  # a big day at one office: call-next must not run out while it is measured
OPENING = 100  # connections being opened at once, per client process
STATUS_CODE = "bench-last-in-line"  # the code of the last number: its resident checks their place

CALL_NEXT_LUA = """
local n = 0
ok, empty, other = 0, 0, 0
request = function()
  n = n % 8 + 1
  return wrk.format("POST", nil, nil, '{"counter":' .. n .. '}')
end
response = function(status, headers, body)
  if status == 200 then ok = ok + 1 elseif status == 204 then empty = empty + 1 else other = other + 1 end
end
local threads = {}
setup = function(thread) table.insert(threads, thread) end
done = function(summary, latency, requests)
  local o, e, x = 0, 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); e = e + t:get("empty"); x = x + t:get("other") end
  io.write(string.format("STATUS ok=%d empty=%d other=%d seconds=%f p99=%f\\n", o, e, x, summary.duration / 1e6, latency:percentile(99) / 1000))
end
"""


async def seed(url: str, tickets: int) -> tuple[int, str, int]:
    from sqlalchemy import insert, select
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from api.areas import service as areas
    from api.auth import service as auth
    from api.auth.schemas import ApiKeyCreate, UserCreate
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
                    | {"code": STATUS_CODE if n == tickets else None}
                    for n in range(1, tickets + 1)
                ],
            )
            await session.execute(insert(QueueDay), [{"service_point_id": point.id, "day": day, "last_number": tickets}])
            owner = UserCreate(username="bench.operator", display_name="Bench", password="bench-" + "x" * 10, role=Role.operator, service_point_id=point.id)
            await auth.create_user(session, data=owner, actor=SYSTEM)
            key = ApiKeyCreate(name="bench", role=Role.operator, service_point_id=point.id, owner=owner.username)
            _, secret = await auth.create_api_key(session, data=key, actor=SYSTEM)
        last = await session.scalar(select(Ticket.id).where(Ticket.code == STATUS_CODE))
        return point.id, secret, int(last)
    finally:
        await engine.dispose()


# --- 1. call-next against /health, both with wrk ----------------------------------------------


def wrk(url: str, *, seconds: float, script: str | None = None, headers: dict[str, str] | None = None) -> dict[str, float]:
    """One wrk -t1 -c8 run: requests/s of all answers, and (with the call-next script) 200s/s."""
    command = ["wrk", "-t1", f"-c{COUNTERS}", f"-d{seconds:g}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        if script:
            lua.write(script)
            lua.flush()
            command += ["-s", lua.name]
        out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    result = {"rate": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["bad"] = float(non2xx.group(1)) if non2xx else 0.0
    status = re.search(r"STATUS ok=(\d+) empty=(\d+) other=(\d+) seconds=([\d.]+) p99=([\d.]+)", out)
    if status:
        ok, empty, other, duration, p99 = (float(g) for g in status.groups())
        result.update(ok=ok, empty=empty, other=other, ok_rate=ok / duration, p99=p99)
    else:
        p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
        if p99:
            result["p99"] = float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return result


def cpu_meter(pid: int | None) -> Callable[[float], float]:
    """Count the server's CPU from now: the function returned gives its milliseconds per one of
    `count` things done since (nan for a server whose process is not known, `--url`)."""
    if pid is None:
        return lambda count: float("nan")
    start = cpu_seconds([pid])
    return lambda count: (cpu_seconds([pid]) - start) / max(count, 1) * 1000


def watch_one(base: str, point_id: int) -> socket.socket:
    """One board subscriber (the office's screen), drained by a thread."""
    import threading

    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(f"GET /api/v1/service-points/{point_id}/queue/events HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode())

    def drain() -> None:
        try:
            while sock.recv(65536):
                pass
        except OSError:
            pass

    threading.Thread(target=drain, daemon=True).start()
    return sock


# --- 2. many SSE subscribers, in several client processes --------------------------------------


def _client(host: str, port: int, path: str, count: int, calls: int, ready, results) -> None:
    """A client process: `count` subscribers; reports how many got the snapshot, then every call's receive times."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(_subscribers(host, port, path, count, calls, ready, results))


class _Stream(asyncio.Protocol):
    def __init__(self, request: bytes, on_ready, on_call, on_lost) -> None:
        self.request, self.on_ready, self.on_call, self.on_lost = request, on_ready, on_call, on_lost
        self.buffer = b""
        self.headers_done = False
        self.ready = False
        self.calls = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buffer += data
        if not self.headers_done:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if b" 200 " not in self.buffer[: self.buffer.find(b"\r\n")]:
                self.transport.close()  # type: ignore[union-attr]
                return
            self.headers_done = True
            self.buffer = self.buffer[end + 4 :]
        # Chunked transfer encoding: the chunk-size lines are lines of their own; events end with a blank line.
        while True:
            end = self.buffer.find(b"\n\n")
            if end < 0:
                return
            block, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
            if b"event: board" in block and not self.ready:
                self.ready = True
                self.on_ready()
            elif b"event: call" in block:
                data = block[block.find(b"data: ") + 6 :].split(b"\n", 1)[0].strip()
                self.calls += 1
                self.on_call(json.loads(data)["number"], now, self)

    def connection_lost(self, exc) -> None:
        self.on_lost(self)


async def _subscribers(host: str, port: int, path: str, count: int, calls: int, ready, results) -> None:
    loop = asyncio.get_running_loop()
    received: list[tuple[int, float]] = []
    streams: list[_Stream] = []
    failed = 0
    finished = asyncio.Event()
    complete = 0
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode()

    def on_ready() -> None:
        with ready.get_lock():
            ready.value += 1

    def on_call(number: int, at: float, stream: _Stream) -> None:
        nonlocal complete
        received.append((number, at))
        if stream.calls == calls:
            complete += 1
            if complete + failed >= count:
                finished.set()

    def on_lost(stream: _Stream) -> None:
        nonlocal failed
        if stream.calls < calls:
            failed += 1
            if not stream.ready:
                on_ready()  # counted as done opening, so the parent does not wait for it
            if complete + failed >= count:
                finished.set()

    opening = asyncio.Semaphore(OPENING)

    async def open_one() -> None:
        nonlocal failed
        async with opening:
            try:
                stream = _Stream(request, on_ready, on_call, on_lost)
                await loop.create_connection(lambda: stream, host, port)
                streams.append(stream)
                for _ in range(600):  # hold the slot until the snapshot arrives: paced opening
                    if stream.ready or stream.transport is None or stream.transport.is_closing():
                        break
                    await asyncio.sleep(0.05)
            except OSError:
                failed += 1
                on_ready()

    await asyncio.gather(*(open_one() for _ in range(count)))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(finished.wait(), 120)
    for stream in streams:
        if stream.transport is not None:
            stream.transport.close()
    results.put({"received": received, "failed": failed, "complete": complete})


def sse_delays(base: str, point_id: int, headers: dict[str, str], subscribers: int, clients: int) -> tuple[list[float], dict[int, int], int]:
    """Delays (ms) from each call's send to its delivery at every subscriber; receivers per call; failed subscribers."""
    host, port = base.removeprefix("http://").split(":")
    path = f"/api/v1/service-points/{point_id}/queue/events"
    context = multiprocessing.get_context("spawn")
    ready, results = context.Value("i", 0), context.Queue()
    shares = [subscribers // clients + (1 if i < subscribers % clients else 0) for i in range(clients)]
    processes = [context.Process(target=_client, args=(host, int(port), path, n, CALLS, ready, results)) for n in shares]
    for process in processes:
        process.start()
    deadline = time.monotonic() + 180
    while ready.value < subscribers and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # the last snapshots are written out
    sent_at: dict[int, float] = {}
    print(f"subscribed (snapshot received or failed): {ready.value:,} of {subscribers:,}")
    with httpx.Client(timeout=60) as actor:
        for _ in range(CALLS):
            started = time.time()
            try:
                response = actor.post(f"{base}/api/v1/service-points/{point_id}/call-next", json={"counter": 1}, headers=headers)
            except httpx.TimeoutException:
                print("a call-next got no answer within 60 s")
                continue
            response.raise_for_status()
            sent_at[response.json()["number"]] = started
            time.sleep(0.5)
    gathered = [results.get(timeout=200) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    delays = [(at - sent_at[number]) * 1000 for part in gathered for number, at in part["received"] if number in sent_at]
    for number, started in sent_at.items():
        these = sorted((at - started) * 1000 for part in gathered for n, at in part["received"] if n == number)
        if these:
            print(f"  call of number {number}: first delivery {these[0]:.0f} ms, median {statistics.median(these):.0f} ms, last {these[-1]:.0f} ms")
    counts = {number: 0 for number in sent_at}
    for part in gathered:
        for number, _ in part["received"]:
            if number in counts:
                counts[number] += 1
    return delays, counts, sum(part["failed"] for part in gathered)


# --- the run ---------------------------------------------------------------------------------


def measure(base: str, point_id: int, secret: str, last: int, args: argparse.Namespace, pid: int | None) -> None:
    headers = {"X-API-Key": secret}
    print(f"load average before: {os.getloadavg()}")
    meter = cpu_meter(pid)
    health = wrk(f"{base}/api/v1/health", seconds=args.seconds)
    cpu_per_health = meter(health["rate"] * args.seconds)
    # The resident at the back of the line asks their place (no goal: what the line's length costs them).
    status = wrk(f"{base}/api/v1/tickets/{last}/status/{STATUS_CODE}", seconds=args.seconds)
    screen = watch_one(base, point_id)
    try:
        warm = {**headers, "Content-Type": "application/json"}
        wrk(f"{base}/api/v1/service-points/{point_id}/call-next", seconds=1, script=CALL_NEXT_LUA, headers=warm)  # warm-up, not counted
        meter = cpu_meter(pid)
        calls = wrk(
            f"{base}/api/v1/service-points/{point_id}/call-next",
            seconds=args.seconds,
            script=CALL_NEXT_LUA,
            headers={**headers, "Content-Type": "application/json"},
        )
        # What one call costs the server process (every thread): the ratio's limit, whatever the clients do.
        cpu_per_call = meter(calls["ok"])
    finally:
        screen.close()
    print(
        f"GET /health (wrk -t1 -c{COUNTERS} -d{args.seconds:g}s): {health['rate']:.0f} req/s, p99 {health.get('p99', float('nan')):.1f} ms, "
        f"server CPU {cpu_per_health:.3f} ms a request"
    )
    print(
        f"a resident's status, last of {args.tickets:,} in line (wrk -t1 -c{COUNTERS}): {status['rate']:.0f} req/s, p99 {status.get('p99', float('nan')):.1f} ms, "
        f"{status['rate'] / health['rate']:.2f} of /health ({status['bad']:.0f} answers not 2xx)"
    )
    print(
        f"call-next, {COUNTERS} counters (wrk -t1 -c{COUNTERS} -d{args.seconds:g}s, one board subscriber): {calls['ok_rate']:.0f} calls/s, "
        f"p99 {calls['p99']:.1f} ms ({calls['ok']:.0f} called, {calls['empty']:.0f} nobody waiting, {calls['other']:.0f} other answers), "
        f"server CPU {cpu_per_call:.2f} ms a call"
    )
    ratio = calls["ok_rate"] / health["rate"]
    print(f"ratio call-next / health: {ratio:.3f} (goal >= 0.3: {'met' if ratio >= 0.3 else 'NOT met'})")
    print(f"load average: {os.getloadavg()}")
    if args.subscribers <= 0:
        return
    delays, counts, failed = sse_delays(base, point_id, headers, args.subscribers, args.clients)
    print(
        f"SSE: {args.subscribers:,} subscribers in {args.clients} client processes ({failed} failed), {CALLS} calls; receivers per call: {list(counts.values())}"
    )
    q = statistics.quantiles(delays, n=100) if len(delays) > 1 else [float("nan")] * 99
    median = statistics.median(delays) if delays else float("nan")
    print(
        f"delay call sent -> delivered: median {median:.1f} ms, p99 {q[98]:.1f} ms, max {max(delays, default=float('nan')):.1f} ms (goal p99 < 1,000 ms: {'met' if q[98] < 1000 else 'NOT met'})"
    )
    everyone = all(c == args.subscribers for c in counts.values()) and not failed
    print(f"all {args.subscribers:,} received every call: {everyone} (goal: yes)")
    if pid is not None:
        status = Path(f"/proc/{pid}/status").read_text()
        rss = {line.split(":")[0]: int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith(("VmRSS", "VmHWM"))}
        peak = rss.get("VmHWM", float("nan"))
        print(f"server memory: peak {peak:.0f} MB, now {rss.get('VmRSS', float('nan')):.0f} MB (goal < 500 MB: {'met' if peak < 500 else 'NOT met'})")
    print(f"load average after: {os.getloadavg()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument(
        "--subscribers", type=int, default=SUBSCRIBERS, help=f"SSE subscribers of one board (default {SUBSCRIBERS:,}, the goal of issue #22); 0 skips"
    )
    parser.add_argument("--clients", type=int, default=4, help="client processes that hold the subscribers")
    parser.add_argument("--tickets", type=int, default=TICKETS, help="tickets waiting at the start")
    parser.add_argument("--url", help="a server already running on a database seeded with --seed-only (give --point and --key)")
    parser.add_argument("--point", type=int)
    parser.add_argument("--key")
    parser.add_argument("--ticket", type=int, help="the last ticket's id (printed by --seed-only)")
    parser.add_argument("--pid", type=int, help="the server's process id, for its memory")
    parser.add_argument("--seed-only", metavar="DATABASE_URL", help="migrate and seed this database, print the point id and key, and exit")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)")
        return 1
    sys.path.insert(0, str(ROOT))
    from tests.conftest import migrate

    if args.seed_only:
        migrate(args.seed_only)
        point_id, secret, last = asyncio.run(seed(args.seed_only, tickets=args.tickets))
        print(json.dumps({"point": point_id, "key": secret, "ticket": last}))
        return 0
    if args.url:
        measure(args.url.rstrip("/"), args.point, args.key, args.ticket, args, args.pid)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DATABASE_URL") or f"sqlite+aiosqlite:///{tmp}/bench.db"
        migrate(url)
        point_id, secret, last = asyncio.run(seed(url, tickets=args.tickets))
        print(f"database: {url.split(':')[0]}; {args.tickets:,} tickets waiting at one office with {COUNTERS} counters")
        with server(url) as (base, pid):
            measure(base, point_id, secret, last, args, pid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
