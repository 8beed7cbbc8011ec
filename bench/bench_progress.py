"""Cold public progress against /health, side by side in one run (issue #22's goal: <= 3x).

Two data sets, each on its own SQLite file and `rekam serve`-like server (uvicorn, one worker):
- the demo (`rekam demo`, Kota Tangerang Selatan): the city with its kecamatan
  (`progress?area=36.74&depth=1`, what the SPA's progress page reads), the daily series it reads
  beside it (`progress/daily?area=36.74`) and one kecamatan with its kelurahan (`area=36.74.01`);
- national: all 7,285 kecamatan with targets, 90 days of tallies (about 650,000 rows); the
  country and one province (Jawa Barat), depth 2 (553 and 655 areas).

A cold read is the first public read after a change: a tally posted (for today: the live case,
queue tickets and offices posting the day; or for a past day: every 7-day sum changes too), which
bumps the campaign's data version and the process's write generation, so neither the fast path
(api/fastpath.py) nor the body cache (api/caching.py) can answer. Each case is timed as the median
of runs, and in the same loop, alternately, the yardsticks:
- /health after the same change, asked past the fast path (`Cache-Control: no-cache`: a tally
  post no longer ends the kept /health, which reads no table's rows) so that it makes its one
  database read: the fair yardstick of a read that must go to the database (both pay for the
  write before them, e.g. SQLite drops a connection's page cache when another has written); the
  goal line is judged on it;
- /health from memory (the fast path, no change before it), printed beside it: a cold read can
  never match it, since it must read the database at least once to learn what changed.
Each ratio is the median over the runs of one cold read divided by the health timed next to it
(the same seconds' load: the machine is shared, and its load moves faster than a ratio of two
medians can follow); "best" divides the fastest cold read by the fastest health, an estimate for
a quiet machine. Warm reads (the same request again) are printed for the record.
BENCH_PROGRESS_DB=path keeps the national SQLite database there and reuses it on the next run.
"""

import asyncio
import itertools
import os
import random
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from common import ROOT, campaign_and_key, cli, kecamatan_codes, machine, prepare, server

DAYS = 90
PROVINCE = "32"  # Jawa Barat: the largest


async def load(url: str, campaign_id: int, codes: list[str]) -> int:
    from sqlalchemy import insert
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.area_codes import ancestors_of
    from api.campaigns.models import Campaign, Target
    from api.db import create_engine_for
    from api.principal import SYSTEM
    from api.tallies.checks import Row
    from api.tallies.writer import Writer

    engine = create_engine_for(url)
    rng = random.Random(7)
    targets = {code: rng.randint(20_000, 120_000) for code in codes}
    sums: dict[str, int] = defaultdict(int)
    for code, value in targets.items():
        for ancestor in ancestors_of(code)[1:]:
            sums[ancestor] += value
    rows_written = 0
    try:
        async with AsyncSession(engine) as session, session.begin():
            values = [{"campaign_id": campaign_id, "area_code": c, "target": t, "source": "official"} for c, t in {**targets, **sums}.items()]
            await session.execute(insert(Target.__table__), values)
            campaign = await session.get(Campaign, campaign_id)
            writer = Writer(campaign_id=campaign_id, root=campaign.root_area_code, actor=SYSTEM, defer_totals=True)
            today = date.today()
            for offset in range(DAYS, 0, -1):
                day = today - timedelta(days=offset)
                rows = [Row(0, code, day, None, None, rng.randint(20, 400), "script") for code in codes]
                for start in range(0, len(rows), 5000):
                    await writer.write(session, rows[start : start + 5000])
                rows_written += len(rows)
            await writer.finish(session)
    finally:
        await engine.dispose()
    return rows_written


HEALTH = "/api/v1/health"
PAST_THE_FAST_PATH = {"Cache-Control": "no-cache"}
RUNS = 30


def timed(client: httpx.Client, url: str, status: int, **kwargs: object) -> float:
    start = time.perf_counter()
    response = client.get(url, **kwargs)  # type: ignore[arg-type]
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == status, response.text[:300]
    return elapsed


def poster(client: httpx.Client, campaign_id: int, key: str, area: str) -> Callable[[date], None]:
    counts = itertools.count(1000)

    def post(day: date) -> None:
        # A new count each time (the same count again changes nothing).
        row = {"area": area, "date": day.isoformat(), "count": next(counts), "source": "manual"}
        response = client.post(f"/api/v1/campaigns/{campaign_id}/tallies", json={"tallies": [row]}, headers={"X-API-Key": key})
        assert response.status_code == 200, response.text[:300]

    return post


def measure(client: httpx.Client, cases: dict[str, tuple[str, dict[str, str]]], change: Callable[[date], None], today: date) -> dict[str, dict[str, float]]:
    """For each case and kind of change: medians (ms) of the cold read, of the first /health after
    the same change, and of /health from memory, all timed alternately in one loop."""
    figures: dict[str, dict[str, float]] = {}
    for label, (path, params) in cases.items():
        for when, day in (("today", today), ("past day", today - timedelta(days=3))):
            cold, health_cold, health_memory, warm = [], [], [], []
            timed(client, path, 200, params=params)
            for run in range(2 * RUNS):
                if run % 2:
                    change(day)
                    health_cold.append(timed(client, HEALTH, 200, headers=PAST_THE_FAST_PATH))
                else:
                    health_memory.append(timed(client, HEALTH, 200))
                    health_memory.append(timed(client, HEALTH, 200))
                    change(day)
                    cold.append(timed(client, path, 200, params=params))
                    warm.append(timed(client, path, 200, params=params))
            figures[f"{label}, after a tally for {when}"] = {
                "cold": statistics.median(cold),
                "health_cold": statistics.median(health_cold),
                "health_memory": statistics.median(health_memory[1::2]),  # the second of each pair: surely from memory
                "warm": statistics.median(warm),
                # Each cold read over the health timed next to it (the same minute's load): steadier
                # than a ratio of medians on a machine whose load moves by the second.
                "ratio": statistics.median(c / h for c, h in zip(cold, health_cold, strict=True)),
                "ratio_memory": statistics.median(c / h for c, h in zip(cold, health_memory[1::2], strict=True)),
                "ratio_best": min(cold) / min(health_cold),
            }
    return figures


def report(title: str, figures: dict[str, dict[str, float]]) -> None:
    print(f"  {title}: medians of {RUNS} runs, ms; ratio = median of (cold read / the health timed next to it), best = fastest / fastest")
    print(f"    {'case':<58} {'cold':>7} {'health after the change':>24} {'ratio':>6} {'best':>5}   {'health from memory':>19} {'ratio':>6}   {'warm':>6}")
    for case, f in figures.items():
        print(
            f"    {case:<58} {f['cold']:7.2f} {f['health_cold']:24.2f} {f['ratio']:5.1f}x {f['ratio_best']:4.1f}x"
            f"   {f['health_memory']:19.2f} {f['ratio_memory']:5.1f}x   {f['warm']:6.2f}"
        )
    worst = max(f["ratio"] for f in figures.values())
    print(f"    goal: cold progress <= 3x /health after the same change: worst {worst:.1f}x, {'met' if worst <= 3 else 'NOT met'}")


def jakarta_today() -> date:
    return datetime.now(ZoneInfo("Asia/Jakarta")).date()


def run_demo(folder: Path) -> None:
    url = f"sqlite+aiosqlite:///{folder / 'demo.db'}"
    cli(url, "migrate")
    cli(url, "demo")
    _, key = campaign_and_key(url, days_back=DAYS, name="key for the demo", root="36.74.02")  # a campaign of its own, beside the demo's
    with server(url) as (base, _pid), httpx.Client(base_url=base, timeout=60) as client:
        campaign_id = next(c["id"] for c in client.get("/api/v1/campaigns", params={"limit": 100}).json()["items"] if c["root_area"] == "36.74")
        progress = f"/api/v1/campaigns/{campaign_id}/progress"
        cases = {
            "city 36.74, depth 1": (progress, {"area": "36.74", "depth": "1"}),
            "city 36.74, daily series": (progress + "/daily", {"area": "36.74"}),
            "kecamatan 36.74.01, depth 1": (progress, {"area": "36.74.01", "depth": "1"}),
        }
        for _ in range(20):
            timed(client, HEALTH, 200)
        report("demo (Kota Tangerang Selatan)", measure(client, cases, poster(client, campaign_id, key, "36.74.01.1001"), jakarta_today()))


def run_national(url: str, *, loaded: bool = False) -> None:
    if loaded:
        cli(url, "migrate")
        # A key for this run (the helper makes it with a small campaign of its own); the data is the
        # first run's "national" campaign, looked up below.
        campaign_id, key = campaign_and_key(url, days_back=DAYS + 5, name="key for a rerun")
    else:
        prepare(url)
        campaign_id, key = campaign_and_key(url, days_back=DAYS + 5, name="national")
        codes = kecamatan_codes()
        start = time.perf_counter()
        rows = asyncio.run(load(url, campaign_id, codes))
        print(f"  loaded {len(codes):,} kecamatan targets and {rows:,} tallies (with rollups) in {time.perf_counter() - start:.0f} s")
    with server(url) as (base, _pid), httpx.Client(base_url=base, timeout=60) as client:
        if loaded:
            campaign_id = next(c["id"] for c in client.get("/api/v1/campaigns", params={"limit": 100}).json()["items"] if c["name"] == "national")
        progress = f"/api/v1/campaigns/{campaign_id}/progress"
        cases = {"country, depth 2": (progress, {"area": "0", "depth": "2"}), f"province {PROVINCE}, depth 2": (progress, {"area": PROVINCE, "depth": "2"})}
        for _ in range(20):
            timed(client, HEALTH, 200)
        report("national (7,285 kecamatan, 655,650 tallies)", measure(client, cases, poster(client, campaign_id, key, "32.01.01"), jakarta_today()))


def main() -> None:
    # httpx asks for gzip as browsers do (Accept-Encoding: gzip, deflate): a tree of 250 KB is
    # 37 KB gzipped, and the client's decompressing it is timed too.
    print(f"cold progress vs /health ({machine()}, load average {os.getloadavg()[0]:.1f}), SQLite, Accept-Encoding: gzip")
    kept = os.environ.get("BENCH_PROGRESS_DB")
    with tempfile.TemporaryDirectory(dir=ROOT / "var" if (ROOT / "var").is_dir() else None) as folder:
        run_demo(Path(folder))
        if kept:
            run_national(f"sqlite+aiosqlite:///{Path(kept).resolve()}", loaded=Path(kept).exists())
        else:
            run_national(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
    print(f"  load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
