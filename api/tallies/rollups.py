"""Rollups: each area's daily figure of its whole subtree, kept current and read by dashboards.

Rules
- For each (campaign, area, day), the figure of the area's subtree that day, updated in the same
  transaction as every tally change by the difference between old and new values, for the area
  and each ancestor up to the campaign's root (`roll_up`, called by `api.tallies.writer` only).
- Each rollup has the two parts of `api.tallies.precedence`: the official figure (`total`: its
  own official tallies when it has any (`own_rows`), its children's `total` sum (`below`)
  otherwise) and the provisional one (`provisional`: 0 when it has official tallies of its own,
  else its own operational counts (`op_own`) plus its children's `provisional` (`op_below`)).
  The day's figure is their sum. A parent whose own official tally differs from its children's
  official sum is a discrepancy (`level_disagreements`), shown, never silently fixed.
- Deltas are [own, own_rows, below, op_own, op_below]; a change of a rollup's `total` goes to its
  parent's `below`, a change of its `provisional` to its parent's `op_below`.
- Next to the rollups, one total per (campaign, area): the whole campaign's figure of its
  subtree (`total`, official + provisional), its provisional part, and the newest day with any
  (`subtree_totals`, `subtree_parts`), kept by the writer.
- Readers that answer one number (`subtree_totals`, `totals_between`, `daily_totals`) answer the
  figure (official + provisional); the `*_parts` readers answer both parts.
- Dashboards (progress, forecasts, discrepancies) read rollups and totals only, never raw tallies.
- Every change of rollups tells `api.campaigns.versions` (public progress caches).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.area_codes import depth_of, in_subtree, parent_of
from api.campaigns import versions
from api.tallies.bulk import ROLL_UP_AT_ONCE, Bulk, as_date, chunks
from api.tallies.checks import Row
from api.tallies.models import Tally, TallyRollup, TallyTotal

ROLLUP = cast(Table, TallyRollup.__table__)  # mapped with __tablename__: its __table__ is a Table
TOTAL = cast(Table, TallyTotal.__table__)


# Area code -> depth / parent, for rollups (codes never change their place in the tree).
_DEPTHS: dict[str, int] = {}
_PARENTS: dict[str, str] = {}


@dataclass(slots=True)
class NewTallies:
    """SQLite: tallies just inserted, none of whose keys was stored: those with ids from `after`
    + 1 to `last` (an INSERT gives its rows the ids after the largest one)."""

    after: int
    last: int
    rows: list[Row]
    earliest: date

    def deltas(self, official: frozenset[str]) -> dict[tuple[str, date], list[int]]:
        deltas: dict[tuple[str, date], list[int]] = {}
        for r in self.rows:
            add_delta(deltas, r.area, r.day, r.count, 1, r.source in official)
        return deltas


def add_delta(deltas: dict[tuple[str, date], list[int]], area: str, day: date, count: int, rows: int, official: bool) -> None:
    """Add `count` (and `rows` rows) of one kind of tally to the own deltas of (area, day)."""
    delta = deltas.get((area, day))
    if delta is None:
        delta = deltas[(area, day)] = [0, 0, 0, 0, 0]
    if official:
        delta[0] += count
        delta[1] += rows
    else:
        delta[3] += count


def add_to_totals(totals: dict[str, list[Any]], area: str, *, total: int, provisional: int, raised: date | None, dropped: date | None) -> None:
    """Add a change of `area`'s figure to the per-area `totals` (see `roll_up`): its total and
    provisional part, and the newest day its figure became more than zero (`raised`) or zero (`dropped`)."""
    entry = totals.get(area)
    if entry is None:
        entry = totals[area] = [0, None, None, 0]
    entry[0] += total
    entry[3] += provisional
    if raised is not None and (entry[1] is None or raised > entry[1]):
        entry[1] = raised
    if dropped is not None and (entry[2] is None or dropped > entry[2]):
        entry[2] = dropped


async def insert_own_rollups(session: AsyncSession, bulk: Bulk, campaign_id: int, new: NewTallies) -> bool:
    """The own rollups of `new` tallies, inserted by one statement that sums them per (area,
    day) inside SQLite, when none of them is stored yet (False otherwise, nothing written)."""
    savepoint = await session.begin_nested()
    try:
        one_per_day = not any(r.point is not None or r.device is not None for r in new.rows)
        await bulk.insert_own_rollups(campaign_id, new.after, new.last, one_per_day=one_per_day)
    except IntegrityError:  # some rollups are stored: the usual way, by lookups
        await savepoint.rollback()
        return False
    await savepoint.commit()
    return True


@dataclass
class PendingParents:
    """What new tallies whose own rollups were inserted by `insert_own_rollups` add to their
    parents' rollups, summed until the `Writer` rolls them up, once for many batches. They are
    all official, so each such rollup's total is its own sum (it has own rows) and its
    provisional part 0: the parents' `below` deltas and the per-area totals are plain sums of the
    tallies, one pass over the rows."""

    root_depth: int
    below: dict[tuple[str, date], int] = field(default_factory=dict)
    rows: int = 0
    _parents: dict[str, str | None] = field(default_factory=dict)  # area -> parent, None above the root

    def add(self, rows: list[Row], totals: dict[str, list[Any]]) -> None:
        """Add `rows` to the parents' deltas, and to the per-area `totals` (see `roll_up`)."""
        below, parents = self.below, self._parents
        for r in rows:
            area, day, count = r.area, r.day, r.count
            if not count:
                continue
            if area in parents:
                parent = parents[area]
            else:
                parent = parents[area] = parent_of(area) if depth_of(area) > self.root_depth else None
            if parent is not None:
                key = (parent, day)
                below[key] = below.get(key, 0) + count
            entry = totals.get(area)
            if entry is None:
                totals[area] = [count, day, None, 0]
            else:
                entry[0] += count
                if entry[1] is None or day > entry[1]:
                    entry[1] = day
        self.rows += len(rows)

    def take(self) -> dict[tuple[str, date], list[int]]:
        """The parents' deltas as `roll_up` takes them; starts over."""
        deltas = {key: [0, 0, below, 0, 0] for key, below in self.below.items()}
        self.below, self.rows = {}, 0
        return deltas


async def roll_up(
    session: AsyncSession,
    *,
    campaign_id: int,
    root: str,
    deltas: dict[tuple[str, date], list[int]],
    official: frozenset[str],
    bulk: Bulk | None = None,
    totals: dict[str, list[Any]] | None = None,
    fresh: bool = False,
    new: NewTallies | None = None,
    pending: PendingParents | None = None,
    touch: bool = True,
) -> list[tuple[str, date, int, int]]:
    """Apply changes of own tallies ((area, day) -> [official count delta, official row delta, 0,
    operational count delta, 0], see `add_delta`) to the rollups of each area and its ancestors
    up to `root`, children before parents. On PostgreSQL a request's few keys (up to
    `ROLL_UP_AT_ONCE`) go through every level in one statement (`Bulk.roll_up_at_once`). Otherwise,
    per level of the area tree: one lookup of the stored rollups among the level's keys (inside
    the database; only stored ones come back), then one statement that adds the deltas (`ON
    CONFLICT DO UPDATE`); on PostgreSQL, growing rollups are added and read back in one statement
    instead. `official`: the campaign's official sources.

    `fresh`: the deltas come from new tallies only, so their own rollups are likely new too: on
    SQLite they are then inserted at once (`ON CONFLICT DO NOTHING`) inside a savepoint, kept when
    every one was new (no lookup needed), rolled back and done the usual way otherwise.

    `new` (SQLite, with `pending` and `totals`): the changes are these new tallies, and `deltas`
    is empty; when all of them are official, their own rollups are summed inside SQLite when none
    is stored yet, their totals added to `totals` and their parents' deltas to `pending`, for the
    caller to roll up later, once for many batches (see `PendingParents`, `Writer.finish`).
    Otherwise `deltas` is made from their rows.

    Concurrent writers (PostgreSQL, no campaign lock): every rollup a writer reads it locks
    (`FOR UPDATE`) or changes in the statement that reads it (`... RETURNING`), so each old value
    is the one its own change replaced and what goes up to the parents is exact; and every writer
    takes those row locks in one order (children before parents, by key within a level), so two
    of them never wait for each other in a circle.

    `touch`: tell `api.campaigns.versions` here (False: the caller does, last before COMMIT).

    Returns (area, day, old figure, new figure) for each rollup whose figure or parts changed;
    with `totals`, adds those changes to it instead (area -> [total delta, newest day made
    positive, newest day dropped to zero, provisional delta]) and returns nothing."""
    if not deltas and new is None:
        return []
    earliest = new.earliest if new is not None else min(day for _, day in deltas)
    if touch:
        await versions.tallies_changed(session, campaign_id, earliest=earliest)  # public progress caches
    bulk = bulk or Bulk(session)
    root_depth = depth_of(root)
    if new is not None:
        assert pending is not None and totals is not None, "the parents of new tallies are rolled up by the caller"
        if all(r.source in official for r in new.rows) and await insert_own_rollups(session, bulk, campaign_id, new):
            pending.add(new.rows, totals)
            return []
        deltas, fresh = new.deltas(official), False  # some own rollups are stored, or some tallies operational
    levels: dict[int, dict[tuple[str, date], list[int]]]  # depth -> key -> [own, rows, below, op_own, op_below] deltas
    depths, found = _DEPTHS, set()
    for code, _ in deltas:
        depth = depths.get(code)
        if depth is None:
            depth = depths[code] = depth_of(code)
        found.add(depth)
    changed: list[tuple[str, date, int, int]] = []

    def note(code: str, day: date, total: int, new_total: int, provisional: int, new_provisional: int) -> None:
        """A rollup written, with its old and new parts: its change of figure goes to `changed` or `totals`."""
        if totals is None:
            changed.append((code, day, total + provisional, new_total + new_provisional))
            return
        figure, new_figure = total + provisional, new_total + new_provisional
        add_to_totals(
            totals,
            code,
            total=new_total - total,
            provisional=new_provisional - provisional,
            raised=day if new_figure > 0 else None,
            dropped=day if new_figure == 0 and figure > 0 else None,
        )

    if bulk.pg and len(deltas) <= ROLL_UP_AT_ONCE:
        # A request's few keys: every level in one statement, which sums the parents' deltas itself.
        rows = [(depths[code], code, day, *delta) for (code, day), delta in sorted(deltas.items()) if any(delta)]
        for code, day, total, new_total, provisional, new_provisional in await bulk.roll_up_at_once(campaign_id, rows, root=root_depth) if rows else []:
            if new_total != total or new_provisional != provisional:
                note(code, day, total, new_total, provisional, new_provisional)
        return changed
    if len(found) == 1:  # the common case: the deltas are that level (only read below)
        levels = {found.pop(): deltas}
    else:
        levels = {depth: {} for depth in found}
        for key, delta in deltas.items():
            levels[depths[key[0]]][key] = list(delta)
    parents = _PARENTS
    written_levels = 0
    while levels:
        depth = max(levels)
        level = levels.pop(depth)
        stored = {day: bulk.day(day) for day in {day for _, day in level}}
        keys = [key for key, delta in level.items() if any(delta)]
        if bulk.pg:
            keys.sort()  # one lock order for every writer
        growing = all(min(delta) >= 0 for delta in level.values())
        batch = bulk.rollup_batch([(code, stored[day], *level[(code, day)]) for code, day in keys])
        above = levels.setdefault(depth - 1, {}) if depth > root_depth else None
        written: list[tuple[str, date, int, int, int, int]] = []  # (area, day, old total, new total, old provisional, new provisional)
        if growing and bulk.pg:
            # One round trip: add, and read the new values back (old = new - delta).
            back = {value: day for day, value in stored.items()}
            for code, value, own, own_rows, below, op_own, op_below, total, provisional in await bulk.add_to_rollups(campaign_id, batch, returning=True):
                day = back[value]
                d_own, d_rows, d_below, d_op_own, d_op_below = level[(code, day)]
                had_own = own_rows - d_rows > 0
                old_total = own - d_own if had_own else below - d_below
                old_provisional = 0 if had_own else op_own - d_op_own + op_below - d_op_below
                written.append((code, day, old_total, total, old_provisional, provisional))
        else:
            state: dict[int, list[Any]] | None = None
            if fresh and growing and not written_levels:
                savepoint = await session.begin_nested()
                if await bulk.insert_new_rollups(campaign_id, batch) == len(keys):
                    await savepoint.commit()
                    state = {}
                else:
                    await savepoint.rollback()
            inserted = state is not None
            if state is None:
                state = {position: rest for position, *rest in await bulk.find_rollups(campaign_id, batch)}
            shrinking = []
            for position, key in enumerate(keys):
                own, own_rows, below, op_own, op_below = level[key]
                old = state.get(position) if state else None
                if old is None:
                    total = provisional = 0
                else:
                    total, provisional = old[5], old[6]
                    own, own_rows, below, op_own, op_below = old[0] + own, old[1] + own_rows, old[2] + below, old[3] + op_own, old[4] + op_below
                new_total = own if own_rows > 0 else below
                new_provisional = 0 if own_rows > 0 else op_own + op_below
                if old is not None and not growing:
                    shrinking.append((key[0], stored[key[1]], own, own_rows, below, op_own, op_below, new_total, new_provisional))
                written.append((key[0], key[1], total, new_total, provisional, new_provisional))
            if inserted:
                pass
            elif growing:
                await bulk.add_to_rollups(campaign_id, batch)
            else:  # some shrink: stored rollups get their new values, the others are added
                await bulk.set_rollups(campaign_id, shrinking)
                added = [(code, stored[day], *level[(code, day)]) for position, (code, day) in enumerate(keys) if position not in state]
                if added and bulk.pg:
                    # Not stored when locked: another writer may be creating them too, so the
                    # old values are read back from the addition (as for growing rollups).
                    news = {(code, value): rest for code, value, *rest in await bulk.add_to_rollups(campaign_id, bulk.rollup_batch(added), returning=True)}
                    absent = {(key[0], key[1]) for position, key in enumerate(keys) if position not in state}
                    rewritten = []
                    for code, day, total, new_total, provisional, new_provisional in written:
                        if (code, day) in absent:
                            own, own_rows, below, op_own, op_below, total_, provisional_ = news[(code, stored[day])]
                            d_own, d_rows, d_below, d_op_own, d_op_below = level[(code, day)]
                            had_own = own_rows - d_rows > 0
                            total = own - d_own if had_own else below - d_below
                            provisional = 0 if had_own else op_own - d_op_own + op_below - d_op_below
                            new_total, new_provisional = total_, provisional_
                        rewritten.append((code, day, total, new_total, provisional, new_provisional))
                    written = rewritten
                elif added:
                    await bulk.add_to_rollups(campaign_id, bulk.rollup_batch(added))
        for code, day, total, new_total, provisional, new_provisional in written:
            if new_total == total and new_provisional == provisional:
                continue
            note(code, day, total, new_total, provisional, new_provisional)
            if above is not None:
                parent = parents.get(code)
                if parent is None:
                    parent = parents[code] = cast(str, parent_of(code))  # below the root, so not the country: it has a parent
                entry = above.get((parent, day))
                if entry is None:
                    above[(parent, day)] = [0, 0, new_total - total, 0, new_provisional - provisional]
                else:
                    entry[2] += new_total - total
                    entry[4] += new_provisional - provisional
        written_levels += 1
        if above is not None and not above:
            del levels[depth - 1]
    return changed


# --- reading rollups (what progress uses) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Parts:
    """A figure in its two parts (`api.tallies.precedence`): official, and provisional (operational
    counts no official figure covers yet). `figure` is their sum."""

    official: int = 0
    provisional: int = 0

    @property
    def figure(self) -> int:
        return self.official + self.provisional


async def subtree_parts(session: AsyncSession, *, campaign_id: int, codes: list[str]) -> dict[str, tuple[Parts, date | None]]:
    """For each area: the official and provisional recordings in its subtree over the whole
    campaign, and the newest day with any (one row per area, from the totals kept next to the rollups)."""
    result: dict[str, tuple[Parts, date | None]] = {}
    for chunk in chunks(codes, 900):
        rows = await session.execute(
            select(TOTAL.c.area_code, TOTAL.c.total, TOTAL.c.provisional, TOTAL.c.last_day).where(
                TOTAL.c.campaign_id == campaign_id, TOTAL.c.area_code.in_(chunk)
            )
        )
        for code, total, provisional, last in rows:
            result[code] = (Parts(total - provisional, provisional), last)  # a total's `total` is the figure
    return result


async def subtree_totals(session: AsyncSession, *, campaign_id: int, codes: list[str]) -> dict[str, tuple[int, date | None]]:
    """For each area: recordings in its subtree over the whole campaign (the figure: official +
    provisional), and the newest day with any."""
    found = await subtree_parts(session, campaign_id=campaign_id, codes=codes)
    return {code: (parts.figure, last) for code, (parts, last) in found.items()}


async def subtree_parts_until(session: AsyncSession, *, campaign_id: int, points: list[tuple[str, date]]) -> dict[tuple[str, date], Parts]:
    """For each (area, date): official and provisional recordings in the area's subtree up to and including the date."""
    by_day: dict[date, list[str]] = defaultdict(list)
    for code, day in points:
        by_day[day].append(code)
    result: dict[tuple[str, date], Parts] = {}
    for day, codes in by_day.items():
        for code, parts in (await parts_between(session, campaign_id=campaign_id, codes=codes, until=day)).items():
            result[(code, day)] = parts
    return result


async def subtree_totals_until(session: AsyncSession, *, campaign_id: int, points: list[tuple[str, date]]) -> dict[tuple[str, date], int]:
    """For each (area, date): recordings in the area's subtree up to and including the date."""
    by_day: dict[date, list[str]] = defaultdict(list)
    for code, day in points:
        by_day[day].append(code)
    result: dict[tuple[str, date], int] = {}
    for day, codes in by_day.items():
        for code, total in (await totals_between(session, campaign_id=campaign_id, codes=codes, until=day)).items():
            result[(code, day)] = total
    return result


async def parts_between(session: AsyncSession, *, campaign_id: int, codes: list[str], since: date | None = None, until: date | None = None) -> dict[str, Parts]:
    """Official and provisional recordings in each area's subtree on the days from `since` to `until` (both included)."""
    result: dict[str, Parts] = {}
    for chunk in chunks(codes):
        stmt = select(ROLLUP.c.area_code, func.sum(ROLLUP.c.total), func.sum(ROLLUP.c.provisional)).where(
            ROLLUP.c.campaign_id == campaign_id, ROLLUP.c.area_code.in_(chunk)
        )
        if since is not None:
            stmt = stmt.where(ROLLUP.c.day >= since)
        if until is not None:
            stmt = stmt.where(ROLLUP.c.day <= until)
        for code, total, provisional in await session.execute(stmt.group_by(ROLLUP.c.area_code)):
            result[code] = Parts(int(total or 0), int(provisional or 0))
    return result


async def totals_between(session: AsyncSession, *, campaign_id: int, codes: list[str], since: date | None = None, until: date | None = None) -> dict[str, int]:
    """Recordings (the figure) in each area's subtree on the days from `since` to `until` (both included)."""
    found = await parts_between(session, campaign_id=campaign_id, codes=codes, since=since, until=until)
    return {code: parts.figure for code, parts in found.items()}


async def daily_parts(session: AsyncSession, *, campaign_id: int, code: str, since: date, until: date) -> dict[date, Parts]:
    """Official and provisional recordings in the area's subtree per day."""
    rows = await session.execute(
        select(ROLLUP.c.day, ROLLUP.c.total, ROLLUP.c.provisional).where(
            ROLLUP.c.campaign_id == campaign_id, ROLLUP.c.area_code == code, ROLLUP.c.day >= since, ROLLUP.c.day <= until
        )
    )
    return {as_date(day): Parts(total, provisional) for day, total, provisional in rows}  # type: ignore[misc]  # a rollup's day is never NULL


async def daily_totals(session: AsyncSession, *, campaign_id: int, code: str, since: date, until: date) -> dict[date, int]:
    """Recordings (the figure) in the area's subtree per day."""
    found = await daily_parts(session, campaign_id=campaign_id, code=code, since=since, until=until)
    return {day: parts.figure for day, parts in found.items()}


async def level_disagreements(session: AsyncSession, *, campaign_id: int, root: str) -> list[tuple[str, date, int, int, int]]:
    """(area, day, own tally, children's sum, children reporting) where an area's own official
    daily tally differs from the official figures its children posted the same day (operational
    counts are for reconciliation, never a discrepancy)."""
    parents = (
        await session.execute(
            select(ROLLUP.c.area_code, ROLLUP.c.day, ROLLUP.c.own, ROLLUP.c.below).where(
                ROLLUP.c.campaign_id == campaign_id,
                in_subtree(ROLLUP.c.area_code, root),
                ROLLUP.c.own_rows > 0,
                ROLLUP.c.below > 0,
                ROLLUP.c.own != ROLLUP.c.below,
            )
        )
    ).all()
    if not parents:
        return []
    reporting: dict[tuple[str, date], int] = defaultdict(int)
    children = await session.execute(
        select(ROLLUP.c.area_code, ROLLUP.c.day).where(
            ROLLUP.c.campaign_id == campaign_id,
            in_subtree(ROLLUP.c.area_code, root),
            ROLLUP.c.total > 0,
            ROLLUP.c.day.in_({as_date(p.day) for p in parents}),
        )
    )
    for code, day in children:
        parent = parent_of(code)
        if parent is not None:
            reporting[(parent, as_date(day))] += 1  # type: ignore[index]  # a rollup's day is never NULL
    return [(p.area_code, as_date(p.day), p.own, p.below, reporting[(p.area_code, as_date(p.day))]) for p in parents]  # type: ignore[misc,index]  # a rollup's day is never NULL


# --- rebuilding (a campaign's policy changed) ------------------------------------------------------


async def rebuild(session: AsyncSession, *, campaign_id: int, root: str, official: frozenset[str]) -> None:
    """Recompute a campaign's rollups and totals from its raw tallies under `official` (its
    sources' kinds changed): one grouped read of the tallies, the recursion of the rule in Python,
    bulk inserts. The caller holds the campaign's write lock."""
    tally = Tally.__table__
    await session.execute(ROLLUP.delete().where(ROLLUP.c.campaign_id == campaign_id))
    await session.execute(TOTAL.delete().where(TOTAL.c.campaign_id == campaign_id))
    grouped = await session.execute(
        select(tally.c.area_code, tally.c.day, tally.c.source, func.sum(tally.c.count), func.count())
        .where(tally.c.campaign_id == campaign_id)
        .group_by(tally.c.area_code, tally.c.day, tally.c.source)
    )
    own: dict[date, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for area, day, source, count, rows in grouped:
        entry = own[as_date(day)][area]  # type: ignore[index]  # a tally's day is never NULL
        if source in official:
            entry[0] += int(count)
            entry[1] += int(rows)
        else:
            entry[2] += int(count)
    root_depth = depth_of(root)
    rollups: list[dict[str, Any]] = []
    totals: dict[str, list[Any]] = {}
    for day, areas in own.items():
        children: dict[str, set[str]] = defaultdict(set)
        nodes: set[str] = set()
        for area in areas:
            code = area
            nodes.add(code)
            while depth_of(code) > root_depth:
                parent = parent_of(code)
                assert parent is not None
                children[parent].add(code)
                nodes.add(parent)
                code = parent
        values: dict[str, tuple[int, int]] = {}
        for code in sorted(nodes, key=depth_of, reverse=True):  # children first
            o, rows, op_own = areas.get(code, (0, 0, 0))
            below = sum(values[c][0] for c in children.get(code, ()))
            op_below = sum(values[c][1] for c in children.get(code, ()))
            total, provisional = (o, 0) if rows > 0 else (below, op_own + op_below)
            values[code] = (total, provisional)
            rollups.append(
                {
                    "campaign_id": campaign_id,
                    "area_code": code,
                    "day": day,
                    "own": o,
                    "own_rows": rows,
                    "below": below,
                    "op_own": op_own,
                    "op_below": op_below,
                    "total": total,
                    "provisional": provisional,
                }
            )
            kept = totals.setdefault(code, [0, 0, None])
            kept[0] += total
            kept[1] += provisional
            if total + provisional > 0 and (kept[2] is None or day > kept[2]):
                kept[2] = day
    for chunk in chunks(rollups, 2000):
        await session.execute(ROLLUP.insert(), chunk)
    rows_ = [{"campaign_id": campaign_id, "area_code": code, "total": t + p, "provisional": p, "last_day": d} for code, (t, p, d) in totals.items()]
    for chunk in chunks(rows_, 2000):
        await session.execute(TOTAL.insert(), chunk)
    if own:
        await versions.tallies_changed(session, campaign_id, earliest=min(own))
