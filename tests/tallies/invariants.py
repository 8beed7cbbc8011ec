"""The rollups and totals recomputed from the raw tallies, independently of api.tallies.service.

A tally stands for its area's whole subtree: an area's daily figure is its own tallies' sum when it
has any, else the sum of its children's figures. `mismatches` lists every stored rollup or total
that differs from that recomputation (empty means the invariant holds).
"""

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select

from api.area_codes import ancestors_of, is_within
from api.tallies.models import Tally, TallyRollup, TallyTotal

TALLY, ROLLUP, TOTAL = Tally.__table__, TallyRollup.__table__, TallyTotal.__table__


def queries(campaign_id: int) -> tuple[Any, Any, Any]:
    """The three reads `mismatches` needs: raw tallies, rollups, totals of one campaign."""
    return (
        select(TALLY.c.area_code, TALLY.c.day, TALLY.c.count).where(TALLY.c.campaign_id == campaign_id),
        select(ROLLUP.c.area_code, ROLLUP.c.day, ROLLUP.c.own, ROLLUP.c.own_rows, ROLLUP.c.below, ROLLUP.c.total).where(ROLLUP.c.campaign_id == campaign_id),
        select(TOTAL.c.area_code, TOTAL.c.total, TOTAL.c.last_day).where(TOTAL.c.campaign_id == campaign_id),
    )


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def expected_rollups(tallies: list[tuple[str, Any, int]], root: str) -> dict[tuple[str, date], tuple[int, int, int, int]]:
    """(area, day) -> (own, own_rows, below, total) for the area of every tally and its ancestors up to `root`."""
    own: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0])
    children: dict[tuple[str, date], set[str]] = defaultdict(set)
    keys: set[tuple[str, date]] = set()
    for area, raw_day, count in tallies:
        day = _day(raw_day)
        entry = own[(area, day)]
        entry[0] += count
        entry[1] += 1
        chain = [area, *(a for a in reversed(ancestors_of(area)) if is_within(a, root))]  # nearest first
        keys.update((a, day) for a in chain)
        for child, parent in zip(chain, chain[1:], strict=False):
            children[(parent, day)].add(child)
    result: dict[tuple[str, date], tuple[int, int, int, int]] = {}

    def figure(key: tuple[str, date]) -> int:
        if key not in result:
            own_sum, rows = own.get(key, (0, 0))
            below = sum(figure((child, key[1])) for child in children.get(key, ()))
            result[key] = (own_sum, rows, below, own_sum if rows else below)
        return result[key][3]

    for key in keys:
        figure(key)
    return result


def mismatches(tallies: list[Any], rollups: list[Any], totals: list[Any], *, root: str) -> list[str]:
    """Differences between the stored rollups/totals and the raw tallies (at most 20 listed)."""
    expected = expected_rollups([tuple(t) for t in tallies], root)
    stored = {(area, _day(day)): (own, rows, below, total) for area, day, own, rows, below, total in rollups}
    problems = []
    for key in expected.keys() | stored.keys():
        want, have = expected.get(key, (0, 0, 0, 0)), stored.get(key, (0, 0, 0, 0))
        if want != have:
            problems.append(f"rollup {key}: stored {have}, raw tallies give {want}")
    by_area: dict[str, list[int | date | None]] = defaultdict(lambda: [0, None])
    for (area, day), (_, _, _, total) in expected.items():
        entry = by_area[area]
        entry[0] += total  # type: ignore[operator]
        if total > 0 and (entry[1] is None or day > entry[1]):  # type: ignore[operator]
            entry[1] = day
    stored_totals = {area: [total, _day(last) if last is not None else None] for area, total, last in totals}
    for area in by_area.keys() | stored_totals.keys():
        want_total, have_total = by_area.get(area, [0, None]), stored_totals.get(area, [0, None])
        if want_total != have_total:
            problems.append(f"total {area}: stored {have_total}, raw tallies give {want_total}")
    return sorted(problems)[:20]
