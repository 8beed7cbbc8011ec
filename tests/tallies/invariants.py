"""The rollups and totals recomputed from the raw tallies, independently of api.tallies.

The rule of `api.tallies.precedence`, written the slow way, per node N and day d, from the
definition over paths (not the recursion the rollups use):
- official(N, d) sums the official tallies at areas B of N's subtree that have official tallies
  on d while no other area on the path from N down to B does (the highest official figures);
- provisional(N, d) sums the operational tallies at areas B of N's subtree such that no area on
  the path from N down to B (both included) has an official tally on d.
`mismatches` lists every stored rollup or total that differs from that recomputation (empty means
the invariant holds).
"""

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select

from api.area_codes import ancestors_of, is_within, parent_of
from api.tallies.models import Tally, TallyRollup, TallyTotal
from api.tallies.precedence import OFFICIAL_SOURCES

TALLY, ROLLUP, TOTAL = Tally.__table__, TallyRollup.__table__, TallyTotal.__table__
EMPTY = (0, 0, 0, 0, 0, 0, 0)


def queries(campaign_id: int) -> tuple[Any, Any, Any]:
    """The three reads `mismatches` needs: raw tallies, rollups, totals of one campaign."""
    return (
        select(TALLY.c.area_code, TALLY.c.day, TALLY.c.count, TALLY.c.source).where(TALLY.c.campaign_id == campaign_id),
        select(
            ROLLUP.c.area_code,
            ROLLUP.c.day,
            ROLLUP.c.own,
            ROLLUP.c.own_rows,
            ROLLUP.c.below,
            ROLLUP.c.op_own,
            ROLLUP.c.op_below,
            ROLLUP.c.total,
            ROLLUP.c.provisional,
        ).where(ROLLUP.c.campaign_id == campaign_id),
        select(TOTAL.c.area_code, TOTAL.c.total, TOTAL.c.provisional, TOTAL.c.last_day).where(TOTAL.c.campaign_id == campaign_id),
    )


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def figures(tallies: list[tuple[Any, ...]], root: str, official: frozenset[str] = OFFICIAL_SOURCES) -> dict[tuple[str, date], tuple[int, int]]:
    """(area, day) -> (official, provisional) by the path definition, for every area of a tally and its ancestors up to `root`."""
    by_day: dict[date, list[tuple[str, int, bool]]] = defaultdict(list)
    for area, raw_day, count, source in tallies:
        by_day[_day(raw_day)].append((area, count, source in official))
    result = {}
    for day, rows in by_day.items():
        official_areas = {area for area, _, is_official in rows if is_official}
        nodes = {a for area, _, _ in rows for a in [area, *ancestors_of(area)] if is_within(a, root)}
        for node in nodes:
            off = prov = 0
            for area, count, is_official in rows:
                if not is_within(area, node):
                    continue
                above = {a for a in ancestors_of(area) if is_within(a, node)}  # the path from N down to B's parent
                if is_official and not (above & official_areas):
                    off += count
                if not is_official and not ((above | {area}) & official_areas):
                    prov += count
            result[(node, day)] = (off, prov)
    return result


def expected_rollups(tallies: list[tuple[Any, ...]], root: str, official: frozenset[str] = OFFICIAL_SOURCES) -> dict[tuple[str, date], tuple[int, ...]]:
    """(area, day) -> (own, own_rows, below, op_own, op_below, total, provisional)."""
    parts = figures(tallies, root, official)
    own: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0, 0])
    for area, raw_day, count, source in tallies:
        entry = own[(area, _day(raw_day))]
        if source in official:
            entry[0] += count
            entry[1] += 1
        else:
            entry[2] += count
    below: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0])
    for (area, day), (off, prov) in parts.items():
        if area != root:
            entry = below[(parent_of(area), day)]  # type: ignore[index]
            entry[0] += off
            entry[1] += prov
    result = {}
    for key, (off, prov) in parts.items():
        o, rows, op_own = own.get(key, (0, 0, 0))
        b, pb = below.get(key, (0, 0))
        result[key] = (o, rows, b, op_own, pb, off, prov)
    return result


def mismatches(tallies: list[Any], rollups: list[Any], totals: list[Any], *, root: str, official: frozenset[str] = OFFICIAL_SOURCES) -> list[str]:
    """Differences between the stored rollups/totals and the raw tallies (at most 20 listed)."""
    expected = expected_rollups([tuple(t) for t in tallies], root, official)
    stored = {(area, _day(day)): tuple(values) for area, day, *values in rollups}
    problems = []
    for key in expected.keys() | stored.keys():
        want, have = expected.get(key, EMPTY), stored.get(key, EMPTY)
        if want != have:
            problems.append(f"rollup {key}: stored {have}, raw tallies give {want}")
    by_area: dict[str, list[Any]] = defaultdict(lambda: [0, 0, None])
    for (area, day), values in expected.items():
        entry = by_area[area]
        entry[0] += values[5] + values[6]  # a total's `total` is the figure
        entry[1] += values[6]
        if values[5] + values[6] > 0 and (entry[2] is None or day > entry[2]):
            entry[2] = day
    stored_totals = {area: [total, provisional, _day(last) if last is not None else None] for area, total, provisional, last in totals}
    for area in by_area.keys() | stored_totals.keys():
        want_total, have_total = by_area.get(area, [0, 0, None]), stored_totals.get(area, [0, 0, None])
        if want_total != have_total:
            problems.append(f"total {area}: stored {have_total}, raw tallies give {want_total}")
    return sorted(problems)[:20]
