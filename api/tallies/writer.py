"""The write engine: the one place where a campaign's tallies change (`Writer.apply`).

Rules
- A tally's natural key is (campaign, area, date, service point, device): writing a key again
  replaces its value, never adds (`add_recordings` is the exception: it adds to the day's tally).
- Every accepted change keeps history (old value, new value, who, when, which import). A tally
  created by an import is recorded by its own row (import id, time) and that import (who) until
  it changes; then its creation is stored as a history entry before the change. Every other
  change (updates, deletions, tallies written outside an import) is an entry when it happens.
  `api.tallies.history.list_history` shows both kinds alike.
- Every change updates the rollups and per-area totals in the same transaction
  (`api.tallies.rollups`).
- Concurrent writes stay exact without a campaign-wide lock (PostgreSQL; SQLite has one writer
  anyway): a write locks the stored tallies it reads (`FOR UPDATE`) and inserts new ones with
  `ON CONFLICT DO NOTHING`, so each change is made from the value it replaces; rollups and
  totals are changed the same way (`api.tallies.rollups.roll_up`), every writer taking row locks
  in one order (tallies, rollups children first and by key, totals by code, the campaign's
  version last: `api.campaigns.versions`), so none waits in a circle: queue and home-visit
  recordings and a point's own count take no lock of their own; nor does an import written in one
  step (one small batch, its tallies locked in key order: `api.tallies.imports`). What writes in
  several steps (an import's batches, then mode=replace's deletions) cannot take its row locks in
  that one order, and what rewrites a whole campaign (`set_policy`, the demo) touches every row:
  both take the campaign's lock alone (`lock_campaign`), which every other writer shares
  (`share_campaign`). A recording's rows are changed by one statement sent with the COMMIT
  (`api.db.last_statement`), so their locks are not held across the request's other work.
- Recordings made through Rekam itself (a completed queue ticket, a home visit; sources `queue`
  and `home_visit`) are added to the day's tally of every campaign whose root contains the area
  and whose dates include the day (`add_recordings`).
- Which sources are official is the campaign's policy (`api.tallies.precedence`); changing it
  (`set_policy`) rebuilds the campaign's rollups from its tallies.
- Rows are written in bulk (one statement per table and batch, `api.tallies.bulk`), never one
  ORM object per row. On PostgreSQL an import's batches go through staging tables
  (`api.tallies.bulk.Staging`), each written while the import reads the next (`Writer.settle`).
"""

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Executable, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from api.area_codes import ancestors_of, depth_of, parent_of
from api.campaigns import versions
from api.campaigns.models import Campaign
from api.db import DriverSQL, in_one_trip, is_postgresql, last_statement
from api.principal import Principal
from api.tallies.bulk import Bulk, Staging, as_date, chunks
from api.tallies.checks import Row
from api.tallies.models import ORIGINS, Tally, TallyChange, TallyPolicy
from api.tallies.precedence import OFFICIAL_SOURCES, official_sources, sources_for
from api.tallies.rollups import (
    ROLLUP,
    NewTallies,
    PendingParents,
    add_delta,
    add_to_totals,
    rebuild,
    roll_up,
)

# SQLite: new tallies whose parents' rollups wait for one summing pass (see `Writer`), at most;
# bounds what one pass sorts and hands to Python in a big upload.
NEW_ROLLED_UP_AT = 100_000
LOCK_NAMESPACE = 7401
# PostgreSQL: an import's batches and rollups go through staging tables (`Writer.staging`); off,
# through arrays as the other writes do (the two are compared by tests/tallies/test_staging.py).
STAGE_IMPORTS = True
# ... when its first batch has this many rows: the staging tables, made and filled in each
# transaction, cost more than they save on a script's post of a few dozen rows (9 rows in process:
# 34-42 ms staged, 26-28 ms through arrays, session 6), and an import has the campaign's lock
# to itself for all of it.
STAGE_FROM = 1_000

TALLY = Tally.__table__
CHANGE = TallyChange.__table__


@dataclass
class Counts:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0


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
    actor: Principal
    import_id: int | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    counts: Counts = field(default_factory=Counts)
    defer_totals: bool = False
    # The campaign's official sources (`api.tallies.precedence.sources_for`).
    official: frozenset[str] = OFFICIAL_SOURCES
    # The campaign's, when known: which days are past (`versions.tallies_changed` reads it otherwise).
    timezone: str | None = None
    # An import written in one step (`write` once, then `finish`): on PostgreSQL the changes' writes
    # and history wait for its rollups' round trip (`Bulk.send_ahead`).
    one_step: bool = False
    # area -> [total delta, newest day made positive, newest day dropped to zero, provisional delta]
    _totals: dict[str, list[Any]] = field(default_factory=dict)
    # SQLite: new tallies whose own rollups are written but whose parents' rollups wait (see `roll_up`)
    _new: "PendingParents | None" = None
    # PostgreSQL, an import: rollup deltas that wait for `finish`
    _waiting: dict[tuple[str, date], list[int]] = field(default_factory=dict)
    # The earliest day changed since `finish` last told the versions, and the areas changed (None:
    # more than the versions keep)
    _earliest: date | None = None
    _areas: set[str] | None = field(default_factory=set)
    _bulk: Bulk | None = None
    _staging: Staging | None = None
    _stage: bool | None = None  # the import's path, chosen by its first batch (`STAGE_FROM`)
    _pending: "asyncio.Future[None] | None" = None  # the batch being written (`write`, `settle`)

    def bulk(self, session: AsyncSession) -> Bulk:
        if self._bulk is None or self._bulk.session is not session:
            self._bulk = Bulk(session)
        return self._bulk

    def staging(self, bulk: Bulk, rows: int | None = None) -> Staging | None:
        """PostgreSQL, an import (its rollups wait for `finish`) whose first batch (`rows`) was
        large: the staging tables. One path for the whole import: its rollups are summed in one place."""
        if not (STAGE_IMPORTS and bulk.pg and self.defer_totals and self.import_id is not None):
            return None
        if self._stage is None and rows is not None:
            self._stage = rows >= STAGE_FROM
        if not self._stage:
            return None
        if self._staging is None or self._staging.bulk is not bulk:
            self._staging = Staging(bulk)
        return self._staging

    async def write(self, session: AsyncSession, rows: list[Row], *, add: bool = False) -> None:
        """Insert or replace (or, with `add`, increase) the tallies of `rows`, whose keys are distinct."""
        if not rows:
            return
        bulk = self.bulk(session)
        iso = {day: day.isoformat() for day in {r.day for r in rows}}
        staging = self.staging(bulk, len(rows))
        if staging is not None:
            # While the database writes this batch, the import reads and checks the next one
            # (`settle` waits for it): the two run at once, on two cores.
            await self.settle()
            self._pending = asyncio.ensure_future(self._write_staged(session, staging, rows, iso, add=add))
            return
        batch = bulk.batch(rows, iso)
        # New rows go in at once; only when some keys were stored already are those read.
        if bulk.pg:
            count, found = await self._claim(bulk, batch, len(rows))
        else:
            count, largest = await bulk.insert_new_tallies(self.campaign_id, batch, import_id=self.import_id, at=self.now)
            found = [] if count == len(rows) else await bulk.find_tallies(self.campaign_id, batch, up_to=largest)
        inserted = True
        deltas: dict[tuple[str, date], list[int]] = {}
        if count == len(rows) and not bulk.pg:  # new figures on SQLite: own rollups summed inside SQLite
            self.counts.imported += len(rows)
            new = NewTallies(largest, largest + count, rows, min(iso))
            await self.apply(session, created=rows, changed=[], deltas=deltas, inserted=True, new=new)
            return
        official = self.official
        if not found:  # the common case of new figures: no per-row comparison
            for r in rows:
                add_delta(deltas, r.area, r.day, r.count, 1, r.source in official)
            self.counts.imported += len(rows)
            await self.apply(session, created=rows, changed=[], deltas=deltas, batch=None if inserted else batch, inserted=inserted)
            return
        created: list[Row] = []

        def created_row(r: Row) -> None:
            created.append(r)
            add_delta(deltas, r.area, r.day, r.count, 1, r.source in official)

        changed = self._compare(rows, found, deltas, add=add, new=created_row)
        self.counts.imported += len(created)
        await self.apply(session, created=created, changed=changed, deltas=deltas, batch=None if inserted else bulk.batch(created, iso), inserted=inserted)

    def _compare(self, rows: list[Row], found: list[Any], deltas: dict[tuple[str, date], list[int]], *, add: bool, new: Callable[[Row], None]) -> list[Change]:
        """Each row against the stored tally found at its position (`found`: position first): a new
        one goes to `new`, a changed one is returned with its deltas added (the old value out, the
        new one in), an unchanged one is only counted."""
        existing = {position: rest for position, *rest in found}
        official = self.official
        changed: list[Change] = []
        for position, r in enumerate(rows):
            old = existing.get(position)
            if old is None:
                new(r)
                continue
            id_, count, source, import_id, at = old
            value = count + r.count if add else r.count
            if value == count and r.source == source:
                self.counts.unchanged += 1
                continue
            changed.append(Change(id_, r.area, r.day, r.point, r.device, count, value, r.source, source, import_id, at))
            add_delta(deltas, r.area, r.day, -count, -1, source in official)  # the source may change kind: out of the old one,
            add_delta(deltas, r.area, r.day, value, 1, r.source in official)  # into the new
        self.counts.updated += len(changed)
        return changed

    async def _write_staged(self, session: AsyncSession, staging: Staging, rows: list[Row], iso: dict[date, str], *, add: bool) -> None:
        """`write` of an import on PostgreSQL: the batch is COPYed into the staging table; its new
        keys are inserted, and their rollup deltas staged, by one statement on it; stored
        keys are read (locked, `FOR UPDATE`) by another, only when some were. Then as `write`."""
        import_id = cast(int, self.import_id)  # `staging`: an import
        await staging.stage(rows, iso)
        # The import has the campaign to itself (`lock_campaign`): no key appears or goes between the two.
        inserted = await staging.claim(self.campaign_id, import_id=import_id, at=self.now, official=self.official)
        found = [] if inserted == len(rows) else await staging.find(self.campaign_id, import_id=import_id)
        if inserted + len(found) != len(rows):  # pragma: no cover - only another writer of the campaign's tallies could
            raise RuntimeError("tallies changed under an import")
        if not found:  # the common case of new figures: nothing to compare, no history (the import stands for them)
            self._note_earliest(min(iso), (r.area for r in rows))
            self.counts.imported += len(rows)
            return
        deltas: dict[tuple[str, date], list[int]] = {}
        # An inserted row's deltas are staged already.
        changed = self._compare(rows, found, deltas, add=add, new=lambda r: self._note_earliest(r.day, (r.area,)))
        self.counts.imported += inserted
        await self.apply(session, created=[], changed=changed, deltas=deltas, inserted=True)

    async def settle(self) -> None:
        """Wait until the batch being written (an import on PostgreSQL, see `write`) is written;
        raises what writing it raised. Everything else that uses the session comes after it."""
        if self._pending is not None:
            task, self._pending = self._pending, None
            try:
                await task
            except asyncio.CancelledError:  # the request is gone: so is its batch (the session rolls back)
                task.cancel()
                raise

    def _note_earliest(self, earliest: date | None, areas: Iterable[str]) -> None:
        if earliest is not None and (self._earliest is None or earliest < self._earliest):
            self._earliest = earliest
        if self._areas is not None:
            self._areas.update(areas)
            if len(self._areas) > versions.MAX_HISTORY_AREAS:  # too many to list
                self._areas = None

    async def _claim(self, bulk: Bulk, batch: Any, size: int) -> tuple[int, list[Any]]:
        """PostgreSQL: insert the batch's new keys, then read and lock (`FOR UPDATE`) every key of
        the batch, in one round trip: what the write compares with is what it replaces, with no
        lock on the campaign. Returns (rows inserted, the stored ones as `Bulk.find_tallies`
        answers them). A key neither inserted nor found was deleted by another transaction in
        between: tried again."""
        ours: set[int] = set()
        for _ in range(100):
            made, found = await in_one_trip(
                bulk.session,
                bulk.claim_new_tallies(self.campaign_id, batch, import_id=self.import_id, at=self.now),
                bulk.find_tallies_read(self.campaign_id, batch),
            )
            ours |= bulk.positions(batch, made)
            found = [row for row in found if row[0] not in ours]
            if len(ours) + len(found) == size:
                return len(ours), found
        raise RuntimeError("tallies kept changing under a write")  # pragma: no cover - a delete racing every insert 100 times

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
        `deltas` ((area, day) -> deltas as `api.tallies.rollups.add_delta` makes them) or, instead, from `new` (see
        `roll_up`): the one place where a campaign's tallies change."""
        bulk = self.bulk(session)
        if created and not inserted:
            if batch is None:
                batch = bulk.batch(created, {day: day.isoformat() for day in {r.day for r in created}})
            await bulk.insert_tallies(self.campaign_id, batch, import_id=self.import_id, at=self.now)
        updated = [(c.id, c.source, c.new_count) for c in changed if c.new_count is not None]
        deleted = [c.id for c in changed if c.new_count is None]
        writes = [bulk.update_tallies(updated, import_id=self.import_id, at=self.now)] if updated else []
        writes += [bulk.delete_tallies(deleted)] if deleted else []
        await self._write_history(bulk, created, changed, writes)
        await self._roll_up(session, deltas, fresh=not changed, new=new)

    async def _write_history(self, bulk: Bulk, created: list[Row], changed: list[Change], writes: list[DriverSQL]) -> None:
        """The history entries of the changes (sent with the COMMIT where they can be), after the
        changes' `writes`, sent in one round trip with the read of the creations they record; for
        a one-step import (`one_step`, PostgreSQL), in the round trip of its rollups."""
        day_of, campaign_id = bulk.day, self.campaign_id
        # (all have an import: the test narrows the type)
        keys = [(c.area, day_of(c.day), c.point, c.device, c.old_import_id) for c in changed if c.old_import_id is not None]
        sent = [*writes, *([bulk.unrecorded_creations(campaign_id, keys)] if keys else [])]

        async def record(unrecorded_rows: list[Any]) -> None:
            await self._record_history(bulk, created, changed, unrecorded_rows if keys else [])

        if not sent:
            await record([])
        elif self.one_step and bulk.pg:
            for statement in sent[:-1]:
                bulk.send_ahead(statement)
            bulk.send_ahead(sent[-1], record)
        else:
            await record((await in_one_trip(bulk.session, *sent))[-1])

    async def _record_history(self, bulk: Bulk, created: list[Row], changed: list[Change], unrecorded_rows: list[Any]) -> None:
        """`_write_history`'s entries, with the rows of the creations the changes record."""
        day_of, campaign_id = bulk.day, self.campaign_id
        at = bulk.moment(CHANGE.c.at, self.now)
        who = (self.actor.kind, self.actor.id, self.actor.name, self.import_id)
        entries: list[tuple[Any, ...]] = []
        if unrecorded_rows:
            implicit = [c for c in changed if c.old_import_id is not None]
            unrecorded = {row[0]: tuple(row[1:]) for row in unrecorded_rows}
            entries.extend(
                (
                    campaign_id,
                    c.area,
                    day_of(c.day),
                    c.point,
                    c.device,
                    None,
                    c.old_count,
                    c.old_source,
                    c.old_at,
                    *unrecorded[position],
                    c.old_import_id,
                )
                for position, c in enumerate(implicit)
                if position in unrecorded
            )
        entries.extend((campaign_id, c.area, day_of(c.day), c.point, c.device, c.old_count, c.new_count, c.source, at, *who) for c in changed)
        if self.import_id is None:  # no import to stand for these creations
            entries.extend((campaign_id, r.area, day_of(r.day), r.point, r.device, None, r.count, r.source, at, *who) for r in created)
        await bulk.insert_changes(entries)

    async def _roll_up(self, session: AsyncSession, deltas: dict[tuple[str, date], list[int]], *, fresh: bool = False, new: "NewTallies | None" = None) -> None:
        bulk = self.bulk(session)
        if new is not None:
            self._note_earliest(new.earliest, (r.area for r in new.rows))
        else:
            self._note_earliest(min((day for _, day in deltas), default=None), (area for area, _ in deltas))
        staging = self.staging(bulk)
        if staging is not None:  # staged with the others, rolled up by `finish`
            await staging.add_deltas(deltas, depth_of)
            return
        if bulk.pg and self.defer_totals:
            # An import's rollups wait for `finish`, summed: its row locks on rollups are then taken
            # once, children before parents and in key order, after all its tallies' (the module's rules).
            waiting = self._waiting
            for key, delta in deltas.items():
                entry = waiting.get(key)
                if entry is None:
                    waiting[key] = list(delta)
                else:
                    for i, value in enumerate(delta):
                        entry[i] += value
            if len(waiting) >= NEW_ROLLED_UP_AT:
                await self._roll_up_waiting(session)
            return
        if new is not None and self._new is None:
            self._new = PendingParents(depth_of(self.root))
        await self._apply_roll_up(session, deltas, bulk, fresh=fresh, new=new, pending=self._new)
        if not self.defer_totals:
            await self.finish(session)
        elif self._new is not None and self._new.rows >= NEW_ROLLED_UP_AT:
            await self._roll_up_new_parents(session)

    async def _apply_roll_up(self, session: AsyncSession, deltas: dict[tuple[str, date], list[int]], bulk: Bulk, **options: Any) -> None:
        """`roll_up` for this writer's campaign; the campaign's version is moved once, by `finish`."""
        await roll_up(
            session, campaign_id=self.campaign_id, root=self.root, deltas=deltas, official=self.official, bulk=bulk, totals=self._totals, touch=False, **options
        )

    async def _roll_up_waiting(self, session: AsyncSession) -> None:
        """PostgreSQL: the rollups of an import's changes summed so far."""
        waiting, self._waiting = self._waiting, {}
        if waiting:
            await self._apply_roll_up(session, waiting, self.bulk(session))

    async def _roll_up_staged(self, session: AsyncSession) -> None:
        """PostgreSQL, an import: the staged rollup deltas, one statement per depth of the area
        tree, children before parents (`Staging.roll_up`); their changes of figures go to the
        per-area totals as `api.tallies.rollups.roll_up` adds them."""
        staging = self._staging
        if staging is None:
            return
        levels = await staging.levels()
        root_depth = depth_of(self.root)
        totals = self._totals
        depth = max(levels, default=-1)
        while depth >= root_depth:
            written = await staging.roll_up(self.campaign_id, depth, parents=depth > root_depth)
            for area, total, raised, dropped, provisional in written:
                add_to_totals(totals, area, total=total, provisional=provisional, raised=raised, dropped=dropped)
            depth -= 1
        await staging.clear()

    async def _roll_up_new_parents(self, session: AsyncSession) -> None:
        """The parents' rollups of new tallies whose own rollups were written (SQLite; see
        `roll_up`), for all of them at once."""
        if self._new is None:
            return
        bulk = self.bulk(session)
        deltas = self._new.take()
        if deltas:  # fresh: the first import of a day makes its parents' rollups too
            await self._apply_roll_up(session, deltas, bulk, fresh=True)

    async def finish(self, session: AsyncSession, *, at_commit: bool = False) -> None:
        """Roll up what waits (the parents of new tallies whose own rollups were written on
        SQLite; an import's changes on PostgreSQL), write the per-area totals of everything
        written so far (one statement), and last, tell `api.campaigns.versions`: its update
        locks the campaign's row until COMMIT, so it comes after every other row lock.

        `at_commit`: nothing of the transaction comes after (`finish_last`): totals that only grow and
        the version's update, which need no answer, are sent with the COMMIT (`api.db.last_statement`)."""
        await self.settle()
        await self._roll_up_new_parents(session)
        await self._roll_up_waiting(session)
        await self._roll_up_staged(session)
        await self.bulk(session).flush_ahead()  # when no rollup went: the changes' writes and history
        await self._write_totals(session, at_commit=at_commit)
        if self._earliest is not None:
            (earliest, areas), self._earliest, self._areas = (self._earliest, self._areas), None, set()
            await versions.tallies_changed(
                session, self.campaign_id, earliest=earliest, areas=areas, timezone=self.timezone, at_commit=at_commit
            )  # public progress caches

    async def finish_last(self, session: AsyncSession) -> None:
        """`finish` as the transaction's last step (`api.db.last_step`): a later read of the totals
        in the transaction would not see what waits for the COMMIT."""
        await self.finish(session, at_commit=True)

    async def _write_totals(self, session: AsyncSession, *, at_commit: bool = False) -> None:
        if not self._totals:
            return
        pending, self._totals = self._totals, {}
        bulk = self.bulk(session)
        if bulk.pg:  # locked in one order by every writer (`find_totals`)
            pending = dict(sorted(pending.items()))
            if all(dropped is None and delta + provisional_delta >= 0 and provisional_delta >= 0 for delta, _, dropped, provisional_delta in pending.values()):
                # Only growth (no newest day dropped to zero, nothing negative: the database checks
                # the row to insert before it meets the stored one): each change adds to what is
                # stored, the newest day only moves later; one statement, no read of the totals.
                rows = [(code, delta + provisional_delta, provisional_delta, raised) for code, (delta, raised, _, provisional_delta) in pending.items()]
                await bulk.upsert_totals(self.campaign_id, rows, add=True, at_commit=at_commit)
                return
        current = await bulk.find_totals(self.campaign_id, list(pending))
        rows, recount = [], []
        for code, (delta, raised, dropped, provisional_delta) in pending.items():
            total, provisional, last = current.get(code, (0, 0, None))
            last = as_date(last)
            if dropped is not None and (raised is None or dropped >= raised):
                recount.append(code)  # the newest day may have dropped to zero: ask the rollups
                newest = last
            else:
                newest = raised if last is None or (raised is not None and raised > last) else last
            rows.append((code, total + delta + provisional_delta, provisional + provisional_delta, newest))  # total: the figure
        if recount:
            found: dict[str, date | None] = {}
            for chunk in chunks(recount, 900):
                result = await session.execute(
                    select(ROLLUP.c.area_code, func.max(ROLLUP.c.day))
                    .where(ROLLUP.c.campaign_id == self.campaign_id, ROLLUP.c.area_code.in_(chunk), ROLLUP.c.total + ROLLUP.c.provisional > 0)
                    .group_by(ROLLUP.c.area_code)
                )
                found.update((code, as_date(day)) for code, day in result)
            again = set(recount)
            rows = [(code, total, provisional, found.get(code) if code in again else newest) for code, total, provisional, newest in rows]
        if bulk.pg:
            # Stored totals are locked: set. Others may be created meanwhile by another writer: add.
            await bulk.upsert_totals(self.campaign_id, [row for row in rows if row[0] in current])
            await bulk.upsert_totals(self.campaign_id, [row for row in rows if row[0] not in current], add=True)
            return
        await bulk.upsert_totals(self.campaign_id, rows)

    async def delete_missing(self, session: AsyncSession, *, source: str, areas: set[str], lo: date, hi: date, kept: set[int]) -> None:
        """mode=replace: delete this source's tallies of `areas` in [lo, hi] whose key hash is not in `kept`."""
        await self.settle()
        doomed: list[Change] = []
        bulk = self.bulk(session)
        deltas: dict[tuple[str, date], list[int]] = {}
        official = source in self.official
        for chunk in chunks(areas):
            result = await session.execute(
                select(
                    TALLY.c.id,
                    TALLY.c.area_code,
                    TALLY.c.day,
                    TALLY.c.service_point_id,
                    TALLY.c.device_id,
                    TALLY.c.count,
                    TALLY.c.import_id,
                    TALLY.c.updated_at,
                ).where(TALLY.c.campaign_id == self.campaign_id, TALLY.c.area_code.in_(chunk), TALLY.c.day >= lo, TALLY.c.day <= hi, TALLY.c.source == source)
            )
            for id_, area, day, point, device, count, import_id, at in result:
                if hash((area, day, point or 0, device or 0)) in kept:
                    continue
                doomed.append(Change(id_, area, day, point, device, count, None, source, source, import_id, bulk.moment(TALLY.c.updated_at, at)))
                add_delta(deltas, area, day, -count, -1, official)
        if not doomed:
            return
        await self.apply(session, created=[], changed=doomed, deltas=deltas)
        self.counts.deleted += len(doomed)


# A batch reads a few thousand rows by primary key. The default cost model (spinning disks) and
# statistics that lag behind a running import make the planner scan whole tables instead; for
# this transaction only, cost random reads as on SSDs and cached data.
_CHEAP_RANDOM_READS = text("SET LOCAL random_page_cost = 1.1")


def campaign_lock(session: AsyncSession, campaign_id: int, *, shared: bool) -> list[Executable]:
    """The statements that take the campaign's lock (PostgreSQL; none on SQLite, which has one
    writer at a time), alone (`lock_campaign`) or `shared` (`share_campaign`), for a caller that
    sends them with other statements (`api.db.in_one_trip`): what follows them runs under the lock."""
    if not is_postgresql(session):
        return []
    if shared:
        return [select(_lock_of(campaign_id, shared=True))]
    return [select(_lock_of(campaign_id, shared=False)), _CHEAP_RANDOM_READS]


def _lock_of(campaign: Any, *, shared: bool) -> ColumnElement[Any]:
    """Taking a campaign's lock (`campaign`: its id, or the id column of the campaigns read)."""
    return (func.pg_advisory_xact_lock_shared if shared else func.pg_advisory_xact_lock)(LOCK_NAMESPACE, campaign)


async def lock_campaign(session: AsyncSession, campaign_id: int) -> frozenset[str]:
    """The whole campaign's tallies, alone until COMMIT (PostgreSQL): for imports (several
    batches, each taking row locks after the last batch's) and what rewrites all of them
    (`set_policy`'s rebuild, the demo). Every other writer shares the lock (`share_campaign`).
    Answers the campaign's official sources, read under the lock (`set_policy` changes them
    alone), in the lock's round trip."""
    return await sources_for(session, campaign_id=campaign_id, after=campaign_lock(session, campaign_id, shared=False))


async def share_campaign(session: AsyncSession, campaign_id: int) -> frozenset[str]:
    """A writer of some of the campaign's tallies that takes its row locks in the one order
    (PostgreSQL): it shares the campaign's lock with every other such writer (they run at once)
    and waits only for `lock_campaign`. Answers the official sources as `lock_campaign` does."""
    return await sources_for(session, campaign_id=campaign_id, after=campaign_lock(session, campaign_id, shared=True))


async def add_recordings(
    session: AsyncSession,
    *,
    area_code: str,
    day: date,
    count: int = 1,
    source: str,
    service_point_id: int | None = None,
    device_id: int | None = None,
    actor: Principal,
) -> None:
    """Add recordings made through Rekam itself (a completed queue ticket, a home visit) to the
    day's tally of every campaign whose root contains the area and whose dates include the day,
    keeping history and rollups. Sources: `queue`, `home_visit`."""
    if source not in ("queue", "home_visit"):
        raise ValueError(f"add_recordings is for queue and home_visit recordings, not {source!r}")
    if count < 0:
        raise ValueError("count must not be negative")
    for campaign_id, root, timezone, official in await _recording_campaigns(session, area_code=area_code, day=day):
        if is_postgresql(session) and count > 0 and source not in official:
            await _add_operational(
                session,
                campaign_id=campaign_id,
                root=root,
                timezone=timezone,
                area_code=area_code,
                day=day,
                count=count,
                source=source,
                service_point_id=service_point_id,
                device_id=device_id,
                actor=actor,
            )
            continue
        writer = Writer(campaign_id=campaign_id, root=root, actor=actor, official=official)
        await writer.write(session, [Row(0, area_code, day, service_point_id, device_id, count, source)], add=True)


async def _recording_campaigns(session: AsyncSession, *, area_code: str, day: date) -> list[tuple[int, str, str, frozenset[str]]]:
    """The campaigns a recording of `area_code` on `day` counts in (their root is the area or one of
    its ancestors, their dates include the day), in id order: (id, root, timezone, official
    sources). Each one's lock is shared as `share_campaign` shares it (PostgreSQL; taken as its
    row is read, in that order: each campaign's row locks before the next one's; adding commutes,
    so no lock of its own, see `roll_up`), and its policy read under it by the next statement:
    one round trip."""
    covering = (Campaign.start_date <= day, Campaign.deadline >= day, Campaign.root_area_code.in_([area_code, *ancestors_of(area_code)]))
    columns: list[Any] = [Campaign.id, Campaign.root_area_code, Campaign.timezone]
    if is_postgresql(session):
        columns.append(_lock_of(Campaign.id, shared=True))
    campaigns, policies = await in_one_trip(
        session,
        select(*columns).where(*covering).order_by(Campaign.id),
        select(TallyPolicy.campaign_id, TallyPolicy.operational_official).where(TallyPolicy.campaign_id.in_(select(Campaign.id).where(*covering))),
    )
    operational = {campaign_id: bool(flag) for campaign_id, flag in policies}
    return [(row[0], row[1], row[2], official_sources(operational_official=operational.get(row[0], False))) for row in campaigns]


async def _add_operational(
    session: AsyncSession,
    *,
    campaign_id: int,
    root: str,
    timezone: str,
    area_code: str,
    day: date,
    count: int,
    source: str,
    service_point_id: int | None,
    device_id: int | None,
    actor: Principal,
) -> None:
    """PostgreSQL, a recording of an operational (provisional) source: everything `Writer.write`
    would do, in ONE statement, so that the rows every recording of the day changes (the point's
    tally, the kecamatan's and the city's rollups and totals, the campaign's version) are locked
    for that statement and the COMMIT only: in a request it is sent with the COMMIT, in one round
    trip (`api.db.last_statement`). Data-modifying CTEs, each reading the one before:
    the tally is added to (`count = count + n`); the rollup of its area gets `op_own + n`, and
    each ancestor `op_below + d` while the level below's provisional part grew by d (it does not
    where the level has official tallies of its own: there the figure is official and
    provisional is 0, `api.tallies.rollups`); the totals of the areas that grew are added to, in
    code order; the history entry; and last the campaign's version (`api.campaigns.versions`).
    The same figures as `Writer.write(add=True)` (tests/tallies: both paths, same invariants)."""
    levels = [area_code]
    root_depth = depth_of(root)
    while depth_of(levels[-1]) > root_depth:
        levels.append(cast(str, parent_of(levels[-1])))  # below the root: it has a parent
    params: dict[str, Any] = {
        "c": campaign_id,
        "area": area_code,
        "day": day,
        "sp": service_point_id,
        "dv": device_id,
        "pk": service_point_id or 0,
        "dk": device_id or 0,
        "n": count,
        "src": source,
        "origin": ORIGINS.get(source, 0),
        "at": datetime.now(UTC),
        "kind": actor.kind,
        "actor_id": actor.id,
        "actor_name": actor.name,
    }
    conflict = "ON CONFLICT (campaign_id, area_code, day) DO UPDATE SET "
    ctes = [
        "t AS (INSERT INTO tallies (campaign_id, area_code, day, service_point_id, device_id, point_key, device_key, count, source, import_id, updated_at, origin_key) "
        "VALUES (:c, :area, :day, :sp, :dv, :pk, :dk, :n, :src, NULL, :at, :origin) "
        "ON CONFLICT (campaign_id, area_code, day, point_key, device_key, origin_key) DO UPDATE SET count = tallies.count + excluded.count, "
        "updated_at = excluded.updated_at RETURNING count, xmax = 0 AS inserted)",
        "h AS (INSERT INTO tally_changes (campaign_id, area_code, day, service_point_id, device_id, old_count, new_count, source, at, actor_kind, actor_id, "
        "actor_name, import_id) SELECT :c, CAST(:area AS VARCHAR), CAST(:day AS DATE), CAST(:sp AS INTEGER), CAST(:dv AS INTEGER), CASE WHEN t.inserted THEN NULL ELSE t.count - :n END, "
        "t.count, CAST(:src AS VARCHAR), CAST(:at AS TIMESTAMPTZ), CAST(:kind AS VARCHAR), CAST(:actor_id AS INTEGER), CAST(:actor_name AS VARCHAR), NULL FROM t RETURNING 1)",
        "r0 AS (INSERT INTO tally_rollups AS r (campaign_id, area_code, day, own, own_rows, below, op_own, op_below, total, provisional) "
        "SELECT :c, CAST(:area AS VARCHAR), CAST(:day AS DATE), 0, 0, 0, :n, 0, 0, :n FROM t "
        + conflict
        + "op_own = r.op_own + excluded.op_own, provisional = CASE WHEN r.own_rows > 0 THEN 0 ELSE r.op_own + excluded.op_own + r.op_below END "
        "RETURNING r.area_code AS code, CASE WHEN r.own_rows > 0 THEN 0 ELSE :n END AS d)",
    ]
    for i, code in enumerate(levels[1:], start=1):
        params[f"l{i}"] = code
        ctes.append(
            f"r{i} AS (INSERT INTO tally_rollups AS r (campaign_id, area_code, day, own, own_rows, below, op_own, op_below, total, provisional) "
            f"SELECT :c, CAST(:l{i} AS VARCHAR), CAST(:day AS DATE), 0, 0, 0, 0, p.d, 0, p.d FROM r{i - 1} AS p WHERE p.d <> 0 "
            + conflict
            + "op_below = r.op_below + excluded.op_below, provisional = CASE WHEN r.own_rows > 0 THEN 0 ELSE r.op_own + r.op_below + excluded.op_below END "
            "RETURNING r.area_code AS code, CASE WHEN r.own_rows > 0 THEN 0 ELSE :n END AS d)"
        )
    grown = " UNION ALL ".join(f"SELECT code, d FROM r{i}" for i in range(len(levels)))
    ctes.append(
        "tot AS (INSERT INTO tally_totals AS tt (campaign_id, area_code, total, provisional, last_day) "
        f'SELECT :c, g.code, g.d, g.d, CAST(:day AS DATE) FROM ({grown}) AS g WHERE g.d <> 0 ORDER BY g.code COLLATE "C" '
        "ON CONFLICT (campaign_id, area_code) DO UPDATE SET total = tt.total + excluded.total, provisional = tt.provisional + excluded.provisional, "
        "last_day = GREATEST(tt.last_day, excluded.last_day) RETURNING 1)"
    )
    values = versions.tallies_changed_values(timezone, day)
    params.update(values)
    sets = ", ".join(f"{key} = :{key}" for key in values)
    ctes.append(f"v AS (UPDATE campaigns SET {sets} WHERE id = :c AND (SELECT count(*) FROM tot) >= 0 RETURNING 1)")
    versions.loaded(session, campaign_id, values)
    await last_statement(session, text("WITH " + ", ".join(ctes) + " SELECT (SELECT count(*) FROM v), (SELECT count(*) FROM h)"), params)


async def put_point_count(
    session: AsyncSession, *, campaign_id: int, root: str, area_code: str, day: date, service_point_id: int, count: int, actor: Principal
) -> None:
    """A service point's own count of a day, entered by its staff (source `manual`, official): it
    replaces what the point's key held, so sending it again (an outbox replaying) changes nothing."""
    writer = Writer(campaign_id=campaign_id, root=root, actor=actor, official=await share_campaign(session, campaign_id))
    await writer.write(session, [Row(0, area_code, day, service_point_id, None, count, "manual")])


async def set_policy(session: AsyncSession, *, campaign_id: int, root: str, operational_official: bool) -> bool:
    """Set whether the campaign's queue and home-visit counts are official; when that changes, the
    campaign's rollups are rebuilt under the new kinds. Returns whether anything changed."""
    policy = await session.get(TallyPolicy, campaign_id)
    if bool(policy and policy.operational_official) == operational_official:
        return False
    await lock_campaign(session, campaign_id)
    if policy is None:
        session.add(TallyPolicy(campaign_id=campaign_id, operational_official=operational_official))
    else:
        policy.operational_official = operational_official
    await session.flush()
    await rebuild(session, campaign_id=campaign_id, root=root, official=official_sources(operational_official=operational_official))
    return True
