import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, select

from api import calendar, flows
from api.audit.models import AuditEntry
from api.db import is_postgresql
from api.errors import Conflict, Forbidden, RuleViolation
from api.principal import ANONYMOUS, SYSTEM
from api.queues import appointments, live, service
from api.queues.models import Appointment, QueueDay, Ticket
from api.queues.schemas import BookingCreate, WalkIn
from api.services import service as services
from api.services.schemas import ClosureCreate, ServicePointUpdate
from api.types import Role
from tests.factories import principal
from tests.services.factories import make_office
from tests.test_fastpath import Statements


async def test_numbers_restart_each_day_and_estimate_grows(session) -> None:
    office = await make_office(session, counters=2, service_minutes=10)
    first = await service.take_ticket(session, point_id=office.id, data=WalkIn(), actor=ANONYMOUS)
    second = await service.take_ticket(session, point_id=office.id, data=WalkIn(name="Budi"), actor=ANONYMOUS)
    assert (first["number"], second["number"]) == (1, 2)
    assert (first["position"], second["position"]) == (1, 2)
    # 2 counters, 10 minutes each: the second in line waits 2 x 10 / 2 = 10 minutes.
    assert (first["estimated_wait_minutes"], second["estimated_wait_minutes"]) == (5, 10)
    # Yesterday's queue does not move today's numbers.
    yesterday = calendar.today() - timedelta(days=1)
    for _ in range(2):
        await session.execute(service._next_number(session, point_id=office.id, day=yesterday))
    assert await session.scalar(select(QueueDay.last_number).where(QueueDay.service_point_id == office.id, QueueDay.day == yesterday)) == 2
    assert (await service.take_ticket(session, point_id=office.id, data=WalkIn(), actor=ANONYMOUS))["number"] == 3
    audit = await session.scalar(select(AuditEntry).where(AuditEntry.entity == "ticket", AuditEntry.entity_id == str(second["id"])))
    assert audit.after["name_on_ticket"] == "***"


async def test_an_issued_ticket_is_in_the_session_as_stored(session) -> None:
    """`issue_ticket` writes the number and the ticket in one round trip, not through the session's
    flush: the ticket it answers has every column as the row holds it, nothing left to load (a
    load would be a round trip, and outside the event loop's greenlet an error)."""
    office = await make_office(session, counters=1)
    ticket = await service.issue_ticket(session, point=office, priority="elderly", name="Siti", actor=SYSTEM)
    assert not inspect(ticket).unloaded and inspect(ticket).persistent
    stored = (await session.execute(select(Ticket.__table__).where(Ticket.id == ticket.id))).one()._mapping
    assert {key: getattr(ticket, key) for key in stored} == dict(stored)
    assert (ticket.number, ticket.status, ticket.priority) == (1, "waiting", "elderly")


async def test_boards_read_each_point_with_its_closures_in_two_round_trips(session, monkeypatch) -> None:
    """A board: the point with its closures (today's hours and its next opening), then its day's
    figures, four reads in one round trip (`in_one_trip`: pipelined on PostgreSQL, where
    SQLAlchemy's events do not see them; in turn on SQLite); the city board the same for all its
    points, whatever their number."""
    office, closed = await make_office(session), await make_office(session)
    today = calendar.today()
    await flows.add_closure(session, point_id=closed.id, data=ClosureCreate(day=today, reason="Rapat"), actor=SYSTEM)
    tomorrow = ClosureCreate(day=today + timedelta(days=1), hours=[("13:00", "14:00")], reason="Setengah hari")
    await flows.add_closure(session, point_id=closed.id, data=tomorrow, actor=SYSTEM)
    await service.take_ticket(session, point_id=office.id, data=WalkIn(), actor=ANONYMOUS)
    session.expunge_all()
    trips: list[int] = []
    one_trip = service.in_one_trip

    async def counted(session, *statements, **params):
        trips.append(len(statements))
        return await one_trip(session, *statements, **params)

    monkeypatch.setattr(service, "in_one_trip", counted)
    seen = 1 if is_postgresql(session) else 1 + 4
    with Statements() as statements:
        board = await service.board(session, point_id=closed.id)
    assert (statements.count, trips) == (seen, [4])
    assert (board["open_now"], board["next_opening"]) == (False, {"date": today + timedelta(days=1), "time": "13:00"})
    with Statements() as statements:
        boards = {b["service_point_id"]: b for b in await service.city_board(session, area="36.74.01")}
    assert (statements.count, trips) == (seen, [4, 4])
    assert boards[office.id]["open_now"] and boards[office.id]["waiting"] == 1 and closed.id not in boards


async def test_a_boards_point_is_kept_for_a_moment_while_nothing_is_written(session) -> None:
    """A public board reads its point and the point's closures once per `KEPT_SECONDS` while
    nothing the public reads of service points hear of is written in this process; a change of
    the point is on the next board at once; past the moment it is read again."""
    office = await make_office(session)
    first = await service.board(session, point_id=office.id)
    figures = 0 if is_postgresql(session) else 4  # pipelined on PostgreSQL: no engine event sees them
    with Statements() as statements:
        again = await service.board(session, point_id=office.id)
    assert (statements.count, again) == (figures, first)
    await flows.update_service_point(session, point_id=office.id, data=ServicePointUpdate(name="Kantor Baru"), actor=SYSTEM)
    with Statements() as statements:
        renamed = await service.board(session, point_id=office.id)
    assert (statements.count, renamed["name"]) == (figures + 1, "Kantor Baru")
    await asyncio.sleep(services.KEPT_SECONDS + 0.05)
    with Statements() as statements:
        await service.board(session, point_id=office.id)
    assert statements.count == figures + 1


async def test_a_counter_claims_and_moves_a_ticket_in_three_statements(session) -> None:
    """call-next: the point, the claiming UPDATE (with the NOTIFY on PostgreSQL), the audit entry;
    a move: the ticket with its point, the UPDATE (with the NOTIFY), the audit entry."""
    office = await make_office(session)
    taken = await service.take_ticket(session, point_id=office.id, data=WalkIn(), actor=ANONYMOUS)
    session.expunge_all()
    with Statements() as statements:
        called = await service.call_next(session, point_id=office.id, counter=1, actor=SYSTEM)
    assert statements.count == 3 and called is not None and called.id == taken["id"]
    session.expunge_all()
    with Statements() as statements:
        ticket, point = await service.move_ticket(session, ticket_id=taken["id"], move="start", actor=SYSTEM)
    assert statements.count == 3 and (ticket.status, point.id) == ("serving", office.id)


async def test_a_residents_status_is_two_statements_however_long_the_line(session) -> None:
    """The ticket with its point, then its place and wait counted in the database (not the day's rows)."""
    office = await make_office(session, counters=2)
    taken = [await service.take_ticket(session, point_id=office.id, data=WalkIn(), actor=ANONYMOUS) for _ in range(4)]
    await service.call_next(session, point_id=office.id, counter=1, actor=SYSTEM)
    session.expunge_all()
    with Statements() as statements:
        status = await service.ticket_status(session, ticket_id=taken[-1]["id"], code=taken[-1]["code"])
    assert statements.count == 2 and (status["position"], status["status"]) == (3, "waiting")


async def test_closed_point_takes_no_numbers(session) -> None:
    office = await make_office(session, hours={})
    with pytest.raises(Conflict):
        await service.take_ticket(session, point_id=office.id, data=WalkIn(), actor=ANONYMOUS)
    with pytest.raises(RuleViolation):
        await service.take_ticket(session, point_id=office.id, data=WalkIn(priority="appointment"), actor=ANONYMOUS)


async def test_call_order_state_machine_and_board(session) -> None:
    office = await make_office(session, counters=2)
    tickets = [await service.take_ticket(session, point_id=office.id, data=WalkIn(), actor=ANONYMOUS) for _ in range(3)]
    elderly = await service.take_ticket(session, point_id=office.id, data=WalkIn(priority="elderly"), actor=ANONYMOUS)
    assert elderly["position"] == 1
    operator = principal(Role.operator, service_point_id=office.id)
    called = await service.call_next(session, point_id=office.id, counter=1, actor=operator)
    assert called.id == elderly["id"] and called.counter == 1 and called.called_at is not None
    second = await service.call_next(session, point_id=office.id, counter=2, actor=operator)
    assert second.number == tickets[0]["number"]
    with pytest.raises(Conflict):
        await service.move_ticket(session, ticket_id=called.id, move="complete", actor=operator)
    await service.move_ticket(session, ticket_id=called.id, move="recall", actor=operator)
    started, point = await service.move_ticket(session, ticket_id=called.id, move="start", actor=operator)
    assert started.status == "serving" and started.recalls == 1 and point.id == office.id
    done, _ = await service.move_ticket(session, ticket_id=called.id, move="complete", actor=operator)
    assert done.status == "done" and done.ended_at is not None
    await service.move_ticket(session, ticket_id=second.id, move="no_show", actor=operator)
    for move in ("start", "cancel", "recall", "no_show"):
        with pytest.raises(Conflict):
            await service.move_ticket(session, ticket_id=second.id, move=move, actor=operator)
    await service.move_ticket(session, ticket_id=tickets[2]["id"], move="cancel", actor=operator)
    board = await service.board(session, point_id=office.id)
    assert board["waiting"] == 1 and board["served"] == 1 and board["no_shows"] == 1
    assert board["now_serving"] == [] and board["median_wait_minutes"] is not None and board["open_now"]
    last = await service.call_next(session, point_id=office.id, counter=2, actor=operator)
    assert last.number == tickets[1]["number"]
    assert (await service.board(session, point_id=office.id))["now_serving"] == [{"counter": 2, "number": last.number, "status": "called"}]
    assert await service.call_next(session, point_id=office.id, counter=1, actor=operator) is None
    with pytest.raises(RuleViolation):
        await service.call_next(session, point_id=office.id, counter=3, actor=operator)
    with pytest.raises(Forbidden):
        await service.call_next(session, point_id=office.id, counter=1, actor=principal(Role.operator, service_point_id=office.id + 1000))
    actions = set(await session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "ticket")))
    assert {"ticket.create", "ticket.call", "ticket.start", "ticket.complete", "ticket.no_show", "ticket.recall", "ticket.cancel"} <= actions


def test_estimate_and_percentile() -> None:
    assert service._estimate(1, 10, 2) == 5 and service._estimate(7, 9, 3) == 21 and service._estimate(3, 10, 0) == 30
    assert service._percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9 and service._percentile([], 0.9) is None


async def test_completed_ticket_reaches_the_tally(session, monkeypatch) -> None:
    calls = []

    async def add_recordings(session, **kwargs) -> None:
        calls.append(kwargs)

    monkeypatch.setattr(flows.tallies, "add_recordings", add_recordings)
    office = await make_office(session, area="36.74.05")
    ticket = await service.take_ticket(session, point_id=office.id, data=WalkIn(), actor=ANONYMOUS)
    await service.call_next(session, point_id=office.id, counter=1, actor=SYSTEM)
    await flows.move_ticket(session, ticket_id=ticket["id"], move="start", actor=SYSTEM)
    assert calls == []
    await flows.move_ticket(session, ticket_id=ticket["id"], move="complete", actor=SYSTEM)
    assert calls == [{"area_code": "36.74.05", "day": calendar.today(), "source": "queue", "service_point_id": office.id, "actor": SYSTEM}]


def test_slot_grid() -> None:
    assert appointments.slot_grid([["08:00", "08:25"], ["13:00", "13:20"]], 10) == [
        ("08:00", "08:10"),
        ("08:10", "08:20"),
        ("13:00", "13:10"),
        ("13:10", "13:20"),
    ]


async def test_booking_capacity_check_in_and_closure(session) -> None:
    office = await make_office(session, counters=2, service_minutes=30)
    tomorrow = calendar.today() + timedelta(days=1)
    slots = await appointments.slots(session, point_id=office.id, day=tomorrow)
    assert slots[0] == {"start": "00:00", "end": "00:30", "capacity": 2, "booked": 0, "available": 2} and len(slots) == 48
    first = await appointments.book(session, point_id=office.id, data=BookingCreate(date=tomorrow, start="09:00", name="Siti"), actor=ANONYMOUS)
    await appointments.book(session, point_id=office.id, data=BookingCreate(date=tomorrow, start="09:00"), actor=ANONYMOUS)
    with pytest.raises(Conflict):
        await appointments.book(session, point_id=office.id, data=BookingCreate(date=tomorrow, start="09:00"), actor=ANONYMOUS)
    with pytest.raises(RuleViolation):
        await appointments.book(session, point_id=office.id, data=BookingCreate(date=tomorrow, start="09:10"), actor=ANONYMOUS)
    slot = next(s for s in await appointments.slots(session, point_id=office.id, day=tomorrow) if s["start"] == "09:00")
    assert slot["available"] == 0 and slot["booked"] == 2
    await appointments.cancel_appointment(session, code=first.code, actor=ANONYMOUS)
    with pytest.raises(Conflict):
        await appointments.cancel_appointment(session, code=first.code, actor=ANONYMOUS)
    again = await appointments.book(session, point_id=office.id, data=BookingCreate(date=tomorrow, start="09:00"), actor=ANONYMOUS)
    with pytest.raises(Conflict):  # not today
        await appointments.check_in(session, code=again.code, actor=SYSTEM)
    # Reduced hours that leave 09:00 out cancel both bookings of that slot, and say so.
    _, cancelled = await flows.add_closure(
        session, point_id=office.id, data=ClosureCreate(day=tomorrow, hours=[("13:00", "15:00")], reason="Rapat"), actor=SYSTEM
    )
    assert {a.slot_start for a in cancelled} == {"09:00"} and len(cancelled) == 2
    assert all(a.status == "cancelled" and a.cancel_reason == "closure: Rapat" for a in cancelled)


async def test_fewer_counters_cancel_the_extra_seats(session) -> None:
    office = await make_office(session, counters=2, service_minutes=30)
    tomorrow = calendar.today() + timedelta(days=1)
    await appointments.book(session, point_id=office.id, data=BookingCreate(date=tomorrow, start="10:00"), actor=ANONYMOUS)
    second = await appointments.book(session, point_id=office.id, data=BookingCreate(date=tomorrow, start="10:00"), actor=ANONYMOUS)
    _, cancelled = await flows.update_service_point(session, point_id=office.id, data=ServicePointUpdate(counters=1), actor=SYSTEM)
    assert [a.id for a in cancelled] == [second.id]
    with pytest.raises(Conflict):
        await flows.update_service_point(session, point_id=office.id, data=ServicePointUpdate(service_minutes=15), actor=SYSTEM)


async def test_checked_in_appointment_goes_first_once_due(session) -> None:
    office = await make_office(session, counters=1, service_minutes=30)
    walk_in = await service.take_ticket(session, point_id=office.id, data=WalkIn(), actor=ANONYMOUS)
    # Booked earlier for today's first slot (booking it now would be refused: it has begun).
    booking = Appointment(
        code="today-00",
        service_point_id=office.id,
        day=calendar.today(),
        slot_start="00:00",
        slot_end="00:30",
        seat=1,
        status="booked",
        created_at=datetime.now(UTC) - timedelta(days=2),
    )
    session.add(booking)
    await session.flush()
    issued = await appointments.check_in(session, code="today-00", actor=SYSTEM)
    assert issued["number"] == walk_in["number"] + 1 and issued["position"] == 1
    with pytest.raises(Conflict):
        await appointments.check_in(session, code="today-00", actor=SYSTEM)
    ticket = await session.get(Ticket, issued["id"])
    assert ticket.priority == "appointment" and ticket.booked_at is not None
    disabled = await service.take_ticket(session, point_id=office.id, data=WalkIn(priority="disabled"), actor=ANONYMOUS)
    # Due: the appointment first, then the flagged resident, then arrival order.
    order = [(await service.call_next(session, point_id=office.id, counter=1, actor=SYSTEM)).id for _ in range(3)]
    assert order == [issued["id"], disabled["id"], walk_in["id"]]


async def test_an_appointment_not_yet_due_waits_its_turn(session) -> None:
    office = await make_office(session, counters=1)
    walk_in = await service.take_ticket(session, point_id=office.id, data=WalkIn(), actor=ANONYMOUS)
    early = await service.take_ticket(session, point_id=office.id, data=WalkIn(), actor=ANONYMOUS)
    ticket = await session.get(Ticket, early["id"])
    ticket.priority, ticket.due_at = "appointment", datetime.now(UTC) + timedelta(hours=1)
    await session.flush()
    assert (await service.call_next(session, point_id=office.id, counter=1, actor=SYSTEM)).id == walk_in["id"]


async def test_events_go_out_after_commit_only(session) -> None:
    subscriber = live.broker.subscribe(point_id=-1)
    message = {"event": "board", "service_point_id": -1, "area": "36.74", "data": {}}
    try:
        live.publish_after_commit(session, [message])
        await session.rollback()
        assert subscriber.queue.empty()
        live.publish_after_commit(session, [message])
        await session.commit()
        assert subscriber.queue.get_nowait() == message
    finally:
        live.broker.unsubscribe(subscriber)
