"""Daily tallies (the tallies issue fills this in).

The campaign's progress reads two kinds of totals from here, never raw rows:
- `subtree_totals`: for each area, recordings in its subtree over the whole campaign, and the
  newest tally date;
- `subtree_totals_until`: for each (area, date), recordings in the area's subtree up to the date.
"""

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession


async def subtree_totals(session: AsyncSession, *, campaign_id: int, codes: list[str]) -> dict[str, tuple[int, date | None]]:
    return {}


async def subtree_totals_until(session: AsyncSession, *, campaign_id: int, points: list[tuple[str, date]]) -> dict[tuple[str, date], int]:
    return {}


async def add_recordings(
    session: AsyncSession,
    *,
    area_code: str,
    day: date,
    count: int = 1,
    source: str,
    service_point_id: int | None = None,
    device_id: int | None = None,
    actor: object,
) -> None:
    """Add recordings made through Rekam itself (a completed queue ticket, a home visit) to the
    day's tally of every campaign covering the area, keeping history and rollups. Sources:
    `queue`, `home_visit`. (The tallies issue implements it; until then it records nothing.)"""
