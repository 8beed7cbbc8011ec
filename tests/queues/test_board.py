"""The board's figures, opening hours, the call order and the booking window at their boundaries.

Hand-made tickets, stored at an office of their own (the figures are counted and picked in the
database: `_day_figures`), and a fixed clock: 2026-12-07 10:00 WIB (03:00 UTC).
"""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest

from api import calendar
from api.errors import RuleViolation
from api.principal import ANONYMOUS, SYSTEM
from api.queues import appointments, service
from api.queues.models import Ticket
from api.queues.schemas import WalkIn
from tests.services.factories import make_office

DAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # 10:00 in Jakarta
OPEN = [["08:00", "14:00"]]
POINT = SimpleNamespace(id=1, name="Kantor", area_code="36.74.01", service_minutes=10, counters=3)


def wib(hhmm: str) -> datetime:
    return calendar.local_moment(DAY, hhmm)


def ticket(number: int, status: str = "waiting", **fields) -> Ticket:
    fields.setdefault("priority", "none")
    fields.setdefault("arrived_at", NOW - timedelta(hours=1))
    return Ticket(service_point_id=1, day=DAY, number=number, status=status, recalls=0, **fields)


def served(number: int, minutes: float, ended: datetime) -> Ticket:
    return ticket(number, "done", counter=1, called_at=ended - timedelta(minutes=minutes + 1), started_at=ended - timedelta(minutes=minutes), ended_at=ended)


async def board_of(session, tickets: list[Ticket], *, hours: list[list[str]], point: Any = POINT, **kwargs: Any) -> dict[str, Any]:
    """The board of `point` (its counters and service time) on `tickets`, stored at a new office."""
    office = await make_office(session)
    for stored in tickets:
        stored.service_point_id = office.id
    session.add_all(tickets)
    await session.flush()
    figures = (await service._day_figures(session, point_ids=[office.id], day=DAY, now=NOW))[office.id]
    return service._board(point, figures, day=DAY, now=NOW, hours=hours, **kwargs)


@pytest.mark.parametrize(
    ("local", "open_now"),
    [("07:59", False), ("08:00", True), ("13:59", True), ("14:00", False), ("14:59", False), ("15:00", False)],
)
def test_opening_hours_start_included_end_excluded_in_jakarta_time(local: str, open_now: bool) -> None:
    # 08:00-14:00 WIB is 01:00-07:00 UTC: checking the UTC clock would refuse walk-ins all morning.
    # Kills `start <= hhmm < end` -> `<` / `<=`, and dropping `.astimezone(JAKARTA)`.
    assert calendar.is_open_at([["08:00", "14:00"]], wib(local)) is open_now


def test_opening_hours_with_a_break() -> None:
    hours = [["08:00", "12:00"], ["13:00", "15:00"]]
    assert [calendar.is_open_at(hours, wib(t)) for t in ("11:59", "12:00", "12:59", "13:00", "14:59", "15:00")] == [
        True,
        False,
        False,
        True,
        True,
        False,
    ]
    assert calendar.is_open_at([], wib("10:00")) is False


@pytest.mark.parametrize(
    ("position", "median", "counters", "minutes"),
    [
        (1, 2.5, 2, 2),  # 1.25 rounds up to 2 (round() and int() give 1)
        (3, 10, 2, 15),
        (1, 10, 3, 4),  # 3.33 -> 4
        (2, 10, 3, 7),  # 6.67 -> 7 (int() gives 6)
        (4, 10, 0, 40),  # no counters counts as one
    ],
)
def test_estimate_rounds_up(position: int, median: float, counters: int, minutes: int) -> None:
    assert service._estimate(position, median, counters) == minutes


def test_nobody_ahead_waits_no_time() -> None:
    assert service._estimate(0, 10, 2) == 0
    assert service._estimate(-1, 10, 1) == 0  # never a negative wait


def test_percentile_is_the_nearest_rank() -> None:
    assert service._percentile([], 0.9) is None
    assert service._percentile([7.0], 0.9) == 7.0
    assert service._percentile([5.0, 1.0, 4.0, 2.0, 3.0], 0.9) == 5.0  # rank ceil(4.5) = 5
    assert service._percentile([5.0, 1.0, 4.0, 2.0, 3.0], 0.5) == 3.0  # rank ceil(2.5) = 3
    assert service._percentile([float(v) for v in range(1, 11)], 0.9) == 9.0  # rank 9 of 10
    assert service._percentile([float(v) for v in range(1, 21)], 0.9) == 18.0
    assert service._percentile([1.04, 2.06], 0.9) == 2.1
    assert service._percentile([5.0, 1.0, 4.0], 0.0) == 1.0  # the 0th percentile is the smallest, not the largest


async def test_board_figures_on_hand_made_tickets(session) -> None:
    tickets = [
        # Served: 4, 6 and 20 minutes; median 6 (the mean would be 10).
        served(1, 4, NOW - timedelta(minutes=50)),
        served(2, 6, NOW - timedelta(minutes=40)),
        served(3, 20, NOW - timedelta(minutes=20)),
        # At counters: 2 called 30 minutes ago (counter 2), 1 called exactly an hour ago (counter 3).
        ticket(4, "serving", counter=2, arrived_at=NOW - timedelta(minutes=45), called_at=NOW - timedelta(minutes=30), started_at=NOW - timedelta(minutes=29)),
        ticket(5, "called", counter=3, arrived_at=NOW - timedelta(minutes=70), called_at=NOW - timedelta(hours=1)),
        ticket(6, "no_show", counter=1, arrived_at=NOW - timedelta(minutes=90), called_at=NOW - timedelta(minutes=61), ended_at=NOW),
        ticket(7),
        ticket(8),
        ticket(9, "cancelled", ended_at=NOW),
    ]
    board = await board_of(session, tickets, hours=[["08:00", "14:00"]])
    assert board["open_now"] is True
    assert board["waiting"] == 2 and board["served"] == 3 and board["no_shows"] == 1
    assert board["median_service_minutes"] == 6.0  # median, not mean
    # Counters that called someone in the last hour, the hour itself included: 1, 2 and 3
    # (counter 1 called ticket 3 41 minutes ago).
    assert board["active_counters"] == 3
    # The last in line is 2nd: 2 x 6 / 3 = 4 minutes.
    assert board["estimated_wait_minutes"] == 4
    # Waits (arrived -> called): 5, 13, 19 (tickets 1-3 arrived an hour ago), 15, 10, 29.
    waits = sorted([60 - 55, 60 - 47, 60 - 41, 15, 10, 29])
    assert waits == [5, 10, 13, 15, 19, 29]
    assert board["median_wait_minutes"] == 14.0  # (13 + 15) / 2
    assert board["p90_wait_minutes"] == 29.0  # rank ceil(5.4) = 6
    assert board["now_serving"] == [{"counter": 2, "number": 4, "status": "serving"}, {"counter": 3, "number": 5, "status": "called"}]


@pytest.mark.parametrize(
    ("waits", "median", "p90"),
    [
        ([5], 5.0, 5.0),
        ([6, 4], 5.0, 6.0),  # two: the middle ones averaged; rank ceil(1.8) = 2
        ([9, 2.25, 2.25], 2.3, 9.0),  # 2 min 15 s is 2.25 exactly, half up (SQLite's julianday gives 2.2499999...)
        ([*range(10, 0, -1)], 5.5, 9.0),  # rank ceil(9) = 9
        ([*range(1, 12)], 6.0, 10.0),  # rank ceil(9.9) = 10
    ],
)
async def test_the_wait_median_and_p90_are_picked_at_their_ranks(session, waits: list[float], median: float, p90: float) -> None:
    arrived = NOW - timedelta(minutes=117)  # 01:03 UTC: on SQLite, one of the instants where float days are off
    tickets = [ticket(n, "no_show", counter=1, arrived_at=arrived, called_at=arrived + timedelta(minutes=w)) for n, w in enumerate(waits, start=1)]
    board = await board_of(session, [*tickets, ticket(len(waits) + 1)], hours=OPEN)  # a resident still waiting has no wait yet
    assert (board["median_wait_minutes"], board["p90_wait_minutes"], board["waiting"], board["no_shows"]) == (median, p90, 1, len(waits))


async def test_the_counter_shows_the_ticket_it_called_last(session) -> None:
    for last in (1, 2):  # whichever number it is
        order = [ticket(n, "called", counter=1, called_at=NOW - timedelta(minutes=1 if n == last else 5)) for n in (1, 2)]
        assert (await board_of(session, order, hours=OPEN))["now_serving"] == [{"counter": 1, "number": last, "status": "called"}]
    # Called in the same instant: the later number (issued last) is shown. `>=` -> `>` keeps the first.
    same = [ticket(1, "called", counter=1, called_at=NOW), ticket(2, "called", counter=1, called_at=NOW)]
    assert (await board_of(session, same, hours=OPEN))["now_serving"][0]["number"] == 2


async def test_service_median_over_the_last_twenty_completed(session) -> None:
    start = NOW - timedelta(hours=5)
    old = [served(i, 50, start + timedelta(minutes=i)) for i in range(1, 16)]  # 15 long ones, earliest
    recent = [served(15 + i, 4 if i <= 10 else 8, start + timedelta(minutes=100 + i)) for i in range(1, 21)]
    board = await board_of(session, [*recent, *old], hours=[])
    # The last 20 (10 x 4, 10 x 8) give 6; 19 or 21 of them would give 8, the first 20 give 50.
    assert board["median_service_minutes"] == 6.0


async def test_the_points_setting_stands_in_until_three_are_served(session) -> None:
    def two() -> list[Ticket]:
        return [served(1, 30, NOW - timedelta(minutes=40)), served(2, 30, NOW - timedelta(minutes=5))]

    assert (await board_of(session, two(), hours=[]))["median_service_minutes"] == 10.0
    three = [*two(), served(3, 20, NOW - timedelta(minutes=1))]
    assert (await board_of(session, three, hours=[]))["median_service_minutes"] == 30.0


async def test_before_the_first_call_all_counters_count_and_the_board_is_empty(session) -> None:
    board = await board_of(session, [ticket(1)], hours=[])
    assert board["active_counters"] == 3 and board["estimated_wait_minutes"] == 4  # ceil(1 x 10 / 3)
    assert board["median_wait_minutes"] is None and board["p90_wait_minutes"] is None and board["open_now"] is False
    stale = ticket(2, "done", counter=1, called_at=NOW - timedelta(hours=1, seconds=1))
    assert (await board_of(session, [stale], hours=[]))["active_counters"] == 3


def test_booking_window_is_today_to_thirty_one_days_ahead(monkeypatch) -> None:
    monkeypatch.setattr(calendar, "today", lambda zone_name=None: DAY)
    for ok in (DAY, DAY + timedelta(days=1), DAY + timedelta(days=service.BOOKING_DAYS)):
        appointments._check_booking_day(ok)
    assert service.BOOKING_DAYS == 31
    for refused in (DAY - timedelta(days=1), DAY + timedelta(days=32)):
        with pytest.raises(RuleViolation):
            appointments._check_booking_day(refused)


async def test_positions_are_the_call_next_order(session) -> None:
    office = await make_office(session, counters=1)
    now = datetime.now(UTC)
    issued = [await service.take_ticket(session, point_id=office.id, data=WalkIn(), actor=ANONYMOUS) for _ in range(5)]
    flagged = await service.take_ticket(session, point_id=office.id, data=WalkIn(priority="elderly"), actor=ANONYMOUS)
    # Ticket 2 is an appointment not yet due; 4 and 5 are due (5's slot began first).
    for index, due in ((1, now + timedelta(hours=1)), (3, now - timedelta(minutes=10)), (4, now - timedelta(minutes=20))):
        row = await session.get(Ticket, issued[index]["id"])
        row.priority, row.due_at = "appointment", due
    await session.flush()
    places = await service.positions(session, point_id=office.id)
    by_place = [ticket_id for ticket_id, _ in sorted(places.items(), key=lambda item: item[1])]
    # The one-query look-up of a place (who is told "near") agrees with the whole line's order.
    assert [(await service.ticket_at_place(session, point_id=office.id, place=p)).id for p in range(1, 7)] == by_place
    assert await service.ticket_at_place(session, point_id=office.id, place=7) is None
    # A resident's status counts its place in the database, in the same order.
    for taken in [*issued, flagged]:
        assert (await service.ticket_status(session, ticket_id=taken["id"], code=taken["code"]))["position"] == places[taken["id"]]
    called = [(await service.call_next(session, point_id=office.id, counter=1, actor=SYSTEM)).id for _ in range(6)]
    assert by_place == called
    assert called == [issued[4]["id"], issued[3]["id"], flagged["id"], issued[0]["id"], issued[1]["id"], issued[2]["id"]]


async def test_nobody_waiting_is_no_wait_and_a_closed_board_shows_no_counter_serving(session) -> None:
    def at_counter() -> Ticket:
        return ticket(1, "serving", counter=1, called_at=NOW - timedelta(minutes=5), started_at=NOW - timedelta(minutes=4))

    board = await board_of(session, [at_counter()], hours=OPEN)
    assert board["waiting"] == 0 and board["estimated_wait_minutes"] == 0
    assert board["now_serving"] == [{"counter": 1, "number": 1, "status": "serving"}] and board["next_opening"] is None
    opening = {"date": DAY + timedelta(days=1), "time": "08:00"}
    closed = await board_of(session, [at_counter(), ticket(2)], hours=[], next_opening=opening)
    assert closed["open_now"] is False and closed["now_serving"] == [] and closed["next_opening"] == opening


def test_the_next_opening_skips_closed_days_and_past_windows() -> None:
    from api.services import service as services
    from api.services.models import Closure

    office = SimpleNamespace(
        id=1, kind="kecamatan_office", active=True, opening_hours={"mon": [["08:00", "12:00"], ["13:00", "15:00"]], "wed": [["08:00", "12:00"]]}
    )
    point = cast(Any, office)
    assert services.next_opening(point, day=DAY, hhmm="07:00", closures={}) == {"date": DAY, "time": "08:00"}  # DAY is a Monday
    assert services.next_opening(point, day=DAY, hhmm="12:30", closures={}) == {"date": DAY, "time": "13:00"}
    assert services.next_opening(point, day=DAY, hhmm="15:00", closures={}) == {"date": DAY + timedelta(days=2), "time": "08:00"}
    holiday = {(1, DAY + timedelta(days=2)): Closure(service_point_id=1, day=DAY + timedelta(days=2), hours=[], closed=True, reason="Libur")}
    assert services.next_opening(point, day=DAY, hhmm="15:00", closures=holiday) == {"date": DAY + timedelta(days=7), "time": "08:00"}


async def test_a_one_counter_office_before_its_first_call_works_through_the_line_alone(session) -> None:
    """`max(1, counters)` -> `max(0, counters)` survives, equivalently: a point has at least one
    counter (a database constraint)."""
    one_counter = SimpleNamespace(**{**vars(POINT), "counters": 1})
    board = await board_of(session, [ticket(1), ticket(2)], hours=[], point=one_counter)
    assert board["active_counters"] == 1 and board["estimated_wait_minutes"] == 20  # 2 x 10 / 1


def test_an_appointment_due_this_very_minute_is_called_first() -> None:
    """Due at `now` exactly counts as due: before elderly and disabled residents, then the rest.

    The ranks' values (0, 1, 2) and the placeholder time of tickets not due (`datetime.min`) only
    order tickets among themselves: other values in the same order are equivalent mutants."""
    due_now = ticket(3, due_at=NOW)
    elderly = ticket(1, priority="elderly")
    regular = ticket(2)
    assert sorted([regular, elderly, due_now], key=lambda t: service._call_order(t, NOW)) == [due_now, elderly, regular]
    later = ticket(4, due_at=NOW + timedelta(seconds=1))
    assert sorted([later, elderly], key=lambda t: service._call_order(t, NOW)) == [elderly, later]
