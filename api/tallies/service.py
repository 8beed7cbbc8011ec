"""Daily tallies: the number of recordings made each day, posted by kecamatan offices and scripts.

Rules
- A tally is the number of recordings on one day for one area (a kecamatan or below), optionally
  at one service point and on one device, with its source (`manual` by default, `script`, `demo`;
  `queue` and `home_visit` come from Rekam itself through `add_recordings`). The natural key is
  (campaign, area, date, service point, device): posting a key again replaces its value, never adds.
- A posted row is rejected when: its area is not an area code, unknown, above kecamatan level,
  outside the campaign's root or outside the caller's scope; its date is not ISO, before the
  campaign's start or after today (Asia/Jakarta); its count is not a whole number, negative or
  above the campaign's target or MAX_DAILY_COUNT; its service point or device is unknown; its service point is not in the
  row's area (same branch of the area tree); its key appears earlier in the same request; it has
  a column no tally has. (Devices are not placed in areas yet: the device-area rule waits for
  the devices domain's allocations.)
- Accepted with a warning: a count above the device's daily capacity, a date after the deadline
  (campaigns overrun), a day with no tally of an area between two of its posted days (weekends
  are not gaps when the campaign is closed on weekends).
- `atomic=true` (default): one rejected row rejects the request, nothing is written (422 with
  the summary). `atomic=false`: valid rows are applied, rejected ones reported. `dry_run=true`
  does all the work and then rolls it back, so the counts say exactly what would happen.
  `mode=replace`: for the posted areas, date range and source, tallies not in the request are
  deleted (scripts that resend a full picture).
- Every accepted change keeps history (old value, new value, who, when, which import) and every
  request that wrote is an import (who, when, its summary). A tally created by an import is
  recorded by its own row (import id, time) and that import (who) until it changes; then its
  creation is stored as a history entry before the change. Every other change is stored when it
  happens. `list_history` shows both kinds alike. The audit trail gets one entry per import: the
  history is the per-row record.
- Rollups: for each (campaign, area, day), the figure of the area's subtree that day, updated in
  the same transaction as every tally change by the difference between old and new values, for
  the area and each ancestor up to the campaign's root. A tally posted for an area stands for its
  whole subtree (as a snapshot does), so posting at two levels never double-counts; a parent whose
  own tally differs from its children's sum is a discrepancy. Dashboards read rollups only.
- Writes to one campaign's tallies are serialized (an advisory lock on PostgreSQL; SQLite has one
  writer anyway), so rollups computed from what was read stay exact. All of them go through
  `Writer.apply`.
"""

import codecs
import csv
import gc
import io
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, cast, func, null, or_, select, text, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api import idempotency
from api.areas.codes import depth_of, in_subtree, is_within, level_of, parent_of, require_code
from api.areas.models import Area
from api.audit import service as audit
from api.campaigns import versions
from api.campaigns.models import Campaign
from api.db import is_postgresql
from api.devices.models import Device
from api.errors import Forbidden, PayloadTooLarge, RuleViolation, UnsupportedMediaType
from api.pagination import PageParams, decode_cursor, encode_cursor, paginate
from api.services.models import ServicePoint
from api.tallies.bulk import Bulk
from api.tallies.models import SOURCES, Tally, TallyChange, TallyImport, TallyRollup, TallyTotal
from api.tallies.schemas import TallyMode

# A day's count above this, or above the campaign's whole target, is a typo (the article's
# cumulative kecamatan figures, posted as one day's tally, stay below both).
MAX_DAILY_COUNT = 1_000_000
BATCH = 10_000
# SQLite: new tallies whose parents' rollups wait for one summing pass (see `Writer`), at most;
# bounds what one pass sorts and hands to Python in a big upload.
NEW_ROLLED_UP_AT = 100_000
IN_CHUNK = 500
MAX_JSON_BODY = 64 * 1024 * 1024
MAX_REPORTED_ERRORS = 200
COLUMNS = ("area", "date", "count", "service_point", "device", "source")
COLUMN_SET = frozenset(COLUMNS)
REQUIRED_COLUMNS = ("area", "date", "count")
POSTED_SOURCES = ("manual", "script", "demo")
KECAMATAN_DEPTH = 3
_LOCK_NAMESPACE = 7401

TALLY = Tally.__table__
CHANGE = TallyChange.__table__
ROLLUP = TallyRollup.__table__
TOTAL = TallyTotal.__table__


def _chunks(items: Iterable[Any], size: int = IN_CHUNK) -> Iterator[list[Any]]:
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(slots=True)
class Row:
    number: int
    area: str
    day: date
    point: int | None
    device: int | None
    count: int
    source: str


class Problems:
    """Identical problems grouped, with every row number that has them."""

    def __init__(self) -> None:
        self._groups: dict[tuple[str | None, str, str], list[int]] = {}

    def add(self, row: int | None, field_: str | None, code: str, message: str) -> None:
        rows = self._groups.setdefault((field_, code, message), [])
        if row is not None:
            rows.append(row)

    def as_list(self) -> list[dict[str, Any]]:
        return [{"rows": rows, "field": f, "code": c, "message": m} for (f, c, m), rows in self._groups.items()]

    def __bool__(self) -> bool:
        return bool(self._groups)


@dataclass
class Counts:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0


# --- writing: tallies, history, rollups ---------------------------------------------------------

CHANGE_COLUMNS = (
    "campaign_id", "area_code", "day", "service_point_id", "device_id", "old_count", "new_count", "source", "at",
    "actor_kind", "actor_id", "actor_name", "import_id",
)


@dataclass(slots=True)
class Change:
    """A stored tally that a write changes (`new_count` None: deleted), with what it was."""

    id: int
    area: str
    day: date
    point: int | None
    device: int | None
    old_count: int
    new_count: int | None
    source: str
    old_source: str
    old_import_id: int | None
    old_at: Any  # as the driver returned it


@dataclass
class Writer:
    """Applies accepted tallies of one campaign with their history, rollups and totals.

    `write` and `delete_missing` sort rows into new tallies and changes of stored ones; `apply`
    writes them (one bulk statement per table and batch, see `api.tallies.bulk`). The per-area
    totals are written at the end of each `write` unless `defer_totals` is set; then `finish()`
    writes them once for the whole import (still inside its transaction).

    History: a tally created by an import is recorded by its own row (`import_id`,
    `updated_at`) and the import (actor) until it changes; the change first writes that creation
    as an entry of its own, then the change. Every other change (updates, deletions, tallies
    written outside an import) is an entry when it happens. `list_history` shows both.
    """

    campaign_id: int
    root: str
    actor: Any
    import_id: int | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    counts: Counts = field(default_factory=Counts)
    defer_totals: bool = False
    # area -> [total delta, newest day made positive, newest day dropped to zero]
    _totals: dict[str, list[Any]] = field(default_factory=dict)
    # SQLite: new tallies whose own rollups are written but whose parents' rollups wait (see `roll_up`)
    _new: "PendingParents | None" = None
    _bulk: Bulk | None = None

    def bulk(self, session: AsyncSession) -> Bulk:
        if self._bulk is None or self._bulk.session is not session:
            self._bulk = Bulk(session)
        return self._bulk

    async def write(self, session: AsyncSession, rows: list[Row], *, add: bool = False) -> None:
        """Insert or replace (or, with `add`, increase) the tallies of `rows`, whose keys are distinct."""
        if not rows:
            return
        bulk = self.bulk(session)
        iso = {day: day.isoformat() for day in {r.day for r in rows}}
        batch = bulk.batch(rows, iso)
        # New rows go in at once; only when some keys were stored already are those read.
        count, largest = await bulk.insert_new_tallies(self.campaign_id, batch, import_id=self.import_id, at=self.now)
        inserted = True
        found = [] if count == len(rows) else await bulk.find_tallies(self.campaign_id, batch, up_to=largest)
        deltas: dict[tuple[str, date], list[int]] = {}
        if count == len(rows) and not bulk.pg:  # new figures on SQLite: own rollups summed inside SQLite
            self.counts.imported += len(rows)
            new = NewTallies(largest, largest + count, rows, min(iso))
            await self.apply(session, created=rows, changed=[], deltas=deltas, inserted=True, new=new)
            return
        if not found:  # the common case of new figures: no per-row comparison
            for r in rows:
                delta = deltas.get((r.area, r.day))
                if delta is None:
                    deltas[(r.area, r.day)] = [r.count, 1, 0]
                else:
                    delta[0] += r.count
                    delta[1] += 1
            self.counts.imported += len(rows)
            await self.apply(session, created=rows, changed=[], deltas=deltas, batch=None if inserted else batch, inserted=inserted)
            return
        existing = {position: rest for position, *rest in found}
        created: list[Row] = []
        changed: list[Change] = []
        unchanged = 0
        for position, r in enumerate(rows):
            old = existing.get(position)
            if old is None:
                created.append(r)
                delta = deltas.setdefault((r.area, r.day), [0, 0, 0])
                delta[0] += r.count
                delta[1] += 1
                continue
            id_, count, source, import_id, at = old
            new = count + r.count if add else r.count
            if new == count and r.source == source:
                unchanged += 1
                continue
            changed.append(Change(id_, r.area, r.day, r.point, r.device, count, new, r.source, source, import_id, at))
            deltas.setdefault((r.area, r.day), [0, 0, 0])[0] += new - count
        self.counts.imported += len(created)
        self.counts.updated += len(changed)
        self.counts.unchanged += unchanged
        await self.apply(session, created=created, changed=changed, deltas=deltas, batch=None if inserted else bulk.batch(created, iso), inserted=inserted)

    async def apply(
        self,
        session: AsyncSession,
        *,
        created: list[Row],
        changed: list[Change],
        deltas: dict[tuple[str, date], list[int]],
        batch: Any = None,
        inserted: bool = False,
        new: "NewTallies | None" = None,
    ) -> None:
        """Write new tallies (`batch`: `created` in `Bulk.batch` form, if already made;
        `inserted`: they are in the table already, see `Bulk.insert_new_tallies`) and
        changes of stored ones (`new_count` None: delete), their history, and the rollups by
        `deltas` ((area, day) -> [count delta, row delta, 0]) or, instead, from `new` (see
        `roll_up`): the one place where a campaign's tallies change."""
        bulk = self.bulk(session)
        if created and not inserted:
            if batch is None:
                batch = bulk.batch(created, {day: day.isoformat() for day in {r.day for r in created}})
            await bulk.insert_tallies(self.campaign_id, batch, import_id=self.import_id, at=self.now)
        await bulk.update_tallies([(c.id, c.source, c.new_count) for c in changed if c.new_count is not None], import_id=self.import_id, at=self.now)
        await bulk.delete_tallies([c.id for c in changed if c.new_count is None])
        await self._write_history(bulk, created, changed)
        await self._roll_up(session, deltas, fresh=not changed, new=new)

    async def _write_history(self, bulk: Bulk, created: list[Row], changed: list[Change]) -> None:
        day_of, campaign_id = bulk.day, self.campaign_id
        at = bulk.moment(CHANGE.c.at, self.now)
        who = (self.actor.kind, self.actor.id, self.actor.name, self.import_id)
        entries: list[tuple[Any, ...]] = []
        implicit = [c for c in changed if c.old_import_id is not None]
        if implicit:
            recorded = await bulk.recorded_changes(campaign_id, [(c.area, day_of(c.day), c.point, c.device, c.old_import_id) for c in implicit])
            creations = [c for position, c in enumerate(implicit) if position not in recorded]
            if creations:
                among, ids = bulk.among(sorted({c.old_import_id for c in creations}))  # type: ignore[type-var]
                actors = {row[0]: row[1:] for row in await bulk.fetch(f"SELECT id, actor_kind, actor_id, actor_name FROM tally_imports WHERE id {among}", ids)}
                entries.extend(
                    (campaign_id, c.area, day_of(c.day), c.point, c.device, None, c.old_count, c.old_source, c.old_at, *actors[c.old_import_id], c.old_import_id)
                    for c in creations
                )
        entries.extend((campaign_id, c.area, day_of(c.day), c.point, c.device, c.old_count, c.new_count, c.source, at, *who) for c in changed)
        if self.import_id is None:  # no import to stand for these creations
            entries.extend((campaign_id, r.area, day_of(r.day), r.point, r.device, None, r.count, r.source, at, *who) for r in created)
        await bulk.insert("tally_changes", CHANGE_COLUMNS, entries)

    async def _roll_up(self, session: AsyncSession, deltas: dict[tuple[str, date], list[int]], *, fresh: bool = False, new: "NewTallies | None" = None) -> None:
        if new is not None and self._new is None:
            self._new = PendingParents(depth_of(self.root))
        await roll_up(
            session, campaign_id=self.campaign_id, root=self.root, deltas=deltas, bulk=self.bulk(session), totals=self._totals, fresh=fresh, new=new,
            pending=self._new,
        )
        if not self.defer_totals:
            await self.finish(session)
        elif self._new is not None and self._new.rows >= NEW_ROLLED_UP_AT:
            await self._roll_up_new_parents(session)

    async def _roll_up_new_parents(self, session: AsyncSession) -> None:
        """The parents' rollups of new tallies whose own rollups were written (SQLite; see
        `roll_up`), for all of them at once."""
        if self._new is None:
            return
        bulk = self.bulk(session)
        deltas = self._new.take()
        if deltas:  # fresh: the first import of a day makes its parents' rollups too
            await roll_up(session, campaign_id=self.campaign_id, root=self.root, deltas=deltas, bulk=bulk, totals=self._totals, fresh=True)

    async def finish(self, session: AsyncSession) -> None:
        """Roll up the parents of new tallies whose own rollups were written (SQLite), then write
        the per-area totals of everything written so far (one statement)."""
        await self._roll_up_new_parents(session)
        if not self._totals:
            return
        pending, self._totals = self._totals, {}
        bulk = self.bulk(session)
        current = await bulk.find_totals(self.campaign_id, list(pending))
        rows, recount = [], []
        for code, (delta, raised, dropped) in pending.items():
            total, last = current.get(code, (0, None))
            last = _as_date(last)
            if dropped is not None and (raised is None or dropped >= raised):
                recount.append(code)  # the newest day may have dropped to zero: ask the rollups
                newest = last
            else:
                newest = raised if last is None or (raised is not None and raised > last) else last
            rows.append((code, total + delta, newest))
        if recount:
            found: dict[str, date | None] = {}
            for chunk in _chunks(recount, 900):
                result = await session.execute(
                    select(ROLLUP.c.area_code, func.max(ROLLUP.c.day)).where(
                        ROLLUP.c.campaign_id == self.campaign_id, ROLLUP.c.area_code.in_(chunk), ROLLUP.c.total > 0
                    ).group_by(ROLLUP.c.area_code)
                )
                found.update((code, _as_date(day)) for code, day in result)
            again = set(recount)
            rows = [(code, total, found.get(code)) if code in again else (code, total, newest) for code, total, newest in rows]
        await bulk.upsert_totals(self.campaign_id, rows)

    async def delete_missing(self, session: AsyncSession, *, source: str, areas: set[str], lo: date, hi: date, kept: set[int]) -> None:
        """mode=replace: delete this source's tallies of `areas` in [lo, hi] whose key hash is not in `kept`."""
        doomed: list[Change] = []
        bulk = self.bulk(session)
        deltas: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0, 0])
        for chunk in _chunks(areas):
            result = await session.execute(
                select(
                    TALLY.c.id, TALLY.c.area_code, TALLY.c.day, TALLY.c.service_point_id, TALLY.c.device_id, TALLY.c.count, TALLY.c.import_id,
                    TALLY.c.updated_at,
                ).where(
                    TALLY.c.campaign_id == self.campaign_id, TALLY.c.area_code.in_(chunk), TALLY.c.day >= lo, TALLY.c.day <= hi, TALLY.c.source == source
                )
            )
            for id_, area, day, point, device, count, import_id, at in result:
                if hash((area, day, point or 0, device or 0)) in kept:
                    continue
                doomed.append(Change(id_, area, day, point, device, count, None, source, source, import_id, bulk.moment(TALLY.c.updated_at, at)))
                delta = deltas[(area, day)]
                delta[0] -= count
                delta[1] -= 1
        if not doomed:
            return
        await self.apply(session, created=[], changed=doomed, deltas=deltas)
        self.counts.deleted += len(doomed)


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

    def deltas(self) -> dict[tuple[str, date], list[int]]:
        deltas: dict[tuple[str, date], list[int]] = {}
        for r in self.rows:
            delta = deltas.get((r.area, r.day))
            if delta is None:
                deltas[(r.area, r.day)] = [r.count, 1, 0]
            else:
                delta[0] += r.count
                delta[1] += 1
        return deltas


async def _insert_own_rollups(session: AsyncSession, bulk: Bulk, campaign_id: int, new: NewTallies) -> bool:
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
    """What new tallies whose own rollups were inserted by `_insert_own_rollups` add to their
    parents' rollups, summed until the `Writer` rolls them up, once for many batches. Each such
    rollup's total is its own sum (it has own rows), so the parents' `below` deltas and the
    per-area totals are plain sums of the tallies: one pass over the rows."""

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
                totals[area] = [count, day, None]
            else:
                entry[0] += count
                if entry[1] is None or day > entry[1]:
                    entry[1] = day
        self.rows += len(rows)

    def take(self) -> dict[tuple[str, date], list[int]]:
        """The parents' deltas as `roll_up` takes them; starts over."""
        deltas = {key: [0, 0, below] for key, below in self.below.items()}
        self.below, self.rows = {}, 0
        return deltas


async def lock_campaign(session: AsyncSession, campaign_id: int) -> None:
    if is_postgresql(session):
        await session.execute(text("SELECT pg_advisory_xact_lock(:namespace, :id)"), {"namespace": _LOCK_NAMESPACE, "id": campaign_id})
        # A batch reads a few thousand rows by primary key. The default cost model (spinning disks)
        # and statistics that lag behind a running import make the planner scan whole tables
        # instead; for this transaction only, cost random reads as on SSDs and cached data.
        await session.execute(text("SET LOCAL random_page_cost = 1.1"))


async def roll_up(
    session: AsyncSession,
    *,
    campaign_id: int,
    root: str,
    deltas: dict[tuple[str, date], list[int]],
    bulk: Bulk | None = None,
    totals: dict[str, list[Any]] | None = None,
    fresh: bool = False,
    new: NewTallies | None = None,
    pending: PendingParents | None = None,
) -> list[tuple[str, date, int, int]]:
    """Apply changes of own tallies ((area, day) -> [count delta, row delta, 0]) to the rollups
    of each area and its ancestors up to `root`, children before parents. Per level of the area
    tree: one lookup of the stored rollups among the level's keys (inside the database; only
    stored ones come back), then one statement that adds the deltas (`ON CONFLICT DO UPDATE`);
    on PostgreSQL, growing rollups are added and read back in one statement instead.

    `fresh`: the deltas come from new tallies only, so their own rollups are likely new too: on
    SQLite they are then inserted at once (`ON CONFLICT DO NOTHING`) inside a savepoint, kept when
    every one was new (no lookup needed), rolled back and done the usual way otherwise.

    `new` (SQLite, with `pending` and `totals`): the changes are these new tallies, and `deltas`
    is empty; their own rollups are summed inside SQLite when none is stored yet, their totals
    added to `totals` and their parents' deltas to `pending`, for the caller to roll up later,
    once for many batches (see `PendingParents`, `Writer.finish`). Otherwise `deltas` is made
    from their rows.

    Returns (area, day, old total, new total) for each rollup whose total changed; with
    `totals`, adds those changes to it instead (area -> [total delta, newest day made positive,
    newest day dropped to zero]) and returns nothing."""
    if not deltas and new is None:
        return []
    earliest = new.earliest if new is not None else min(day for _, day in deltas)
    await versions.tallies_changed(session, campaign_id, earliest=earliest)  # public progress caches
    bulk = bulk or Bulk(session)
    root_depth = depth_of(root)
    if new is not None:
        assert pending is not None and totals is not None, "the parents of new tallies are rolled up by the caller"
        if await _insert_own_rollups(session, bulk, campaign_id, new):
            pending.add(new.rows, totals)
            return []
        deltas, fresh = new.deltas(), False  # some own rollups are stored
    levels: dict[int, dict[tuple[str, date], list[int]]]  # depth -> key -> [own, rows, below] deltas
    depths, found = _DEPTHS, set()
    for code, _ in deltas:
        depth = depths.get(code)
        if depth is None:
            depth = depths[code] = depth_of(code)
        found.add(depth)
    if len(found) == 1:  # the common case: the deltas are that level (only read below)
        levels = {found.pop(): deltas}
    else:
        levels = {depth: {} for depth in found}
        for key, delta in deltas.items():
            levels[depths[key[0]]][key] = list(delta)
    changed: list[tuple[str, date, int, int]] = []
    parents = _PARENTS
    written_levels = 0
    while levels:
        depth = max(levels)
        level = levels.pop(depth)
        stored = {day: bulk.day(day) for day in {day for _, day in level}}
        keys = [key for key, delta in level.items() if delta[0] or delta[1] or delta[2]]
        growing = all(min(delta) >= 0 for delta in level.values())
        batch = bulk.rollup_batch([(code, stored[day], *level[(code, day)]) for code, day in keys])
        above = levels.setdefault(depth - 1, {}) if depth > root_depth else None
        written: list[tuple[str, date, int, int]] = []  # (area, day, old total, new total)
        if growing and bulk.pg:
            # One round trip: add, and read the new values back (old = new - delta).
            back = {value: day for day, value in stored.items()}
            for code, value, own, own_rows, below, total in await bulk.add_to_rollups(campaign_id, batch, returning=True):
                day = back[value]
                own_delta, rows_delta, below_delta = level[(code, day)]
                written.append((code, day, own - own_delta if own_rows - rows_delta > 0 else below - below_delta, total))
        else:
            state = None
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
                own, own_rows, below = level[key]
                old = state.get(position) if state else None
                if old is None:
                    total = 0
                else:
                    total = old[3]
                    own, own_rows, below = old[0] + own, old[1] + own_rows, old[2] + below
                    if not growing:
                        shrinking.append((key[0], stored[key[1]], own, own_rows, below, own if own_rows > 0 else below))
                written.append((key[0], key[1], total, own if own_rows > 0 else below))
            if inserted:
                pass
            elif growing:
                await bulk.add_to_rollups(campaign_id, batch)
            else:  # some shrink: stored rollups get their new values, the others are added
                await bulk.set_rollups(campaign_id, shrinking)
                fresh = [(code, stored[day], *level[(code, day)]) for position, (code, day) in enumerate(keys) if position not in state]
                if fresh:
                    await bulk.add_to_rollups(campaign_id, bulk.rollup_batch(fresh))
        for code, day, total, new_total in written:
            if new_total != total:
                if totals is None:
                    changed.append((code, day, total, new_total))
                else:
                    entry = totals.get(code)
                    if entry is None:
                        entry = totals[code] = [0, None, None]
                    entry[0] += new_total - total
                    if new_total > 0 and (entry[1] is None or day > entry[1]):
                        entry[1] = day
                    if new_total == 0 and total > 0 and (entry[2] is None or day > entry[2]):
                        entry[2] = day
                if above is not None:
                    parent = parents.get(code)
                    if parent is None:
                        parent = parents[code] = parent_of(code)  # type: ignore[assignment]
                    entry = above.get((parent, day))
                    if entry is None:
                        above[(parent, day)] = [0, 0, new_total - total]
                    else:
                        entry[2] += new_total - total
        written_levels += 1
        if above is not None and not above:
            del levels[depth - 1]
    return changed



# --- reading rollups (what progress uses) ----------------------------------------------------------


async def subtree_totals(session: AsyncSession, *, campaign_id: int, codes: list[str]) -> dict[str, tuple[int, date | None]]:
    """For each area: recordings in its subtree over the whole campaign, and the newest day with any
    (one row per area, from the totals kept next to the rollups)."""
    result: dict[str, tuple[int, date | None]] = {}
    for chunk in _chunks(codes, 900):
        rows = await session.execute(
            select(TOTAL.c.area_code, TOTAL.c.total, TOTAL.c.last_day).where(TOTAL.c.campaign_id == campaign_id, TOTAL.c.area_code.in_(chunk))
        )
        for code, total, last in rows:
            result[code] = (total, last)
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


async def totals_between(session: AsyncSession, *, campaign_id: int, codes: list[str], since: date | None = None, until: date | None = None) -> dict[str, int]:
    """Recordings in each area's subtree on the days from `since` to `until` (both included)."""
    result: dict[str, int] = {}
    for chunk in _chunks(codes):
        stmt = select(ROLLUP.c.area_code, func.sum(ROLLUP.c.total)).where(ROLLUP.c.campaign_id == campaign_id, ROLLUP.c.area_code.in_(chunk))
        if since is not None:
            stmt = stmt.where(ROLLUP.c.day >= since)
        if until is not None:
            stmt = stmt.where(ROLLUP.c.day <= until)
        for code, total in await session.execute(stmt.group_by(ROLLUP.c.area_code)):
            result[code] = int(total or 0)
    return result


async def daily_totals(session: AsyncSession, *, campaign_id: int, code: str, since: date, until: date) -> dict[date, int]:
    """Recordings in the area's subtree per day."""
    rows = await session.execute(
        select(ROLLUP.c.day, ROLLUP.c.total).where(
            ROLLUP.c.campaign_id == campaign_id, ROLLUP.c.area_code == code, ROLLUP.c.day >= since, ROLLUP.c.day <= until
        )
    )
    return {_as_date(day): total for day, total in rows}  # type: ignore[misc]


async def level_disagreements(session: AsyncSession, *, campaign_id: int, root: str) -> list[tuple[str, date, int, int, int]]:
    """(area, day, own tally, children's sum, children reporting) where an area's own daily tally
    differs from what its children posted the same day."""
    parents = (
        await session.execute(
            select(ROLLUP.c.area_code, ROLLUP.c.day, ROLLUP.c.own, ROLLUP.c.below).where(
                ROLLUP.c.campaign_id == campaign_id, in_subtree(ROLLUP.c.area_code, root),
                ROLLUP.c.own_rows > 0, ROLLUP.c.below > 0, ROLLUP.c.own != ROLLUP.c.below,
            )
        )
    ).all()
    if not parents:
        return []
    reporting: dict[tuple[str, date], int] = defaultdict(int)
    children = await session.execute(
        select(ROLLUP.c.area_code, ROLLUP.c.day).where(
            ROLLUP.c.campaign_id == campaign_id, in_subtree(ROLLUP.c.area_code, root), ROLLUP.c.total > 0,
            ROLLUP.c.day.in_({_as_date(p.day) for p in parents}),
        )
    )
    for code, day in children:
        parent = parent_of(code)
        if parent is not None:
            reporting[(parent, _as_date(day))] += 1  # type: ignore[index]
    return [(p.area_code, _as_date(p.day), p.own, p.below, reporting[(p.area_code, _as_date(p.day))]) for p in parents]  # type: ignore[misc]


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# --- recordings made through Rekam (queue tickets, home visits) -----------------------------------


async def add_recordings(
    session: AsyncSession,
    *,
    area_code: str,
    day: date,
    count: int = 1,
    source: str,
    service_point_id: int | None = None,
    device_id: int | None = None,
    actor: Any,
) -> None:
    """Add recordings made through Rekam itself (a completed queue ticket, a home visit) to the
    day's tally of every campaign whose root contains the area and whose dates include the day,
    keeping history and rollups. Sources: `queue`, `home_visit`."""
    if source not in ("queue", "home_visit"):
        raise ValueError(f"add_recordings is for queue and home_visit recordings, not {source!r}")
    if count < 0:
        raise ValueError("count must not be negative")
    campaigns = (await session.execute(select(Campaign.id, Campaign.root_area_code).where(Campaign.start_date <= day, Campaign.deadline >= day))).all()
    for campaign_id, root in campaigns:
        if not is_within(area_code, root):
            continue
        await lock_campaign(session, campaign_id)
        writer = Writer(campaign_id=campaign_id, root=root, actor=actor)
        await writer.write(session, [Row(0, area_code, day, service_point_id, device_id, count, source)], add=True)


# --- posting tallies ----------------------------------------------------------------------------


class Checker:
    """Cheap per-row checks (plain code, no model per row) and per-batch lookups with caches."""

    def __init__(self, campaign: Campaign, actor: Any, today: date) -> None:
        self.campaign, self.actor, self.today = campaign, actor, today
        self.root, self.deadline = campaign.root_area_code, campaign.deadline
        self.columns_checked = False  # True when rows come from a CSV whose header was checked
        self.max_count = min(MAX_DAILY_COUNT, campaign.target) if campaign.target else MAX_DAILY_COUNT
        self.problems, self.warnings = Problems(), Problems()
        self.rejected = 0
        self.seen: set[int] = set()
        self._dates: dict[str, date | str] = {}
        self._raw_areas: dict[str, tuple[str, str | None]] = {}
        self._area_ok: dict[str, str | None] = {}
        self._known_areas: dict[str, bool] = {}
        self._points: dict[int, str | None] = {}
        self._devices: dict[int, int | None] = {}

    def reject(self, row: int, field_: str | None, code: str, message: str) -> None:
        self.problems.add(row, field_, code, message)
        self.rejected += 1

    def _area_problem(self, area: str) -> str | None:
        if area in self._area_ok:
            return self._area_ok[area]
        level = level_of(area)
        if level is None:
            problem: str | None = "invalid_area"
        elif depth_of(area) < KECAMATAN_DEPTH:
            problem = "above_kecamatan"
        elif not is_within(area, self.root):
            problem = "outside_campaign"
        elif not self.actor.covers_area(area):
            problem = "outside_scope"
        else:
            problem = None
        self._area_ok[area] = problem
        return problem

    def _day(self, raw: Any) -> date | str:
        if not isinstance(raw, str):
            return "invalid_date"
        found = self._dates.get(raw)
        if found is None:
            try:
                day = date.fromisoformat(raw.strip()) if len(raw.strip()) == 10 else None
            except ValueError:
                day = None
            if day is None:
                found = "invalid_date"
            elif day < self.campaign.start_date:
                found = "before_start"
            elif day > self.today:
                found = "in_future"
            else:
                found = day
            self._dates[raw] = found
        return found

    def row(self, number: int, raw: Any) -> Row | None:
        if type(raw) is not dict and not isinstance(raw, dict):
            self.reject(number, None, "invalid_row", "a row must be an object with area, date and count")
            return None
        if not self.columns_checked and not raw.keys() <= COLUMN_SET:
            extra = raw.keys() - COLUMN_SET
            self.reject(number, sorted(extra)[0], "unknown_field", f"unknown field; a tally has {', '.join(COLUMNS)}")
            return None
        raw_area = raw.get("area")
        found = self._raw_areas.get(raw_area) if type(raw_area) is str else None
        if found is None:
            area = raw_area.strip() if isinstance(raw_area, str) else ""
            found = (area, self._area_problem(area) if area else "invalid_area")
            if type(raw_area) is str:
                self._raw_areas[raw_area] = found
        area, problem = found
        if problem is not None:
            self.reject(number, "area", problem, AREA_MESSAGES[problem])
            return None
        raw_day = raw.get("date")
        day = self._dates.get(raw_day) if type(raw_day) is str else None
        if day is None:
            day = self._day(raw_day)
        if type(day) is str:
            self.reject(number, "date", day, DATE_MESSAGES[day])
            return None
        count = raw.get("count")
        if type(count) is not int or count < 0:  # the common case first: a plain int, or digits
            count = int(count) if type(count) is str and count.isdigit() and count.isascii() else _whole(count)
        if count is None:
            self.reject(number, "count", "not_integer", "not a whole number")
            return None
        if count < 0:
            self.reject(number, "count", "negative", "must not be negative")
            return None
        if count > self.max_count:
            self.reject(number, "count", "too_large", "more than the campaign's target or 1,000,000 in a day: surely a typo")
            return None
        point = raw.get("service_point")
        if point is not None:
            point = _reference(point)
            if point is False:
                self.reject(number, "service_point", "invalid_reference", "must be a service point id")
                return None
        device = raw.get("device")
        if device is not None:
            device = _reference(device)
            if device is False:
                self.reject(number, "device", "invalid_reference", "must be a device id")
                return None
        source = raw.get("source")
        if source is None or source == "":
            source = "manual"
        elif source not in POSTED_SOURCES:
            if isinstance(source, str):
                source = source.strip() or "manual"
            if source not in POSTED_SOURCES:
                self.reject(number, "source", "unknown_source", f"must be one of {', '.join(POSTED_SOURCES)}")
                return None
        key = hash((area, day, point or 0, device or 0))
        seen = self.seen
        if key in seen:
            self.reject(number, "area", "duplicate_key", "the same area, date, service point and device appear earlier in this request")
            return None
        seen.add(key)
        if day > self.deadline:  # type: ignore[operator]
            self.warnings.add(number, "date", "after_deadline", "after the campaign's deadline")
        return Row(number, area, day, point or None, device or None, count, source)  # type: ignore[arg-type]

    async def batch(self, session: AsyncSession, rows: list[Row]) -> list[Row]:
        """The rows whose area, service point and device exist (and fit together)."""
        await self._load(session, rows)
        accepted = []
        for r in rows:
            if not self._known_areas[r.area]:
                self.reject(r.number, "area", "unknown_area", "unknown area")
                continue
            if r.point is not None:
                point_area = self._points[r.point]
                if point_area is None:
                    self.reject(r.number, "service_point", "unknown_service_point", "unknown service point")
                    continue
                if not (is_within(point_area, r.area) or is_within(r.area, point_area)):
                    self.reject(r.number, "service_point", "not_in_area", "the service point is not in this area")
                    continue
            if r.device is not None:
                capacity = self._devices[r.device]
                if capacity is None:
                    self.reject(r.number, "device", "unknown_device", "unknown device")
                    continue
                if r.count > capacity:
                    self.warnings.add(r.number, "count", "above_capacity", "above the device's daily capacity")
            accepted.append(r)
        return accepted

    async def _load(self, session: AsyncSession, rows: list[Row]) -> None:
        areas = {r.area for r in rows} - self._known_areas.keys()
        bulk = Bulk(session)
        for chunk in _chunks(areas, 900):  # straight to the driver: a first batch names thousands
            among, values = bulk.among(chunk)
            found = {code for (code,) in await bulk.fetch(f"SELECT code FROM areas WHERE code {among}", values)}
            self._known_areas.update((code, code in found) for code in chunk)
        points = {r.point for r in rows if r.point is not None} - self._points.keys()
        for chunk in _chunks(points):
            found_points = dict((await session.execute(select(ServicePoint.id, ServicePoint.area_code).where(ServicePoint.id.in_(chunk)))).all())
            self._points.update((id_, found_points.get(id_)) for id_ in chunk)
        devices = {r.device for r in rows if r.device is not None} - self._devices.keys()
        for chunk in _chunks(devices):
            found_devices = dict((await session.execute(select(Device.id, Device.daily_capacity).where(Device.id.in_(chunk)))).all())
            self._devices.update((id_, found_devices.get(id_)) for id_ in chunk)


AREA_MESSAGES = {
    "invalid_area": "not an area code (like 36.74.01)",
    "above_kecamatan": "tallies are posted for a kecamatan or an area below it",
    "outside_campaign": "outside the campaign's area",
    "outside_scope": "outside your scope",
}
DATE_MESSAGES = {
    "invalid_date": "not a date (YYYY-MM-DD)",
    "before_start": "before the campaign's start",
    "in_future": "in the future (Asia/Jakarta)",
}


def _whole(value: Any) -> int | None:
    if type(value) is int:
        return value
    if isinstance(value, str):
        value = value.strip()
        digits = value[1:] if value[:1] == "-" else value
        if digits.isdigit() and digits.isascii():
            return int(value)
    return None


def _reference(value: Any) -> int | None | bool:
    """An id, None when absent, False when malformed."""
    if value is None or value == "":
        return None
    number = _whole(value)
    return number if number is not None and number > 0 else False


async def _json_rows(body: AsyncIterator[bytes]) -> AsyncIterator[list[tuple[int, Any]]]:
    chunks, size = [], 0
    async for chunk in body:
        size += len(chunk)
        if size > MAX_JSON_BODY:
            raise PayloadTooLarge("A JSON body may be 64 MB at most; send CSV (streamed) or split the file.")
        chunks.append(chunk)
    try:
        data = json.loads(b"".join(chunks))
    except (ValueError, UnicodeDecodeError):
        raise RuleViolation.on_field("tallies", "The body is not valid JSON.") from None
    del chunks
    if not isinstance(data, dict) or not isinstance(data.get("tallies"), list) or set(data) != {"tallies"}:
        raise RuleViolation.on_field("tallies", 'Send {"tallies": [{"area", "date", "count", ...}, ...]}.')
    items = data["tallies"]
    for start in range(0, len(items), BATCH):
        yield list(enumerate(items[start : start + BATCH], start=start + 1))


def _safe_cut(buffer: str) -> int:
    """Position after the last line break that is not inside a quoted field (0 if none)."""
    position = buffer.rfind("\n")
    while position >= 0:
        if buffer.count('"', 0, position) % 2 == 0:
            return position + 1
        position = buffer.rfind("\n", 0, position)
    return 0


async def _csv_rows(body: AsyncIterator[bytes]) -> AsyncIterator[list[tuple[int, Any]]]:
    """Stream a spreadsheet's CSV: UTF-8 with or without BOM, CRLF or LF, comma or semicolon,
    quoted fields. Row numbers count the header as row 1."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    buffer, header, delimiter, number = "", None, ",", 1

    def parse(text_: str) -> list[tuple[int, Any]]:
        nonlocal header, delimiter, number
        out = []
        if header is None:
            first = text_.split("\n", 1)[0]
            delimiter = ";" if first.count(";") > first.count(",") else ","
        width = len(header) if header is not None else -1
        for record in csv.reader(io.StringIO(text_), delimiter=delimiter):
            if len(record) == width and record[0].strip():  # the common row: all columns, an area
                number += 1
                out.append((number, dict(zip(header, record))))  # type: ignore[arg-type]
                continue
            if not record or not "".join(record).strip():
                continue
            if header is None:
                header = [cell.strip().lower() for cell in record]
                width = len(header)
                missing = [c for c in REQUIRED_COLUMNS if c not in header]
                unknown = [c for c in header if c not in COLUMNS]
                if missing or unknown or len(set(header)) != len(header):
                    raise RuleViolation(
                        f"The CSV header must name the columns {', '.join(REQUIRED_COLUMNS)} (and optionally service_point, device, source), each once.",
                        errors=[{"row": 1, "field": (missing or unknown or [None])[0], "message": "missing, unknown or repeated column"}],
                    )
                continue
            number += 1
            if len(record) > len(header) and any(cell.strip() for cell in record[len(header) :]):
                out.append((number, None))
            else:
                # Trailing empty cells are often left out by spreadsheets: they are the optional columns.
                out.append((number, dict(zip(header, record + [""] * (len(header) - len(record)), strict=False))))
        return out

    try:
        async for chunk in body:
            buffer += decoder.decode(chunk)
            cut = _safe_cut(buffer)
            if cut:
                rows = parse(buffer[:cut])
                buffer = buffer[cut:]
                if rows:
                    yield rows
        buffer += decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise RuleViolation("The CSV must be UTF-8 text.", errors=[{"row": number + 1, "field": None, "message": "not UTF-8"}]) from None
    if buffer.strip():
        rows = parse(buffer)
        if rows:
            yield rows
    if header is None:
        raise RuleViolation("The CSV is empty; it needs a header row area,date,count.", errors=[{"row": 1, "field": None, "message": "no header"}])


async def post_tallies(
    session: AsyncSession,
    *,
    campaign: Campaign,
    actor: Any,
    content_type: str,
    body: AsyncIterator[bytes],
    dry_run: bool = False,
    mode: TallyMode = TallyMode.upsert,
    atomic: bool = True,
    idempotency_key: str | None = None,
    target: str = "",
) -> tuple[int, dict[str, Any]]:
    """Validate and apply posted tallies; (HTTP status, import summary or problem with summary)."""
    kind = content_type.split(";")[0].strip().lower() or "application/json"
    if kind in ("text/csv", "application/csv"):
        kind = "csv"
    elif kind == "application/json":
        kind = "json"
    else:
        raise UnsupportedMediaType(f"Send application/json or text/csv, not {kind[:60]}.")

    async def work(stream: AsyncIterator[bytes]) -> tuple[int, dict[str, Any]]:
        return await _import(session, campaign=campaign, actor=actor, kind=kind, body=stream, dry_run=dry_run, mode=mode, atomic=atomic)

    with _cyclic_gc_paused():
        return await idempotency.run_once(session, key=idempotency_key, actor=actor, method="POST", target=target, body=body, work=work)


_gc_pauses = [0, False]  # imports running, whether the collector was on before the first


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while an import runs. An import allocates a few
    objects per row (parsed rows, keys, deltas), freed by reference counting as each batch is
    done; but while a batch lives, the allocations keep triggering collections that walk every
    object of the process, which cost about a third of the import's time. Cycles made by other
    requests meanwhile are collected once the last running import ends."""
    if _gc_pauses[0] == 0:
        _gc_pauses[1] = gc.isenabled()
        gc.disable()
    _gc_pauses[0] += 1
    try:
        yield
    finally:
        _gc_pauses[0] -= 1
        if _gc_pauses[0] == 0 and _gc_pauses[1]:
            gc.enable()


async def _import(
    session: AsyncSession, *, campaign: Campaign, actor: Any, kind: str, body: AsyncIterator[bytes], dry_run: bool, mode: TallyMode, atomic: bool
) -> tuple[int, dict[str, Any]]:
    from api.campaigns.service import today_for

    checker = Checker(campaign, actor, today_for(campaign))
    checker.columns_checked = kind == "csv"
    savepoint = await session.begin_nested()
    await lock_campaign(session, campaign.id)
    record = TallyImport(
        campaign_id=campaign.id, at=datetime.now(UTC), actor_kind=actor.kind, actor_id=actor.id, actor_name=actor.name,
        format=kind, mode=mode.value, atomic=atomic, rows=0, summary={},
    )
    session.add(record)
    await session.flush()
    writer = Writer(campaign_id=campaign.id, root=campaign.root_area_code, actor=actor, import_id=record.id, defer_totals=True)
    # area -> posted days as bits (bit i: campaign start + i days), for gaps without a query
    posted: dict[str, int] = {}
    offsets: dict[date, int] = {}
    scope: dict[str, tuple[set[str], list[date]]] = {}  # source -> (areas, [first, last]) for mode=replace
    replace = mode == TallyMode.replace
    start = campaign.start_date
    total_rows = 0
    pending: list[Row] = []

    async def flush_pending() -> None:
        accepted = await checker.batch(session, pending)
        pending.clear()
        for r in accepted:
            bit = offsets.get(r.day)
            if bit is None:
                bit = offsets[r.day] = 1 << (r.day - start).days
            posted[r.area] = posted.get(r.area, 0) | bit
            if replace:
                areas_, days = scope.setdefault(r.source, (set(), [r.day, r.day]))
                areas_.add(r.area)
                days[0], days[1] = min(days[0], r.day), max(days[1], r.day)
        if not (atomic and checker.rejected):
            await writer.write(session, accepted)

    rows_source = _csv_rows(body) if kind == "csv" else _json_rows(body)
    async for raw_rows in rows_source:
        total_rows += len(raw_rows)
        for number, raw in raw_rows:
            if raw is None:
                checker.reject(number, None, "wrong_columns", "more cells than the header has columns")
                continue
            row = checker.row(number, raw)
            if row is not None:
                pending.append(row)
        if len(pending) >= BATCH:
            await flush_pending()
    await flush_pending()
    if total_rows == 0:
        await savepoint.rollback()
        raise RuleViolation.on_field("tallies", "There are no tallies in the request.")
    failed = atomic and checker.rejected > 0
    if not failed:
        if mode == TallyMode.replace:
            for source, (areas_, (lo, hi)) in scope.items():
                await writer.delete_missing(session, source=source, areas=areas_, lo=lo, hi=hi, kept=checker.seen)
        await writer.finish(session)
        await _warn_gaps(session, campaign, posted, checker.warnings)
    counts = Counts() if failed else writer.counts
    summary = {
        "import_id": None if (failed or dry_run) else record.id,
        "status": "error" if checker.rejected else "warning" if checker.warnings else "ok",
        "dry_run": dry_run, "mode": mode.value, "atomic": atomic, "rows": total_rows,
        "imported": counts.imported, "updated": counts.updated, "unchanged": counts.unchanged, "deleted": counts.deleted,
        "rejected": checker.rejected, "conflicts": checker.problems.as_list(), "warnings": checker.warnings.as_list(),
    }
    if failed or dry_run:
        await savepoint.rollback()
    else:
        record.rows, record.summary = total_rows, summary
        await session.flush()
        await savepoint.commit()
        await audit.record(
            session, actor=actor, action="tally.import", entity="tally_import", entity_id=record.id,
            after={k: summary[k] for k in ("rows", "imported", "updated", "unchanged", "deleted", "rejected", "mode")},
        )
    if failed:
        errors = [
            {"row": row, "field": problem["field"], "message": problem["message"]}
            for problem in summary["conflicts"] for row in problem["rows"][:MAX_REPORTED_ERRORS]
        ]
        errors.sort(key=lambda e: e["row"])
        return 422, {
            "type": "urn:rekam:problem:tallies-rejected", "title": "Tallies rejected", "status": 422,
            "detail": f"{checker.rejected} row(s) rejected; nothing was saved (atomic=true).",
            "errors": errors[:MAX_REPORTED_ERRORS], "summary": summary,
        }
    return 200, summary


async def _warn_gaps(session: AsyncSession, campaign: Campaign, posted: dict[str, int], warnings: Problems) -> None:
    """Warn about open days without a tally of an area between two of its posted days. `posted`
    holds each area's posted days as bits from the campaign's start; only areas whose request
    leaves a hole read the rollups (other requests may have filled it), a chunk at a time."""
    start = campaign.start_date
    holes: dict[str, int] = {}
    open_days = 0
    span = max((bits.bit_length() for bits in posted.values()), default=0)
    for i in range(span):
        if campaign.opens_weekends or (start + timedelta(days=i)).weekday() < 5:
            open_days |= 1 << i
    for area, bits in posted.items():
        first, last = (bits & -bits).bit_length() - 1, bits.bit_length() - 1
        if last - first < 2:
            continue
        between = ((1 << last) - 1) ^ ((1 << (first + 1)) - 1)  # the days strictly between
        missing = between & open_days & ~bits
        if missing:
            holes[area] = missing
    if not holes:
        return
    bulk = Bulk(session)
    for chunk in _chunks(sorted(holes), 900):
        lowest = min((holes[a] & -holes[a]).bit_length() - 1 for a in chunk)
        highest = max(holes[a].bit_length() - 1 for a in chunk)
        result = await bulk.fetch_areas(
            "area_code, day", "tally_rollups", chunk, "campaign_id = ? AND day >= ? AND day <= ? AND (own_rows > 0 OR below > 0)",
            [campaign.id, bulk.day(start + timedelta(days=lowest)), bulk.day(start + timedelta(days=highest))],
        )
        for area, stored in result:
            holes[area] &= ~(1 << (_as_date(stored) - start).days)  # type: ignore[operator]
        for area in chunk:
            missing = holes[area]
            if missing:
                days = [start + timedelta(days=i) for i in range(missing.bit_length()) if missing >> i & 1]
                shown = ", ".join(d.isoformat() for d in days[:10]) + (" ..." if len(days) > 10 else "")
                warnings.add(None, "date", "gap", f"{area} has no tally on {shown}, between posted days")


# --- reading tallies, history and imports -------------------------------------------------------


def _reader_area(actor: Any, campaign: Campaign, area: str | None) -> str:
    """The subtree a list shows: the asked one (inside the caller's view) or the caller's own."""
    if area is not None:
        require_code(area, location="query")
        if not is_within(area, campaign.root_area_code):
            raise RuleViolation.on_field("area", f"outside the campaign's area {campaign.root_area_code}", location="query")
        if not actor.sees_area(area):
            raise Forbidden(f"Area {area} is outside your scope.", errors=[{"location": "query", "field": "area", "message": "outside your scope"}])
        return area
    if actor.sees_area(campaign.root_area_code):
        return campaign.root_area_code
    if actor.area and is_within(actor.area, campaign.root_area_code):
        return actor.area
    raise Forbidden("This campaign is outside your scope.")


async def list_tallies(
    session: AsyncSession, *, campaign: Campaign, actor: Any, page: PageParams, area: str | None = None, since: date | None = None, until: date | None = None
) -> tuple[list[Tally], str | None]:
    root = _reader_area(actor, campaign, area)
    stmt = select(Tally).where(Tally.campaign_id == campaign.id, in_subtree(Tally.area_code, root))
    if since:
        stmt = stmt.where(Tally.day >= since)
    if until:
        stmt = stmt.where(Tally.day <= until)
    return await paginate(session, stmt, keys=[Tally.area_code, Tally.day, Tally.id], page=page)


async def list_history(
    session: AsyncSession, *, campaign: Campaign, actor: Any, page: PageParams, area: str | None = None, day: date | None = None
) -> tuple[list[Any], str | None]:
    """History entries oldest first (by time, then id): the stored entries, and the creations of
    tallies made by an import that have not changed since (see `Writer`), drawn from the tally
    and its import. Such a creation carries the tally's id negated; once the tally changes, its
    creation is stored with an id of its own, at the same time and place in the order."""
    root = _reader_area(actor, campaign, area)
    imports = TallyImport.__table__
    stored = select(
        CHANGE.c.id, CHANGE.c.area_code, CHANGE.c.day, CHANGE.c.service_point_id, CHANGE.c.device_id, CHANGE.c.old_count, CHANGE.c.new_count,
        CHANGE.c.source, CHANGE.c.at, CHANGE.c.actor_kind, CHANGE.c.actor_name, CHANGE.c.import_id,
    ).where(CHANGE.c.campaign_id == campaign.id, in_subtree(CHANGE.c.area_code, root))
    recorded = (
        select(CHANGE.c.id)
        .where(
            CHANGE.c.campaign_id == TALLY.c.campaign_id, CHANGE.c.area_code == TALLY.c.area_code, CHANGE.c.day == TALLY.c.day,
            CHANGE.c.service_point_id.is_not_distinct_from(TALLY.c.service_point_id), CHANGE.c.device_id.is_not_distinct_from(TALLY.c.device_id),
            CHANGE.c.import_id == TALLY.c.import_id,
        )
        .exists()
    )
    created = (
        select(
            (-TALLY.c.id).label("id"), TALLY.c.area_code, TALLY.c.day, TALLY.c.service_point_id, TALLY.c.device_id, cast(null(), Integer).label("old_count"),
            TALLY.c.count.label("new_count"), TALLY.c.source, TALLY.c.updated_at.label("at"), imports.c.actor_kind, imports.c.actor_name, TALLY.c.import_id,
        )
        .join(imports, imports.c.id == TALLY.c.import_id)
        .where(TALLY.c.campaign_id == campaign.id, in_subtree(TALLY.c.area_code, root), ~recorded)
    )
    if day:
        stored = stored.where(CHANGE.c.day == day)
        created = created.where(TALLY.c.day == day)
    history = union_all(stored, created).subquery()
    stmt = select(history)
    if page.cursor:
        after_at, after_id = decode_cursor(page.cursor, 2)
        try:
            after_at, after_id = datetime.fromisoformat(after_at), int(after_id)
        except (TypeError, ValueError):
            raise RuleViolation.on_field("cursor", "The cursor is not one this server gave out.", location="query") from None
        stmt = stmt.where(or_(history.c.at > after_at, and_(history.c.at == after_at, history.c.id > after_id)))
    rows = (await session.execute(stmt.order_by(history.c.at, history.c.id).limit(page.limit + 1))).all()
    next_cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        next_cursor = encode_cursor([rows[-1].at, rows[-1].id])
    return rows, next_cursor


async def list_imports(session: AsyncSession, *, campaign: Campaign, actor: Any, page: PageParams) -> tuple[list[TallyImport], str | None]:
    """Admins and viewers see every import; a supervisor or script sees its own."""
    stmt = select(TallyImport).where(TallyImport.campaign_id == campaign.id)
    if not actor.sees_area(campaign.root_area_code):
        stmt = stmt.where(TallyImport.actor_kind == actor.kind, TallyImport.actor_id == actor.id)
    return await paginate(session, stmt, keys=[TallyImport.id], page=page)


async def template_csv(session: AsyncSession, *, campaign: Campaign) -> str:
    """A CSV to fill in: the header and one row per kecamatan of the campaign for today."""
    from api.campaigns.service import today_for

    root = campaign.root_area_code
    codes = (await session.scalars(select(Area.code).where(in_subtree(Area.code, root), Area.level == "kecamatan").order_by(Area.code).limit(10_000))).all()
    if depth_of(root) >= KECAMATAN_DEPTH:
        codes = [root]
    day = today_for(campaign).isoformat()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for code in codes:
        writer.writerow([code, day, "", "", "", "manual"])
    return out.getvalue()


__all__ = ["SOURCES", "add_recordings", "post_tallies", "roll_up", "subtree_totals", "subtree_totals_until"]
