"""Posting tallies (an import): parse, check and write a request's rows, and report on it.

Rules
- `atomic=true` (default): one rejected row rejects the request, nothing is written (422 with
  the summary and the rejected rows, at most MAX_REPORTED_ERRORS). `atomic=false`: valid rows
  are applied, rejected ones reported. `dry_run=true` does all the work and then rolls it back,
  so the counts say exactly what would happen. `mode=replace`: for the posted areas, date range
  and source, tallies not in the request are deleted (scripts that resend a full picture).
- Accepted with a warning: a day with no tally of an area between two of its posted days
  (weekends are not gaps when the campaign is closed on weekends).
- Every request that wrote is an import (who, when, its summary); the audit trail gets one entry
  per import: the history is the per-row record.
- A post of one small batch that deletes nothing (a script's daily post) runs beside the other
  writers of the campaign (`_begin`), its rollups written last (`api.db.last_step`); larger ones
  and mode=replace have the campaign to themselves.
- An `Idempotency-Key` makes a repeated request answer the same without writing twice.
- Admins and viewers see every import; a supervisor or script sees its own.
- Python's cyclic garbage collector pauses while an import runs (see `_cyclic_gc_paused`).
"""

import gc
import io
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction

from api import calendar, csv_cells, idempotency, messages
from api.area_codes import ancestors_of, depth_of, in_subtree
from api.areas.models import Area
from api.audit import service as audit
from api.campaigns.models import Campaign
from api.db import add_as_stored, in_one_trip, is_postgresql, last_step, last_update
from api.errors import PROBLEM_BASE, NotFound, RuleViolation, UnsupportedMediaType, field_problem
from api.notifications import service as notifications
from api.pagination import PageParams, paginate
from api.principal import Principal
from api.tallies.bulk import Bulk, as_date, chunks
from api.tallies.checks import KECAMATAN_DEPTH, Checker, Problems, Row
from api.tallies.models import ORIGINS, TallyImport
from api.tallies.parsing import BATCH, CURRENT_COLUMNS, csv_rows, json_rows
from api.tallies.precedence import official_from, policy_read
from api.tallies.schemas import TallyMode
from api.tallies.writer import STAGE_FROM, Counts, Writer, campaign_lock

MAX_REPORTED_ERRORS = 200


async def post_tallies(
    session: AsyncSession,
    *,
    campaign: Campaign,
    actor: Principal,
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
        raise UnsupportedMediaType(code="body.json_or_csv")

    async def work(stream: AsyncIterable[bytes]) -> tuple[int, dict[str, Any]]:
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
    session: AsyncSession, *, campaign: Campaign, actor: Principal, kind: str, body: AsyncIterable[bytes], dry_run: bool, mode: TallyMode, atomic: bool
) -> tuple[int, dict[str, Any]]:
    checker = Checker(campaign, actor, calendar.today(campaign.timezone))
    checker.columns_checked = kind == "csv"
    record = TallyImport(
        campaign_id=campaign.id,
        at=datetime.now(UTC),
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_name=actor.name,
        format=kind,
        mode=mode.value,
        atomic=atomic,
        rows=0,
        summary={},
    )
    replace = mode == TallyMode.replace
    savepoint: AsyncSessionTransaction | None = None  # what a dry run or a rejection undoes (`_undo`)
    writer: Writer | None = None
    shared = False  # whether the import shares the campaign with other writers (`_begin`)
    # area -> posted days as bits (bit i: campaign start + i days), for gaps without a query
    posted: dict[str, int] = {}
    offsets: dict[date, int] = {}
    scope: dict[str, tuple[set[str], list[date]]] = {}  # source -> (areas, [first, last]) for mode=replace
    start = campaign.start_date
    total_rows = 0
    pending: list[Row] = []

    async def flush_pending(*, last: bool) -> None:
        nonlocal writer, shared, savepoint
        if writer is None:
            one_step = last and not replace and len(pending) < STAGE_FROM
            if dry_run or not one_step:  # a later batch's rejection undoes the earlier batches
                savepoint = await session.begin_nested()
            official = await _begin(session, campaign, record, checker, pending, one_step=one_step)
            shared = one_step
            writer = Writer(
                campaign_id=campaign.id,
                root=campaign.root_area_code,
                actor=actor,
                import_id=record.id,
                defer_totals=True,
                official=official,
                timezone=campaign.timezone,  # the last step runs after the request's campaign object may be gone
                one_step=one_step,
            )
        await writer.settle()  # the last batch's writing and this one's lookups share the session
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
            if shared:  # its tallies locked in the order every writer sharing the campaign keeps
                accepted.sort(key=_key_order)
            await writer.write(session, accepted)

    rows_source = csv_rows(body) if kind == "csv" else json_rows(body)
    try:
        async for raw_rows in rows_source:
            total_rows += len(raw_rows)
            for number, raw in raw_rows:
                if raw is None:
                    checker.reject(number, None, "wrong_columns")
                    continue
                row = checker.row(number, raw)
                if row is not None:
                    pending.append(row)
            if len(pending) >= BATCH:
                await flush_pending(last=False)
        await flush_pending(last=True)
    finally:
        # A batch may still be being written (PostgreSQL, `Writer.write`): done before anything
        # else uses the session, a failure's rollback included.
        if writer is not None:
            await writer.settle()
    assert writer is not None  # the last flush made it
    if total_rows == 0:
        await _undo(session, savepoint, record)
        raise RuleViolation.on_field("tallies", code="tallies.none")
    failed = atomic and checker.rejected > 0
    # The rollups, totals and campaign version (`finish`) are rows that every writer of the day
    # changes, locked until COMMIT: an import that shares the campaign writes them after all else.
    finish_last = shared and not (failed or dry_run)
    if not failed:
        if replace:
            for source, (areas_, (lo, hi)) in scope.items():
                await writer.delete_missing(session, source=source, areas=areas_, lo=lo, hi=hi, kept=checker.seen)
        if not finish_last:
            await writer.finish(session)
        await _warn_gaps(session, campaign, posted, checker.warnings)
        if not dry_run:
            await _announce(
                session, actor=actor, campaign=campaign, record=record, kind=kind, mode=mode, rows=total_rows, counts=writer.counts, rejected=checker.rejected
            )
    counts = Counts() if failed else writer.counts
    summary: dict[str, Any] = {
        "import_id": None if (failed or dry_run) else record.id,
        # partial: atomic=false wrote the good rows and refused the others.
        "status": ("partial" if not dry_run and counts.imported + counts.updated + counts.unchanged + counts.deleted else "error")
        if checker.rejected
        else "warning"
        if checker.warnings
        else "ok",
        "dry_run": dry_run,
        "mode": mode.value,
        "atomic": atomic,
        "rows": total_rows,
        "imported": counts.imported,
        "updated": counts.updated,
        "unchanged": counts.unchanged,
        "deleted": counts.deleted,
        "rejected": checker.rejected,
        "conflicts": checker.problems.as_list(),
        "warnings": checker.warnings.as_list(),
    }
    if failed or dry_run:
        await _undo(session, savepoint, record)
    else:
        if savepoint is not None:
            await savepoint.commit()
        await last_update(session, record, rows=total_rows, summary=summary)  # with the COMMIT in a request (PostgreSQL)
    if finish_last:
        await last_step(session, writer.finish_last)  # in a request: after its answer is stored for a retry, too
    if failed:
        errors = [
            field_problem(problem["field"], location=None, row=row, code=f"import.{problem['code']}", params=problem.get("params"))
            for problem in summary["conflicts"]
            for row in problem["rows"][:MAX_REPORTED_ERRORS]
        ]
        errors.sort(key=lambda e: e["row"])
        return 422, {
            "type": f"{PROBLEM_BASE}validation",
            "title": "Invalid request",
            "status": 422,
            "detail": messages.render("tallies.rejected", {"count": checker.rejected}, "en"),
            "instance": structlog.contextvars.get_contextvars().get("request_id"),
            "code": "tallies.rejected",
            "params": {"count": checker.rejected},
            "errors": errors[:MAX_REPORTED_ERRORS],
            "summary": summary,
        }
    return 200, summary


async def _begin(session: AsyncSession, campaign: Campaign, record: TallyImport, checker: Checker, rows: list[Row], *, one_step: bool) -> frozenset[str]:
    """Store the import's record, take the campaign's lock and read its official sources under it
    (`set_policy` takes the lock alone), and on PostgreSQL look up the first batch's areas: one
    round trip. The lock is shared when the import is written in one step (`Writer.write` once,
    then `finish`: a post of one small batch that deletes nothing, as a script's daily post): it
    takes its row locks in the one order of every writer (tallies by key, `_key_order`; then
    rollups, totals and the campaign's version), so it shares the campaign with them
    (`share_campaign`). One written in several (batches, then mode=replace's deletions) cannot:
    it has the campaign to itself (`lock_campaign`). Answers the campaign's official sources."""
    values = {column.key: getattr(record, column.key) for column in _RECORD_COLUMNS}
    areas = checker.unknown_areas(rows) if is_postgresql(session) else set()
    answers = await in_one_trip(
        session,
        insert(TallyImport).values(values).returning(TallyImport.id),
        *campaign_lock(session, campaign.id, shared=one_step),
        policy_read(campaign.id),
        *([Bulk.areas_read(areas)] if areas else []),
    )
    if areas:
        checker.found_areas(areas, {code for (code,) in answers.pop()})
    # The record as stored: the session knows it by its id from now on (`_undo`, `last_update`).
    record.id = answers[0][0][0]
    add_as_stored(session, record)
    return official_from(answers[-1])


_RECORD_COLUMNS = [column for column in TallyImport.__table__.columns if not column.primary_key]


async def _undo(session: AsyncSession, savepoint: AsyncSessionTransaction | None, record: TallyImport) -> None:
    """Undo an import that is not kept (a dry run, a rejection, no rows): its savepoint, or, for one
    written in one step (no savepoint: nothing of it is written before its rows are all checked,
    and a dry run has one), its record."""
    if savepoint is not None:
        await savepoint.rollback()
    else:
        await session.delete(record)
        await session.flush()


def _key_order(row: Row) -> tuple[str, date, int, int, int]:
    """A tally's unique key (`api.tallies.models.Tally`), the order in which writers lock them."""
    return row.area, row.day, row.point or 0, row.device or 0, ORIGINS.get(row.source, 0)


async def _announce(
    session: AsyncSession, *, actor: Principal, campaign: Campaign, record: TallyImport, kind: str, mode: TallyMode, rows: int, counts: Counts, rejected: int
) -> None:
    """The import's audit entry and its `tallies.imported` event (the outbox: integrations hear
    of it in the same transaction, api/notifications)."""
    after: dict[str, Any] = {"rows": rows, "imported": counts.imported, "updated": counts.updated, "unchanged": counts.unchanged, "deleted": counts.deleted}
    after |= {"rejected": rejected, "mode": mode.value}
    await audit.record(session, actor=actor, action="tally.import", entity="tally_import", entity_id=record.id, after=after)
    await notifications.emit(session, type="tallies.imported", payload={"campaign_id": campaign.id, "import_id": record.id, "format": kind, **after})


async def _warn_gaps(session: AsyncSession, campaign: Campaign, posted: dict[str, int], warnings: Problems) -> None:
    """Warn about open days without a tally of an area between two of its posted days. `posted`
    holds each area's posted days as bits from the campaign's start; only areas whose request
    leaves a hole read the rollups (other requests may have filled it), a chunk at a time."""
    start = campaign.start_date
    holes: dict[str, int] = {}
    # What this request posted below an area fills its days too: its rollups may not show it yet
    # (an import's rollups are written by `Writer.finish`, which may come after this check).
    below: dict[str, int] = {}
    root_depth = depth_of(campaign.root_area_code)
    for area, bits in posted.items():
        for parent in ancestors_of(area)[root_depth:]:  # the root and down, above the area
            below[parent] = below.get(parent, 0) | bits
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
        missing = between & open_days & ~bits & ~below.get(area, 0)
        if missing:
            holes[area] = missing
    if not holes:
        return
    bulk = Bulk(session)
    for chunk in chunks(sorted(holes), 900):
        lowest = min((holes[a] & -holes[a]).bit_length() - 1 for a in chunk)
        highest = max(holes[a].bit_length() - 1 for a in chunk)
        result = await bulk.fetch_areas(
            "area_code, day",
            "tally_rollups",
            chunk,
            "campaign_id = ? AND day >= ? AND day <= ? AND (own_rows > 0 OR below > 0)",
            [campaign.id, bulk.day(start + timedelta(days=lowest)), bulk.day(start + timedelta(days=highest))],
        )
        for area, stored in result:
            holes[area] &= ~(1 << (as_date(stored) - start).days)  # type: ignore[operator]  # a rollup's day is never NULL
        for area in chunk:
            missing = holes[area]
            if missing:
                days = [start + timedelta(days=i) for i in range(missing.bit_length()) if missing >> i & 1]
                # The first ten days, and how many there are: the reader's language writes the dates.
                warnings.add(None, "date", "gap", {"area": area, "days": days[:10], "count": len(days)})


async def list_imports(session: AsyncSession, *, campaign: Campaign, actor: Principal, page: PageParams) -> tuple[list[TallyImport], str | None]:
    """Admins and viewers see every import; a supervisor or script sees its own."""
    stmt = select(TallyImport).where(TallyImport.campaign_id == campaign.id)
    if not actor.sees_area(campaign.root_area_code):
        stmt = stmt.where(TallyImport.actor_kind == actor.kind, TallyImport.actor_id == actor.id)
    return await paginate(session, stmt, keys=[TallyImport.id], page=page, descending=True)


async def get_import(session: AsyncSession, *, campaign: Campaign, actor: Principal, import_id: int) -> TallyImport:
    """One import; a supervisor or script sees only its own (others are not found)."""
    record = await session.get(TallyImport, import_id)
    mine = record is not None and (actor.sees_area(campaign.root_area_code) or (record.actor_kind == actor.kind and record.actor_id == actor.id))
    if record is None or record.campaign_id != campaign.id or not mine:
        raise NotFound(code="not_found.thing", params={"what": "import", "id": import_id})
    return record


async def template_csv(session: AsyncSession, *, campaign: Campaign) -> str:
    """A CSV to fill in: the header and one row per kecamatan of the campaign for today."""
    root = campaign.root_area_code
    codes = (await session.scalars(select(Area.code).where(in_subtree(Area.code, root), Area.level == "kecamatan").order_by(Area.code).limit(10_000))).all()
    if depth_of(root) >= KECAMATAN_DEPTH:
        codes = [root]
    day = calendar.today(campaign.timezone).isoformat()
    out = io.StringIO()
    writer = csv_cells.writer(out, lineterminator="\r\n")
    writer.writerow(CURRENT_COLUMNS)
    for code in codes:
        writer.writerow([code, day, "", "", "", "manual"])
    return out.getvalue()
