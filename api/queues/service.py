"""Queues: walk-in tickets, counters and the boards.

Rules
- A walk-in takes a number while the point is open (its hours today, closures applied). Numbers
  restart at 1 every day at every point: one atomic upsert of `queue_days` hands them out, and
  (point, day, number) is unique in the database.
- Ticket states: waiting -> called -> serving -> done; called -> no_show; waiting or called ->
  cancelled. `recall` re-announces a called ticket (it stays called; `recalls` counts). Any other
  move is refused with 409. Each ticket keeps booked/arrived/called/started/ended times and its
  counter. Wait = arrived -> called; service time = started -> ended.
- Call-next order: appointments whose slot has begun (earliest slot first), then residents flagged
  elderly or disabled, then everyone else by number (arrival). A counter claims its ticket with
  one conditional UPDATE (`... WHERE id = (next waiting) AND status = 'waiting'`): on PostgreSQL
  the inner SELECT takes `FOR UPDATE SKIP LOCKED`, so concurrent counters pick different tickets;
  on SQLite writers are serialised by the database lock. A claim that finds its row gone retries;
  nobody waiting gives None (204).
- A completed ticket is one recording: it is added to that day's tally of the point's area
  (source `queue`), so an office that uses the queue need not post a tally by hand. That joins
  the tallies domain and lives in `api.flows.move_ticket`.
- Days and hours are local (api.calendar: the deployment's time zone); a point is open from a
  window's start (included) to its end (excluded).
- Wait estimate: see `_estimate`; one figure, the same on a ticket and on the board (the board's
  is the last in line's), 0 when nobody waits.
- A closed point (outside its hours today) takes no numbers and its board shows no counter
  serving; the board says when it opens next (`next_opening`, local date and HH:MM).
- Appointments: see appointments.py.
- Caps on what one resident takes remotely (issue #23): a calo (fixer) took 9 numbers in a minute
  from one phone to sell them. So a number taken remotely (anonymous caller, the public web app)
  is capped at one active number (waiting, called or serving) per point and day per phone; the
  next one can be taken once it is done, a no-show or cancelled. The phone is known to the API
  only by its address (what the per-address rate limits use): an id the phone keeps itself would
  be deleted by the very person the cap is for. The address is kept only as a keyed hash (HMAC
  with the server's hash key, api.ratelimit), on the ticket while it is active and cleared when
  it ends, and a unique index (point, day, holder) holds the cap, so two requests at once get one
  number and one 409 `queue.number_held`, never two numbers and never a 500. The price: phones
  behind one address (a household's wifi, a carrier's NAT) share one remote number per point;
  the others take theirs on site, where a kiosk or staff (signed in) issue numbers without any
  cap: the counter sees who stands in front of it. A campaign switches the cap
  (`cap_remote_numbers`); a point outside every running campaign is not capped.
- A ticket's `code` (random, issued with it) is the resident's key to reading their own ticket
  (`ticket_status`: status, counter, place in line, wait; never the name); it is not audited.
- `name_on_ticket` is personal: never in public answers; the staff single-ticket view that shows
  it is audited as `ticket.read_personal`.
- Every change is audited and announced to the live boards only once committed (see live.py).
"""

import math
import secrets
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Date, Executable, Select, and_, bindparam, case, exists, extract, func, insert, or_, select, text, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api import calendar, ratelimit, rounding
from api.area_codes import in_subtree, require_code
from api.audit import service as audit
from api.campaigns import service as campaigns
from api.db import UtcDateTime, add_as_stored, get_sessionmaker, in_one_trip, is_postgresql, sqlite_write_intent
from api.errors import Conflict, NotFound, RuleViolation, not_found
from api.principal import Principal, ensure_service_point
from api.queues import live
from api.queues.models import DUE_SQL, FLAGGED_SQL, Priority, QueueDay, Ticket, TicketStatus
from api.queues.schemas import WalkIn
from api.services import service as services
from api.services.models import ServicePoint

BOOKING_DAYS = 31
CLAIM_ATTEMPTS = 5
RECENT_SERVICES = 20  # service times that make the "recent median"
MIN_SERVICES_FOR_MEDIAN = 3
ACTIVE_COUNTER_WINDOW = timedelta(hours=1)
FLAGGED = (Priority.elderly.value, Priority.disabled.value)
WAITING, CALLED, SERVING, DONE, NO_SHOW = (
    s.value for s in (TicketStatus.waiting, TicketStatus.called, TicketStatus.serving, TicketStatus.done, TicketStatus.no_show)
)

# move -> (states it may leave, state it reaches, time stamped)
MOVES: dict[str, tuple[tuple[str, ...], str, str | None]] = {
    "start": ((TicketStatus.called.value,), TicketStatus.serving.value, "started_at"),
    "complete": ((TicketStatus.serving.value,), TicketStatus.done.value, "ended_at"),
    "no_show": ((TicketStatus.called.value,), TicketStatus.no_show.value, "ended_at"),
    "recall": ((TicketStatus.called.value,), TicketStatus.called.value, None),
    "cancel": ((TicketStatus.waiting.value, TicketStatus.called.value), TicketStatus.cancelled.value, "ended_at"),
}
ENDED = (TicketStatus.done.value, TicketStatus.no_show.value, TicketStatus.cancelled.value)
NUMBER_HELD = "queue.number_held"
MOVE_WORDS = {"start": "started", "complete": "completed", "no_show": "marked no-show", "recall": "recalled", "cancel": "cancelled"}


# --- tickets -------------------------------------------------------------------------------


def _next_number(session: AsyncSession, *, point_id: int, day: date) -> Executable:
    """Today's next number at the point, atomically: INSERT ... ON CONFLICT DO UPDATE (the point's
    number row stays locked until COMMIT: numbers are given in turn)."""
    dialect = postgresql if is_postgresql(session) else sqlite
    stmt = dialect.insert(QueueDay).values(service_point_id=point_id, day=day, last_number=1)
    return stmt.on_conflict_do_update(index_elements=["service_point_id", "day"], set_={"last_number": QueueDay.last_number + 1})


async def issue_ticket(
    session: AsyncSession,
    *,
    point: ServicePoint,
    priority: str,
    name: str | None,
    actor: Principal,
    due_at: datetime | None = None,
    booked_at: datetime | None = None,
    holder_hash: str | None = None,
) -> Ticket:
    """A new ticket with today's next number at the point: the number and the ticket in one round
    trip (the ticket takes the number its point's row holds now, written by the statement before)."""
    day = calendar.today()
    values: dict[str, Any] = {
        "service_point_id": point.id,
        "day": day,
        "holder_hash": holder_hash,
        "status": TicketStatus.waiting.value,
        "priority": priority,
        "name_on_ticket": name,
        "code": secrets.token_urlsafe(12),
        "counter": None,
        "due_at": due_at,
        "booked_at": booked_at,
        "arrived_at": calendar.now_utc(),
        "called_at": None,
        "started_at": None,
        "ended_at": None,
        "recalls": 0,
    }
    number = select(QueueDay.last_number).where(QueueDay.service_point_id == point.id, QueueDay.day == day).scalar_subquery()
    _, [(ticket_id, ticket_number)] = await in_one_trip(
        session, _next_number(session, point_id=point.id, day=day), insert(Ticket).values(**values, number=number).returning(Ticket.id, Ticket.number)
    )
    ticket = add_as_stored(session, Ticket(id=ticket_id, number=ticket_number, **values))  # every column given
    await audit.record(session, actor=actor, action="ticket.create", entity="ticket", entity_id=ticket.id, after=_ticket_snapshot(ticket))
    return ticket


async def take_ticket(session: AsyncSession, *, point_id: int, data: WalkIn, actor: Principal, phone: str | None = None) -> dict[str, Any]:
    """A walk-in's number, place in line and estimated wait."""
    point, hours = await services.get_point_hours(session, point_id=point_id, day=calendar.today())
    if data.priority == Priority.appointment:
        raise RuleViolation.on_field("priority", code="queue.priority_from_booking")
    if not calendar.is_open_at(hours, calendar.now_utc()):
        raise Conflict(code="queue.closed", params={"point": point.name})
    holder = await _remote_holder(session, point=point, actor=actor, phone=phone)
    # Made before: the failed flush expires the point, and the session can read nothing more.
    refusal = _number_held(point)
    try:
        # No savepoint: a refused ticket ends the request, whose rollback gives the number back. One
        # would cost two round trips while the point's number row is locked, and would keep the
        # audit entry from going with the COMMIT (nothing waits for it inside a savepoint).
        ticket = await issue_ticket(session, point=point, priority=data.priority.value, name=data.name, actor=actor, holder_hash=holder)
    except IntegrityError:
        if holder is None:
            raise
        # The phone holds an active number here (ux_tickets_holder), taken before or at this very
        # moment. No read asks first: it cost every number a round trip, for the rare refusal.
        raise refusal from None
    issued = await issued_answer(session, point=point, ticket=ticket)
    await announce(session, point=point, ticket=ticket, change="joined")
    return issued


async def _remote_holder(session: AsyncSession, *, point: ServicePoint, actor: Principal, phone: str | None) -> str | None:
    """The keyed hash that caps this remote number, or None when no cap applies (see "Caps")."""
    if actor.is_staff:
        return None
    campaign = await campaigns.campaign_covering(session, area_code=point.area_code, on=calendar.today())
    if campaign is None or not campaign.cap_remote_numbers:
        return None
    return ratelimit.keyed_hash(await ratelimit.hash_key(session), f"ticket-holder:{phone or 'unknown'}")


def _number_held(point: ServicePoint) -> Conflict:
    return Conflict(code=NUMBER_HELD, params={"point": point.name})


def waiting_line(tickets: list[Any], now: datetime) -> list[Any]:
    """The waiting tickets in the order they will be called: position n is the n-th of them."""
    return sorted((t for t in tickets if t.status == TicketStatus.waiting.value), key=lambda t: _call_order(t, now))


async def ticket_at_place(session: AsyncSession, *, point_id: int, place: int) -> Ticket | None:
    """The ticket that is `place`-th in today's line at the point (1 = called next), or None: one query."""
    now = calendar.now_utc()
    waiting = and_(Ticket.service_point_id == point_id, Ticket.day == calendar.today(), Ticket.status == TicketStatus.waiting.value)
    # The first `place` of each rank (index seeks), then the call order among those few. The ids
    # alone filter: `waiting` again on the outer query made SQLite walk the whole line to test each
    # ticket against them (3.5 ms with 20,000 waiting, against 0.02 ms by primary key).
    firsts = or_(*(Ticket.id.in_(part.limit(place)) for part in _line_heads(waiting, now)))
    return await session.scalar(select(Ticket).where(firsts).order_by(*_sql_call_order(now)).offset(place - 1).limit(1))


# What a place in the whole line reads of a ticket (`waiting_line`): plain rows, not ORM objects
# (a busy office has thousands waiting; a row costs a fraction of an object to load).
LINE_COLUMNS = (Ticket.id, Ticket.number, Ticket.status, Ticket.priority, Ticket.due_at)


async def positions(session: AsyncSession, *, point_id: int) -> dict[int, int]:
    """Ticket id -> place in line (1 = called next) of today's waiting tickets at the point."""
    waiting = await session.execute(
        select(*LINE_COLUMNS).where(Ticket.service_point_id == point_id, Ticket.day == calendar.today(), Ticket.status == WAITING).order_by(Ticket.number)
    )
    return {t.id: i for i, t in enumerate(waiting_line(list(waiting), calendar.now_utc()), start=1)}


async def issued_answer(session: AsyncSession, *, point: ServicePoint, ticket: Ticket) -> dict[str, Any]:
    position, wait = await _place_and_wait(session, point=point, ticket=ticket)
    return {"id": ticket.id, "number": ticket.number, "day": ticket.day, "position": position, "code": ticket.code, "estimated_wait_minutes": wait}


# The services that make the recent median (`_service_median`), on a board and on a ticket alike:
# completed, with both times, the latest first (the later number first among equal ends).
_SERVED = and_(Ticket.status == DONE, Ticket.started_at.is_not(None), Ticket.ended_at.is_not(None))
_LATEST_FIRST = (Ticket.ended_at.desc(), Ticket.number.desc())


async def _place_and_wait(session: AsyncSession, *, point: ServicePoint, ticket: Ticket) -> tuple[int | None, int]:
    """A ticket's place in today's line (None when it is not waiting in it) and its estimated wait,
    as the point's board reckons them (`_board`), from a read that counts and picks in the
    database instead of loading the day's every ticket: a resident's status is asked again and
    again, and a big office's day holds thousands (60 ms a read with 6,000, most of it Python)."""
    now = calendar.now_utc()
    if ticket.status != WAITING or ticket.day != calendar.today():
        return None, 0
    rank, due, number = _call_order(ticket, now)
    of_day = and_(Ticket.service_point_id == point.id, Ticket.day == ticket.day)
    rank_sql = _sql_call_order(now)[0]
    # Ahead in the call order (`_call_order`): a lower rank, or the same rank and earlier.
    earlier = or_(Ticket.due_at < due, and_(Ticket.due_at == due, Ticket.number < number)) if rank == 0 else Ticket.number < number
    ahead = select(func.count()).where(of_day, Ticket.status == WAITING, or_(rank_sql < rank, and_(rank_sql == rank, earlier)))
    counters = select(func.count(Ticket.counter.distinct())).where(of_day, Ticket.called_at >= now - ACTIVE_COUNTER_WINDOW)
    # The last RECENT_SERVICES completed, as the board picks them (`_figures_reads`).
    recent = select(Ticket.started_at, Ticket.ended_at).where(of_day, _SERVED).order_by(*_LATEST_FIRST).limit(RECENT_SERVICES).subquery()
    # One statement: both counts on every row of the services, and on one row when there are none.
    counts = select(ahead.scalar_subquery().label("ahead"), counters.scalar_subquery().label("counters")).subquery()
    rows = (await session.execute(select(counts, recent).select_from(counts.outerjoin(recent, true())))).all()
    before, called_recently = rows[0].ahead, rows[0].counters
    median = rounding.half_up(_service_median(point, [(r.started_at, r.ended_at) for r in rows if r.started_at is not None]))
    return before + 1, _estimate(before + 1, median, _active_counters(point, called_recently))


def _call_order(ticket: Any, now: datetime) -> tuple[int, datetime, int]:
    """The order in which tickets are called (the SQL twin is `_sql_call_order`)."""
    due = ticket.due_at is not None and calendar.aware(ticket.due_at) <= now
    rank = 0 if due else 1 if ticket.priority in FLAGGED else 2
    return rank, calendar.aware(ticket.due_at) if due and ticket.due_at else datetime.min.replace(tzinfo=UTC), ticket.number


def _line_heads(waiting: Any, now: datetime) -> tuple[Select[Any], Select[Any], Select[Any]]:
    """The waiting tickets of each rank of `_call_order` in their order, as SELECTs of ids: due
    appointments, flagged residents, everyone by number. Each is a seek on its index (models.py)."""
    due = select(Ticket.id).where(waiting, text(DUE_SQL), Ticket.due_at <= now).order_by(Ticket.due_at, Ticket.number)
    flagged = select(Ticket.id).where(waiting, text(FLAGGED_SQL)).order_by(Ticket.number)
    anyone = select(Ticket.id).where(waiting).order_by(Ticket.number)
    return due, flagged, anyone


def _sql_call_order(now: datetime) -> list[Any]:
    due = and_(Ticket.due_at.is_not(None), Ticket.due_at <= now)
    return [case((due, 0), (Ticket.priority.in_(FLAGGED), 1), else_=2), case((due, Ticket.due_at)), Ticket.number]


async def call_next(session: AsyncSession, *, point_id: int, counter: int, actor: Principal) -> Ticket | None:
    point = await services.get_point(session, point_id=point_id)
    ensure_service_point(actor, service_point_id=point.id, area_code=point.area_code)
    if counter > point.counters:
        raise RuleViolation.on_field("counter", code="queue.counter", params={"point": point.name, "counters": point.counters})
    day, now = calendar.today(), calendar.now_utc()
    waiting = and_(Ticket.service_point_id == point.id, Ticket.day == day, Ticket.status == TicketStatus.waiting.value)
    ticket = None
    for _ in range(CLAIM_ATTEMPTS):
        # The first due appointment, else the first flagged, else the first by number: three index seeks.
        candidate = func.coalesce(*(part.limit(1).with_for_update(skip_locked=True).scalar_subquery() for part in _line_heads(waiting, now)))
        # One statement chooses, claims and reads the ticket back (UPDATE ... RETURNING, no read first).
        ticket = (
            await session.scalars(
                update(Ticket)
                .where(Ticket.id == candidate, Ticket.status == TicketStatus.waiting.value)
                .values(status=TicketStatus.called.value, counter=counter, called_at=now)
                .returning(Ticket, *_notice(session, point=point, change="called")),
                execution_options={"synchronize_session": False, "populate_existing": True},
            )
        ).one_or_none()
        # Nobody left, or (PostgreSQL) the rest are being claimed by other counters right now.
        if ticket is not None or not await session.scalar(select(exists().where(waiting))):
            break
    if ticket is None:
        return None
    await audit.record(
        session,
        actor=actor,
        action="ticket.call",
        entity="ticket",
        entity_id=ticket.id,
        before={"status": TicketStatus.waiting.value},
        after={"status": ticket.status, "counter": counter, "called_at": now},
    )
    await announce(session, point=point, ticket=ticket, change="called", noticed=True)
    return ticket


async def _ticket_and_point(session: AsyncSession, *, ticket_id: int) -> tuple[Ticket, ServicePoint] | None:
    """A ticket and its point, in one statement (a ticket always has one), or None for no ticket."""
    found = (
        await session.execute(select(Ticket, ServicePoint).join(ServicePoint, ServicePoint.id == Ticket.service_point_id).where(Ticket.id == ticket_id))
    ).first()
    return None if found is None else (found[0], found[1])


def _no_ticket(ticket_id: int) -> NotFound:
    return not_found("ticket", ticket_id)


async def move_ticket(session: AsyncSession, *, ticket_id: int, move: str, actor: Principal) -> tuple[Ticket, ServicePoint]:
    """start, complete, no_show, recall or cancel; 409 when the ticket's state does not allow it.
    Returns the ticket and its point. (A completed ticket's recording is added by `api.flows.move_ticket`.)"""
    found = await _ticket_and_point(session, ticket_id=ticket_id)
    if found is None:
        raise _no_ticket(ticket_id)
    ticket, point = found
    ensure_service_point(actor, service_point_id=point.id, area_code=point.area_code)
    leaves, reaches, stamp = MOVES[move]
    before = _ticket_snapshot(ticket)
    values: dict[str, Any] = {"status": reaches}
    if stamp:
        values[stamp] = calendar.now_utc()
    if move == "recall":
        values["recalls"] = Ticket.__table__.c.recalls + 1
    if reaches in ENDED:
        values["holder_hash"] = None  # the phone may take its next number (see "Caps")
    # Conditional on the state we may leave, so two clicks (or two counters) cannot both win; the
    # row as moved comes back with it (no second read).
    change = "recalled" if move == "recall" else reaches
    moved = await session.scalar(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status.in_(leaves))
        .values(**values)
        .returning(Ticket, *_notice(session, point=point, change=change))
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    if moved is None:
        await session.refresh(ticket)  # what another click or counter made of it
        raise Conflict(code="ticket.move", params={"number": ticket.number, "status": ticket.status, "move": move})
    await audit.record(session, actor=actor, action=f"ticket.{move}", entity="ticket", entity_id=ticket.id, before=before, after=_ticket_snapshot(ticket))
    await announce(session, point=point, ticket=ticket, change=change, noticed=True)
    return ticket, point


def _ticket_snapshot(ticket: Ticket) -> dict[str, Any]:
    # The code is the resident's key to the ticket: kept out of the audit trail like a password;
    # the holder's hash stands for an address, which the audit entry keeps in its own column.
    return audit.snapshot_of(ticket, [c.key for c in Ticket.__table__.columns if c.key not in ("code", "holder_hash")])


async def ticket_status(session: AsyncSession, *, ticket_id: int, code: str) -> dict[str, Any]:
    """A resident's own ticket, read with its code: status, counter, place in line and wait (no name)."""
    found = await _ticket_and_point(session, ticket_id=ticket_id)
    if found is None or found[0].code is None or not secrets.compare_digest(found[0].code.encode(), code.encode()):
        raise NotFound(code="ticket.unknown")
    ticket, point = found
    position, wait = await _place_and_wait(session, point=point, ticket=ticket)
    return {
        "id": ticket.id,
        "service_point_id": point.id,
        "point_name": point.name,
        "number": ticket.number,
        "day": ticket.day,
        "status": ticket.status,
        "counter": ticket.counter,
        "position": position,
        "estimated_wait_minutes": wait,
    }


async def get_ticket(session: AsyncSession, *, ticket_id: int, actor: Principal) -> Ticket:
    """One ticket for staff of its point, with the name on it (an audited personal read)."""
    found = await _ticket_and_point(session, ticket_id=ticket_id)
    if found is None:
        raise _no_ticket(ticket_id)
    ticket, point = found
    if not (actor.service_point_id == point.id or actor.sees_area(point.area_code)):
        raise _no_ticket(ticket_id)
    if ticket.name_on_ticket is not None:
        await audit.record(session, actor=actor, action="ticket.read_personal", entity="ticket", entity_id=ticket.id)
    return ticket


# --- boards --------------------------------------------------------------------------------


class AtCounter(NamedTuple):
    number: int
    status: str
    counter: int | None
    called_at: datetime | None


@dataclass(frozen=True)
class DayFigures:
    """What a board shows of a point's day, counted and picked in the database (`_day_figures`)."""

    waiting: int = 0
    served: int = 0
    no_shows: int = 0
    called_recently: int = 0  # counters that called someone within ACTIVE_COUNTER_WINDOW
    median_wait: float | None = None
    p90_wait: float | None = None
    at_counters: list[AtCounter] = field(default_factory=list)  # called or serving, by number
    recent_services: list[tuple[datetime, datetime]] = field(default_factory=list)  # (started, ended) of the last RECENT_SERVICES done


def _wait_minutes(dialect: str) -> ColumnElement[Any]:
    """A ticket's wait (arrived -> called) in minutes, to the millisecond. SQLite's julianday is a
    float day (2.46 million of them), exact only to about 0.05 ms: unrounded, a wait of 2 min 15 s
    came out as 2.2499998 minutes and showed as 2.2 instead of 2.3."""
    if dialect == "postgresql":
        milliseconds = extract("epoch", Ticket.called_at - Ticket.arrived_at) * 1000
    else:
        milliseconds = (func.julianday(Ticket.called_at) - func.julianday(Ticket.arrived_at)) * 86_400_000
    return func.round(milliseconds) / 60_000.0


@cache
def _figures_reads(dialect: str) -> tuple[Executable, ...]:
    """The four reads of `_day_figures`, built once per dialect (a board is read after every move
    of a ticket); parameters `points`, `day`, `since`."""
    of_day = and_(Ticket.service_point_id.in_(bindparam("points", expanding=True)), Ticket.day == bindparam("day", type_=Date))
    called_recently = and_(Ticket.status != WAITING, Ticket.called_at >= bindparam("since", type_=UtcDateTime))
    counts = (
        select(
            Ticket.service_point_id,
            func.count().filter(Ticket.status == WAITING),
            func.count().filter(Ticket.status == DONE),
            func.count().filter(Ticket.status == NO_SHOW),
            func.count(case((called_recently, Ticket.counter)).distinct()),
        )
        .where(of_day)
        .group_by(Ticket.service_point_id)
    )
    minutes = _wait_minutes(dialect)
    ranked = (
        select(
            Ticket.service_point_id.label("point"),
            minutes.label("minutes"),
            func.row_number().over(partition_by=Ticket.service_point_id, order_by=minutes).label("rank"),
            func.count().over(partition_by=Ticket.service_point_id).label("n"),
        )
        .where(of_day, Ticket.status != WAITING, Ticket.called_at.is_not(None))
        .subquery()
    )
    n = ranked.c.n
    # The median's one or two middle ranks ((n + 1) // 2 and n // 2 + 1) and the 90th percentile's ceil(0.9 n).
    waits = select(ranked.c.point, ranked.c.n, ranked.c.rank, ranked.c.minutes).where(ranked.c.rank.in_([(n + 1) // 2, n // 2 + 1, (n * 9 + 9) // 10]))
    at_counters = (
        select(Ticket.service_point_id, Ticket.number, Ticket.status, Ticket.counter, Ticket.called_at)
        .where(of_day, Ticket.status.in_((CALLED, SERVING)))
        .order_by(Ticket.number)
    )
    latest = func.row_number().over(partition_by=Ticket.service_point_id, order_by=_LATEST_FIRST)
    done = select(Ticket.service_point_id.label("point"), Ticket.started_at, Ticket.ended_at, latest.label("latest")).where(of_day, _SERVED).subquery()
    recent = select(done.c.point, done.c.started_at, done.c.ended_at).where(done.c.latest <= RECENT_SERVICES)
    return counts, waits, at_counters, recent


async def _day_figures(session: AsyncSession, *, point_ids: list[int], day: date, now: datetime) -> dict[int, DayFigures]:
    """Each point's figures of `day`, with no ticket loaded but those at a counter and the last
    RECENT_SERVICES done: a board is read again after every move, and a busy office's day holds
    thousands of tickets (loading them all made a board's cost grow through the day).

    Four reads in one round trip (`in_one_trip`): the counts; the waits at the ranks of their
    median and 90th percentile (nearest rank), picked by window functions; the tickets at the
    counters; the last services. Tickets still waiting count only as waiting (their waits are
    not over)."""
    if not point_ids:
        return {}
    values = {"points": point_ids, "day": day, "since": now - ACTIVE_COUNTER_WINDOW}
    count_rows, wait_rows, counter_rows, recent_rows = await in_one_trip(session, *_figures_reads(session.get_bind().dialect.name), params=values)

    figures: dict[int, dict[str, Any]] = {pid: {"at_counters": [], "recent_services": []} for pid in point_ids}
    for pid, waiting, served, no_shows, called_recently in count_rows:
        figures[pid].update(waiting=waiting, served=served, no_shows=no_shows, called_recently=called_recently)
    waits_at: dict[int, tuple[int, dict[int, float]]] = {}  # point -> (waits, minutes at the ranks picked)
    for pid, count, rank, value in wait_rows:
        waits_at.setdefault(pid, (count, {}))[1][rank] = float(value)
    for pid, (count, at) in waits_at.items():
        figures[pid]["median_wait"] = (at[(count + 1) // 2] + at[count // 2 + 1]) / 2
        figures[pid]["p90_wait"] = at[(count * 9 + 9) // 10]
    for pid, *at_counter in counter_rows:
        figures[pid]["at_counters"].append(AtCounter(*at_counter))
    for pid, started_at, ended_at in recent_rows:
        figures[pid]["recent_services"].append((started_at, ended_at))
    return {pid: DayFigures(**values) for pid, values in figures.items()}


def _estimate(position: int, median_service_minutes: float, active_counters: int) -> int:
    """Minutes until the `position`-th in line is called; 0 for position 0 (nobody).

    The active counters work through the line in parallel, each finishing one resident about
    every median service time, so the line moves `active_counters` places per median service
    time: position x median service minutes / active counters. The median (not the mean) keeps
    one long case from inflating everybody's estimate. Rounded up: better early than late.
    The board shows the estimate of the last in line (position = waiting): the same figure as
    the ticket just taken, and 0 when nobody waits.
    """
    return math.ceil(max(0, position) * median_service_minutes / max(1, active_counters))


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (calendar.aware(end) - calendar.aware(start)).total_seconds() / 60


def _percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile: a value that occurred, never an interpolation."""
    if not values:
        return None
    ordered = sorted(values)
    return rounding.half_up(ordered[max(0, math.ceil(share * len(ordered)) - 1)])


def _service_median(point: ServicePoint, recent: Sequence[tuple[datetime | None, datetime | None]]) -> float:
    """The median of `recent` service times ((started, ended) pairs); the point's own setting
    stands in until MIN_SERVICES_FOR_MEDIAN are done."""
    minutes = [m for started, ended in recent if (m := _minutes(started, ended)) is not None]
    return statistics.median(minutes) if len(minutes) >= MIN_SERVICES_FOR_MEDIAN else float(point.service_minutes)


def _active_counters(point: ServicePoint, called_recently: int) -> int:
    """Counters staffed now: those that called someone within ACTIVE_COUNTER_WINDOW; before the
    first call of the day, all of the point's counters."""
    return called_recently or max(1, point.counters)


def _board(
    point: ServicePoint,
    figures: DayFigures,
    *,
    day: date,
    now: datetime,
    hours: list[list[str]],
    next_opening: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A point's board from its day's figures (`_day_figures`)."""
    open_now = calendar.is_open_at(hours, now)
    at_counter: dict[int, AtCounter] = {}
    # A closed point serves nobody: its board shows no counter at work. A counter shows the ticket
    # it called last (the later number among those called in the same instant).
    for t in figures.at_counters if open_now else []:
        if t.counter is not None:
            current = at_counter.get(t.counter)
            if current is None or calendar.aware(t.called_at or now) >= calendar.aware(current.called_at or now):
                at_counter[t.counter] = t
    median_service = _service_median(point, figures.recent_services)
    active = _active_counters(point, figures.called_recently)
    return {
        "service_point_id": point.id,
        "name": point.name,
        "area": point.area_code,
        "date": day,
        "day": day,  # deprecated, for one release (docs/api.md#deprecations)
        "open_now": open_now,
        "next_opening": None if open_now else next_opening,
        "waiting": figures.waiting,
        "now_serving": [{"counter": c, "number": t.number, "status": t.status} for c, t in sorted(at_counter.items())],
        "estimated_wait_minutes": _estimate(figures.waiting, median_service, active),
        "served": figures.served,
        "no_shows": figures.no_shows,
        "median_wait_minutes": None if figures.median_wait is None else rounding.half_up(figures.median_wait),
        "p90_wait_minutes": None if figures.p90_wait is None else rounding.half_up(figures.p90_wait),
        "median_service_minutes": rounding.half_up(median_service),
        "active_counters": active,
    }


async def _boards(session: AsyncSession, points: list[ServicePoint], closures: services.Closures) -> list[dict[str, Any]]:
    """The boards of `points` from their closures (today through the next-opening horizon) and
    today's figures (`_day_figures`)."""
    day, now = calendar.today(), calendar.now_utc()
    figures = await _day_figures(session, point_ids=[point.id for point in points], day=day, now=now)
    boards = []
    for point in points:
        hours = services.hours_on(point, day, closures.get((point.id, day)))
        # The next opening is shown only while closed.
        opening = None if calendar.is_open_at(hours, now) else services.next_opening(point, day=day, hhmm=calendar.local_hhmm(now), closures=closures)
        boards.append(_board(point, figures[point.id], day=day, now=now, hours=hours, next_opening=opening))
    return boards


async def board_of(session: AsyncSession, *, point: ServicePoint) -> dict[str, Any]:
    """The board of a point already loaded: its closures, then its figures."""
    day = calendar.today()
    closures = await services.closures_of(session, point_ids=[point.id], start=day, end=services.next_opening_horizon(day))
    return (await _boards(session, [point], closures))[0]


async def board(session: AsyncSession, *, point_id: int) -> dict[str, Any]:
    """A point's board: the point with its closures (kept for a moment: `services.KEPT_SECONDS`),
    then its figures (one round trip, or two)."""
    day = calendar.today()
    point, closures = await services.kept_point_with_closures(session, point_id=point_id, start=day, end=services.next_opening_horizon(day))
    return (await _boards(session, [point], closures))[0]


async def city_board(session: AsyncSession, *, area: str | None) -> list[dict[str, Any]]:
    """The board of every point open today (or with a queue today) in the area: the points with
    their closures, then their figures (two round trips)."""
    day = calendar.today()
    stmt = select(ServicePoint).where(ServicePoint.active.is_(True)).order_by(ServicePoint.id)
    if area is not None:
        require_code(area, field="area", location="query")
        stmt = stmt.where(in_subtree(ServicePoint.area_code, area))
    stmt = stmt.where(services.open_on_clause(day) | exists().where(Ticket.service_point_id == ServicePoint.id, Ticket.day == day))
    points, closures = await services.with_closures(session, stmt, start=day, end=services.next_opening_horizon(day))
    return await _boards(session, points, closures)


# --- live ----------------------------------------------------------------------------------


def _call_messages(point: ServicePoint, ticket: Ticket | None, change: str) -> list[live.Message]:
    """The call itself (to announce), for a ticket called or recalled; no query."""
    if ticket is None or change not in ("called", "recalled"):
        return []
    data = {"service_point_id": point.id, "ticket_id": ticket.id, "number": ticket.number, "counter": ticket.counter, "recall": change == "recalled"}
    return [{"event": "call", "service_point_id": point.id, "area": point.area_code, "data": data}]


def _board_message(data: dict[str, Any]) -> live.Message:
    return {"event": "board", "service_point_id": data["service_point_id"], "area": data["area"], "data": data}


async def change_messages(session: AsyncSession, *, point: ServicePoint, ticket: Ticket | None, change: str) -> list[live.Message]:
    """What the boards receive for one change: the call itself (to announce) and the new board."""
    return [*_call_messages(point, ticket, change), _board_message(await board_of(session, point=point))]


async def render_board(point_id: int) -> list[live.Message]:
    """A point's board as committed now, read in a session of its own (after a change, see live.py)."""
    sqlite_write_intent.set(False)  # a read: its task inherited the writing request's context
    async with get_sessionmaker()() as session:
        point = await session.get(ServicePoint, point_id)
        return [] if point is None else [_board_message(await board_of(session, point=point))]


def _notice(session: AsyncSession, *, point: ServicePoint, change: str) -> list[ColumnElement[Any]]:
    """For the RETURNING of an UPDATE that changes one ticket: on PostgreSQL its change's NOTIFY
    (then `announce(..., noticed=True)`), a round trip fewer; on SQLite nothing."""
    return [live.notice(point_id=point.id, ticket_id=Ticket.id, change=change)] if is_postgresql(session) else []


async def announce(session: AsyncSession, *, point: ServicePoint, ticket: Ticket | None, change: str, noticed: bool = False) -> None:
    """Tell the live boards of a change once committed; `noticed`: its NOTIFY went with the change's
    own statement (`_notice`)."""
    if is_postgresql(session):
        if not noticed:
            await live.notify(session, point_id=point.id, ticket_id=ticket.id if ticket else None, change=change)
    elif live.broker.watches(point.id):
        # SQLite, one process: nobody here watches the point, nobody is told. Otherwise the call now,
        # the board read after COMMIT, outside the write lock (see live.py).
        live.publish_after_commit(session, _call_messages(point, ticket, change))
        live.render_after_commit(session, point.id, render_board)


async def messages_from_notice(ids: dict[str, Any]) -> list[live.Message]:
    """Render a NOTIFY's ids (point, ticket, change) into messages, once per process."""
    async with get_sessionmaker()() as session:
        point = await session.get(ServicePoint, int(ids["p"]))
        if point is None:
            return []
        ticket = await session.get(Ticket, int(ids["t"])) if ids.get("t") is not None else None
        return await change_messages(session, point=point, ticket=ticket, change=str(ids.get("c")))


async def open_point_stream(session: AsyncSession, *, point_id: int) -> tuple[live.Subscriber, list[live.Message]]:
    """Subscribe, then the board: read once for the streams opening together (live.snapshot); 404 for no point."""

    async def read() -> live.Message:
        return _board_message(await board(session, point_id=point_id))

    # Subscribe before reading the state, so that no change can fall between the two.
    subscriber = live.broker.subscribe(point_id=point_id)
    try:
        state = await live.snapshot(("point", point_id), read)
    except BaseException:
        live.broker.unsubscribe(subscriber)
        raise
    return subscriber, [state]


async def open_city_stream(session: AsyncSession, *, area: str | None) -> tuple[live.Subscriber, list[live.Message]]:
    if area is not None:
        require_code(area, field="area", location="query")

    async def read() -> live.Message:
        return {"event": "boards", "service_point_id": 0, "area": area or "", "data": await city_board(session, area=area)}

    subscriber = live.broker.subscribe(area=area)
    try:
        state = await live.snapshot(("city", area), read)
    except BaseException:
        live.broker.unsubscribe(subscriber)
        raise
    return subscriber, [state]


async def tickets_before(session: AsyncSession, *, ticket_ids: list[int], day: date) -> list[int]:
    """Which of these tickets are of a day before `day` (their queue is over, whatever their status)."""
    if not ticket_ids:
        return []
    return list((await session.scalars(select(Ticket.id).where(Ticket.id.in_(ticket_ids), Ticket.day < day))).all())


async def open_ticket(session: AsyncSession, *, ticket_id: int, code: str) -> Ticket:
    """A resident's own ticket, with its code, still in line or at a counter (they may ask to be told
    about it); 404 otherwise, the same for a wrong code as for no ticket."""
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None or ticket.code is None or not secrets.compare_digest(ticket.code.encode(), code.encode()):
        raise NotFound(code="ticket.not_open", params={"id": ticket_id})
    if ticket.status not in (TicketStatus.waiting.value, TicketStatus.called.value, TicketStatus.serving.value) or ticket.day < calendar.today():
        raise NotFound(code="ticket.not_open", params={"id": ticket_id})
    return ticket
