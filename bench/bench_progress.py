"""National progress: all 7,285 kecamatan with targets, 90 days of tallies (about 650,000 rows);
median latency of progress for the country (depth 2) and for one province, divided by the median
latency of GET /api/v1/health on the same server. Goal <= 3. Run: python bench/bench_progress.py

Progress answers are cached per campaign data version (api/caching.py), so three kinds of read are
timed:
- warm: the same request again (a dashboard refreshed by many: served from the in-process cache);
- revalidated: the same with the ETag in If-None-Match (a browser after max-age): 304, no body;
- cold: the first request after a data change, i.e. a cache miss, after a tally for today (the
  live case: queue tickets, offices posting the day; the 7-day sums stay cached) and after a tally
  for a past day (everything recomputed).
BENCH_PROGRESS_DB=path keeps the loaded SQLite database there and reuses it on the next run.
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


def timed(client: httpx.Client, url: str, status: int, **kwargs: object) -> float:
    start = time.perf_counter()
    response = client.get(url, **kwargs)  # type: ignore[arg-type]
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == status, response.text[:300]
    return elapsed


def interleaved(client: httpx.Client, runs: int, request: Callable[[int], float]) -> tuple[float, float]:
    """Medians of `request` and of GET /health, timed alternately so that both see the same load
    (the machine is shared: a ratio of two runs minutes apart says more about the neighbours).
    Health goes first, before the case's own write; it is still slower in the cold loops (the
    write before it, e.g. SQLite drops a connection's page cache when another has written), so
    `run` divides every case by the health of the warm loop."""
    case, health = [], []
    for run in range(runs):
        health.append(timed(client, HEALTH, 200))
        case.append(request(run))
    return statistics.median(case), statistics.median(health)


def run(url: str, *, loaded: bool = False) -> None:
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
    today = datetime.now(ZoneInfo("Asia/Jakarta")).date()
    with server(url) as (base, _pid), httpx.Client(base_url=base, timeout=60) as client:
        if loaded:
            campaign_id = next(c["id"] for c in client.get("/api/v1/campaigns", params={"limit": 100}).json()["items"] if c["name"] == "national")
        progress = f"/api/v1/campaigns/{campaign_id}/progress"

        counts = itertools.count(1000)

        def post_tally(day: date) -> Callable[[int], None]:
            def change(run: int) -> None:
                # A kecamatan of the province, a new count each time (the same count again changes nothing).
                row = {"area": "32.01.01", "date": day.isoformat(), "count": next(counts), "source": "manual"}
                response = client.post(f"/api/v1/campaigns/{campaign_id}/tallies", json={"tallies": [row]}, headers={"X-API-Key": key})
                assert response.status_code == 200, response.text[:300]

            return change

        for _ in range(20):
            timed(client, HEALTH, 200)
        figures = {}
        for label, area in (("country", "0"), (f"province {PROVINCE}", PROVINCE)):
            params = {"area": area, "depth": "2"}
            etag = client.get(progress, params=params).headers["etag"]
            today_tally, past_tally = post_tally(today), post_tally(today - timedelta(days=3))

            def after(change: Callable[[int], None], params: dict[str, str] = params) -> Callable[[int], float]:
                def request(run: int) -> float:
                    change(run)
                    return timed(client, progress, 200, params=params)

                return request

            figures[label] = {
                "warm (cached)": interleaved(client, 60, lambda _run, params=params: timed(client, progress, 200, params=params)),
                "revalidated (304)": interleaved(
                    client, 60, lambda _run, params=params, etag=etag: timed(client, progress, 304, params=params, headers={"If-None-Match": etag})
                ),
                "cold after a tally for today": interleaved(client, 25, after(today_tally)),
                "cold after a tally for a past day": interleaved(client, 25, after(past_tally)),
            }
    for label, cases in figures.items():
        # The quiet server's health (timed alternately with the warm reads) is the yardstick for all
        # cases: health timed between the cold reads is slower too (the write just before it), and
        # dividing by it would flatter the cold ratios.
        quiet = cases["warm (cached)"][1]
        print(f"  {label} depth 2: median ms; health {quiet:.2f} ms (timed alternately with the warm reads)")
        for case, (ms, health) in cases.items():
            goal = " (goal <= 3)" if case.startswith("warm") else ""
            aside = f" (health timed between these: {health:.2f} ms)" if case.startswith("cold") else ""
            print(f"    {case:<34} {ms:7.2f} ms = {ms / quiet:5.1f}x health{goal}{aside}")


def main() -> None:
    print(f"national progress ({machine()})")
    kept = os.environ.get("BENCH_PROGRESS_DB")
    if kept:
        print(f"SQLite ({kept})")
        run(f"sqlite+aiosqlite:///{Path(kept).resolve()}", loaded=Path(kept).exists())
        return
    with tempfile.TemporaryDirectory(dir=ROOT / "var" if (ROOT / "var").is_dir() else None) as folder:
        print("SQLite")
        run(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")


if __name__ == "__main__":
    main()
