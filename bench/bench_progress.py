"""National progress: all 7,285 kecamatan with targets, 90 days of tallies (about 650,000 rows);
median latency of progress for the country (depth 2) and for one province, divided by the median
latency of GET /api/v1/health on the same server. Goal <= 3. Run: python bench/bench_progress.py
"""

import asyncio
import random
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import httpx
from common import ROOT, campaign_and_key, kecamatan_codes, machine, median_ms, prepare, server

DAYS = 90
PROVINCE = "32"  # Jawa Barat: the largest


async def load(url: str, campaign_id: int, codes: list[str]) -> int:
    from sqlalchemy import insert
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.areas.codes import ancestors_of
    from api.auth.policy import SYSTEM
    from api.campaigns.models import Campaign, Target
    from api.db import create_engine_for
    from api.tallies.service import Row, Writer

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


def run(url: str) -> None:
    prepare(url)
    campaign_id, _ = campaign_and_key(url, days_back=DAYS + 5, name="national")
    codes = kecamatan_codes()
    start = time.perf_counter()
    rows = asyncio.run(load(url, campaign_id, codes))
    print(f"  loaded {len(codes):,} kecamatan targets and {rows:,} tallies (with rollups) in {time.perf_counter() - start:.0f} s")
    with server(url) as (base, _pid), httpx.Client(base_url=base, timeout=60) as client:
        progress = f"/api/v1/campaigns/{campaign_id}/progress"
        health = median_ms(client, "/api/v1/health", 200)
        country = median_ms(client, progress, 30, area="0", depth="2")
        province = median_ms(client, progress, 30, area=PROVINCE, depth="2")
    print(f"  median: health {health:.2f} ms, country depth 2 {country:.1f} ms, province {PROVINCE} depth 2 {province:.1f} ms")
    print(f"  ratio country {country / health:.1f}, province {province / health:.1f} (goal <= 3)")


def main() -> None:
    print(f"national progress ({machine()})")
    with tempfile.TemporaryDirectory(dir=ROOT / "var" if (ROOT / "var").is_dir() else None) as folder:
        print("SQLite")
        run(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")


if __name__ == "__main__":
    main()
