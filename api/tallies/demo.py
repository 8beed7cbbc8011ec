"""Daily tallies for the demo campaign, from the day after the article's snapshot to yesterday.

Each kecamatan records at a steady pace of its own, set against what it needs per day to reach
its target by the deadline: Serpong, Serpong Utara, Ciputat and Pamulang run ahead of it, Pondok
Aren, Ciputat Timur and Setu behind, so the forecasts show both. City-wide that is about 3,300 a
day, what the article's 38 devices do at roughly 85 recordings each. Saturdays and Sundays run
30% higher: the weekend services in dense RT/RW are the article's answer to residents busy on
weekdays. Day-to-day noise is seeded by kecamatan and date, so the figures are the same on every
load; loading again adds only the days that have passed since (source `demo`).
"""

import math
import random
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.campaigns.models import Campaign, Target
from api.principal import SYSTEM
from api.tallies.checks import Row
from api.tallies.writer import Writer, lock_campaign

# Pace as a share of what each kecamatan needs per day from the snapshot to the deadline.
PACE = {
    "36.74.01": 1.20,  # Serpong
    "36.74.02": 1.10,  # Serpong Utara
    "36.74.03": 0.80,  # Pondok Aren
    "36.74.04": 1.05,  # Ciputat
    "36.74.05": 0.85,  # Ciputat Timur
    "36.74.06": 1.15,  # Pamulang
    "36.74.07": 0.70,  # Setu
}
WEEKEND_FACTOR = 1.3


async def load(session: AsyncSession, *, campaign: Campaign, snapshot_date: date, today: date, recorded_at_snapshot: dict[str, int]) -> int:
    """Write the demo's tallies up to yesterday; returns how many were new."""
    targets = dict((await session.execute(select(Target.area_code, Target.target).where(Target.campaign_id == campaign.id, Target.area_code.in_(PACE)))).all())
    service_days = (campaign.deadline - snapshot_date).days
    rows = []
    day = snapshot_date + timedelta(days=1)
    while day < today and day <= campaign.deadline:
        for code, share in PACE.items():
            needed = max(targets.get(code, 0) - recorded_at_snapshot.get(code, 0), 0) / service_days
            rng = random.Random(f"{code}:{day.isoformat()}")
            weekend = WEEKEND_FACTOR if day.weekday() >= 5 else 1.0
            rows.append(Row(0, code, day, None, None, math.floor(needed * share * weekend * rng.uniform(0.85, 1.15)), "demo"))
        day += timedelta(days=1)
    writer = Writer(campaign_id=campaign.id, root=campaign.root_area_code, actor=SYSTEM, official=await lock_campaign(session, campaign.id))
    await writer.write(session, rows)
    return writer.counts.imported
