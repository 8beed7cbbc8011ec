"""Reconciliation: official figures next to what Rekam's queues and home visits counted.

Rules
- For one area and day with an official figure of its own (`api.tallies.precedence`), the
  operational counts of its subtree that day are what the queues and home visits saw of the same
  people; the difference (official - counted) is for staff to explain: a counter that forgot to
  press "done" or residents recorded without a ticket (positive), an export that missed a device
  (negative). It is never a discrepancy and never changes a figure.
- Kecamatan days (the root's, for a campaign below kecamatan level) with operational counts and no
  official figure of their own or of an area above are listed too (official unknown), after the
  others, with all the counts of their subtree that day.
- Largest differences (by size) first; then newest day, then area code. A date range keeps the
  work bounded (the last 30 days by default).
- Operational counts per source in a subtree (`operational_counts`) include the counts an
  official figure supersedes: they are what was counted, not what is reported.
- Read from the rollups (official figures) and the operational tallies (few, indexed by
  `ix_tallies_operational`), never from posted tallies.
"""

from collections import defaultdict
from collections.abc import Container, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.area_codes import ancestors_of, depth_of, in_subtree, is_within
from api.errors import RuleViolation
from api.tallies.bulk import as_date
from api.tallies.checks import KECAMATAN_DEPTH
from api.tallies.history import (
    _reader_area,  # the same scope rule as the other staff lists
)
from api.tallies.models import Tally, TallyRollup

TALLY, ROLLUP = Tally.__table__, TallyRollup.__table__


@dataclass(frozen=True, slots=True)
class Reconciliation:
    area: str
    day: date
    official: int | None  # None: no official figure covers these counts yet
    queue: int
    home_visit: int

    @property
    def counted(self) -> int:
        return self.queue + self.home_visit

    @property
    def difference(self) -> int | None:
        return None if self.official is None else self.official - self.counted


async def _operational(session: AsyncSession, campaign_id: int, root: str, since: date | None, until: date | None) -> list[tuple[str, date, str, int]]:
    stmt = select(TALLY.c.area_code, TALLY.c.day, TALLY.c.source, func.sum(TALLY.c.count)).where(
        # A literal 0, not a bound parameter: only then may the database use the partial index
        # `ix_tallies_operational` (origin_key > 0) instead of reading every tally of the campaign.
        TALLY.c.campaign_id == campaign_id,
        TALLY.c.origin_key > literal_column("0"),
        in_subtree(TALLY.c.area_code, root),
    )
    if since is not None:
        stmt = stmt.where(TALLY.c.day >= since)
    if until is not None:
        stmt = stmt.where(TALLY.c.day <= until)
    rows = await session.execute(stmt.group_by(TALLY.c.area_code, TALLY.c.day, TALLY.c.source))
    return [(area, as_date(day), source, int(count)) for area, day, source, count in rows]  # type: ignore[misc]


def counted_in_subtrees(counts: Iterable[tuple[str, str, int]], holders: Container[str]) -> dict[str, dict[str, int]]:
    """What the queues and home visits counted in the subtree of each of `holders`, per source,
    from operational tallies' (area, source, count); only the holders with a count."""
    result: dict[str, dict[str, int]] = {}
    for area, source, count in counts:
        for holder in (area, *ancestors_of(area)):
            if holder in holders:
                result.setdefault(holder, {"queue": 0, "home_visit": 0})[source] += int(count)
    return result


async def operational_counts(session: AsyncSession, *, campaign_id: int, root: str, codes: list[str]) -> dict[str, dict[str, int]]:
    """For each area of `codes` (inside `root`): what the queues and home visits counted in its
    subtree over the whole campaign, per source (superseded counts included)."""
    rows = await _operational(session, campaign_id, root, None, None)
    found = counted_in_subtrees(((area, source, count) for area, _day, source, count in rows), set(codes))
    return {code: found.get(code, {"queue": 0, "home_visit": 0}) for code in codes}


async def reconcile(session: AsyncSession, *, campaign_id: int, root: str, since: date, until: date, limit: int = 200) -> list[Reconciliation]:
    """Per area and day in `root`'s subtree from `since` to `until`: the official figure next to
    what the queues and home visits counted under it (see the module's rules)."""
    counted: dict[tuple[str, date], dict[str, int]] = defaultdict(lambda: {"queue": 0, "home_visit": 0})
    for area, day, source, count in await _operational(session, campaign_id, root, since, until):
        for holder in (area, *ancestors_of(area)):
            if is_within(holder, root):
                counted[(holder, day)][source] += count
    officials = await session.execute(
        select(ROLLUP.c.area_code, ROLLUP.c.day, ROLLUP.c.own, ROLLUP.c.provisional).where(
            ROLLUP.c.campaign_id == campaign_id,
            in_subtree(ROLLUP.c.area_code, root),
            ROLLUP.c.day >= since,
            ROLLUP.c.day <= until,
            ROLLUP.c.own_rows > 0,
        )
    )
    rows: list[Reconciliation] = []
    official_keys: set[tuple[str, date]] = set()
    for area, raw_day, own, _ in officials:
        official_day = as_date(raw_day)
        assert official_day is not None  # a rollup's day is never NULL
        official_keys.add((area, official_day))
        seen = counted.get((area, official_day), {"queue": 0, "home_visit": 0})
        rows.append(Reconciliation(area, official_day, own, seen["queue"], seen["home_visit"]))
    # Counts no official figure covers: the kecamatan (or the area itself, when below none) with provisional counts.
    for (area, day), seen in counted.items():
        if depth_of(area) != max(KECAMATAN_DEPTH, depth_of(root)) or (area, day) in official_keys:
            continue
        if any((a, day) in official_keys for a in ancestors_of(area)):
            continue
        rows.append(Reconciliation(area, day, None, seen["queue"], seen["home_visit"]))

    def order(r: Reconciliation) -> tuple[Any, ...]:
        return (r.official is None, -abs(r.difference or 0), -r.day.toordinal(), r.area)

    rows.sort(key=order)
    return rows[:limit]


async def reconciliation(
    session: AsyncSession, *, campaign: Any, actor: Any, area: str | None, since: date | None, until: date | None, today: date
) -> dict[str, Any]:
    """The staff view: `reconcile` for the asked area (or the caller's) and dates (the last 30 days by default)."""
    root = _reader_area(actor, campaign, area)
    end = until or today
    start = since or end - timedelta(days=29)
    if end < start:
        raise RuleViolation.on_field("to", location="query", code="range.reversed")
    if (end - start).days > 366:
        raise RuleViolation.on_field("from", location="query", code="range.too_long", params={"days": 367})
    rows = await reconcile(session, campaign_id=campaign.id, root=root, since=start, until=end)
    return {
        "area": root,
        "start": start,
        "end": end,
        "rows": [
            {
                "area": r.area,
                "date": r.day,
                "official": r.official,
                "queue": r.queue,
                "home_visit": r.home_visit,
                "counted": r.counted,
                "difference": r.difference,
            }
            for r in rows
        ],
    }
