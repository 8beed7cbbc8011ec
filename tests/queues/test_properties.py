"""Property (hypothesis): whatever happens at a point (numbers taken, called, cancelled, no-shows,
recalls, services started and completed), the waiting tickets hold places 1..n without gaps, in
an order that only ever changes by tickets joining or leaving the line, and the next call takes
the ticket in place 1."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from api.errors import Conflict
from api.principal import ANONYMOUS
from api.queues import service
from api.queues.models import Ticket
from api.queues.schemas import WalkIn
from api.types import Role
from tests.factories import principal
from tests.services.factories import make_office

MOVES = ["cancel", "no_show", "recall", "start", "complete"]

step = st.one_of(
    st.tuples(st.just("take"), st.sampled_from(["none", "none", "elderly", "disabled"])),
    st.tuples(st.just("call"), st.integers(1, 2)),
    st.tuples(st.sampled_from(MOVES), st.integers(0, 30)),
)


def _order(places: dict[int, int], among: set[int]) -> list[int]:
    return [ticket for ticket, _ in sorted(places.items(), key=lambda item: item[1]) if ticket in among]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=25))
async def test_waiting_places_are_always_one_to_n(session, steps) -> None:
    example = await session.begin_nested()  # each example starts from an empty point and leaves nothing
    try:
        office = await service.services.get_point(session, point_id=(await make_office(session, counters=2)).id)
        operator = principal(Role.operator, service_point_id=office.id)
        issued: list[int] = []
        codes: dict[int, str] = {}
        places = await service.positions(session, point_id=office.id)
        for kind, detail in steps:
            before = places
            called = None
            if kind == "take":
                ticket = await service.take_ticket(session, point_id=office.id, data=WalkIn(priority=detail), actor=ANONYMOUS)
                issued.append(ticket["id"])
            elif kind == "call":
                called = await service.call_next(session, point_id=office.id, counter=detail, actor=operator)
            elif issued:
                attempt = await session.begin_nested()  # a refused move undoes itself, as its request would
                try:
                    await service.move_ticket(session, ticket_id=issued[detail % len(issued)], move=kind, actor=operator)
                    await attempt.commit()
                except Conflict:
                    await attempt.rollback()
            places = await service.positions(session, point_id=office.id)
            waiting = await session.scalar(select(func.count()).select_from(Ticket).where(Ticket.service_point_id == office.id, Ticket.status == "waiting"))
            assert sorted(places.values()) == list(range(1, waiting + 1))
            assert (await service.board(session, point_id=office.id))["waiting"] == waiting
            # Tickets that stayed in line keep their order; a new ticket's answer is its place.
            stayed = before.keys() & places.keys()
            assert _order(before, stayed) == _order(places, stayed)
            if kind == "take":
                assert places[ticket["id"]] == ticket["position"]
                codes[ticket["id"]] = ticket["code"]
            # A resident's status (counted in the database) gives the place and wait the board reckons.
            board = await service.board(session, point_id=office.id)
            for ticket_id in {issued[0], issued[-1]} if issued else ():
                status = await service.ticket_status(session, ticket_id=ticket_id, code=codes[ticket_id])
                place = places.get(ticket_id)
                assert status["position"] == place
                wait = service._estimate(place or 0, board["median_service_minutes"], board["active_counters"])
                assert status["estimated_wait_minutes"] == wait
            if called is not None:
                assert before[called.id] == 1
                assert all(places[t] == before[t] - 1 for t in stayed)
            if kind == "call" and called is None:
                assert before == {} and places == {}
    finally:
        await example.rollback()
        session.expunge_all()  # the next example may get the same ids for new rows
