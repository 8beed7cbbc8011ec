"""Who may use the queue endpoints (see tests/access.py).

Counter work is for the point's operator and for staff whose area holds the point. The two live
streams are public; their cases ask for an unknown point / a malformed area, because a stream
that opens never ends and the matrix needs an answer (the streams are tested in test_live.py).
"""

from datetime import UTC, datetime, timedelta

from api import calendar
from api.principal import ANONYMOUS, SYSTEM
from api.queues import appointments, service
from api.queues.models import Appointment
from api.queues.schemas import BookingCreate, WalkIn
from tests.access import CALLERS, Case, Request, public_read
from tests.services.factories import make_office

COUNTER = {"anonymous": 401, "admin": 200, "supervisor_in": 200, "operator_in": 200}
STAFF_OF_POINT = {"anonymous": 401, "admin": 200, "viewer": 200, "supervisor_in": 200, "operator_in": 200, "supervisor_out": 404, "operator_out": 404}


async def office(session) -> Request:
    point = await make_office(session)
    return Request(path_params={"point_id": point.id}, service_point_id=point.id)


async def walk_in(session) -> Request:
    request = await office(session)
    request.json = {}
    return request


async def waiting(session) -> Request:
    request = await office(session)
    await service.take_ticket(session, point_id=request.service_point_id, data=WalkIn(), actor=ANONYMOUS)
    request.json = {"counter": 1}
    return request


def ticket_in(state: str):
    async def setup(session) -> Request:
        point = await make_office(session)
        issued = await service.take_ticket(session, point_id=point.id, data=WalkIn(name="Ani"), actor=ANONYMOUS)
        if state in ("called", "serving"):
            await service.call_next(session, point_id=point.id, counter=1, actor=SYSTEM)
        if state == "serving":
            await service.move_ticket(session, ticket_id=issued["id"], move="start", actor=SYSTEM)
        return Request(path_params={"ticket_id": issued["id"]}, service_point_id=point.id)

    return setup


async def slots(session) -> Request:
    request = await office(session)
    request.params = {"date": (calendar.today() + timedelta(days=1)).isoformat()}
    return request


async def booking_request(session) -> Request:
    request = await office(session)
    request.json = {"date": (calendar.today() + timedelta(days=1)).isoformat(), "start": "09:00"}
    return request


async def own_ticket(session) -> Request:
    point = await make_office(session)
    issued = await service.take_ticket(session, point_id=point.id, data=WalkIn(), actor=ANONYMOUS)
    return Request(path_params={"ticket_id": issued["id"], "code": issued["code"]}, service_point_id=point.id)


async def booking(session) -> Request:
    point = await make_office(session)
    made = await appointments.book(session, point_id=point.id, data=BookingCreate(date=calendar.today() + timedelta(days=1), start="09:00"), actor=ANONYMOUS)
    return Request(path_params={"code": made.code}, service_point_id=point.id)


async def booking_today(session) -> Request:
    point = await make_office(session)
    made = Appointment(
        code=f"ci{point.id:010d}",
        service_point_id=point.id,
        day=calendar.today(),
        slot_start="00:00",
        slot_end="00:10",
        seat=1,
        status="booked",
        created_at=datetime.now(UTC),
    )
    session.add(made)
    await session.flush()
    return Request(path_params={"code": made.code}, service_point_id=point.id)


async def unknown_point(_) -> Request:
    return Request(path_params={"point_id": 987654321})


async def bad_area(_) -> Request:
    return Request(params={"area": "not-an-area"})


CASES = [
    public_read("POST", "/api/v1/service-points/{point_id}/tickets", setup=walk_in, status=201),
    Case("POST", "/api/v1/service-points/{point_id}/call-next", expect=COUNTER, setup=waiting),
    *(
        Case("POST", f"/api/v1/tickets/{{ticket_id}}/{path}", expect=COUNTER, setup=ticket_in(state))
        for path, state in (
            ("start", "called"),
            ("complete", "serving"),
            ("no-show", "called"),
            ("recall", "called"),
            ("cancel", "waiting"),
        )
    ),
    Case("GET", "/api/v1/tickets/{ticket_id}", expect=STAFF_OF_POINT, setup=ticket_in("waiting")),
    public_read("GET", "/api/v1/service-points/{point_id}/queue", setup=office),
    public_read("GET", "/api/v1/queues"),
    Case("GET", "/api/v1/service-points/{point_id}/queue/events", expect=dict.fromkeys(CALLERS, 404), setup=unknown_point, note="an open stream never ends"),
    Case("GET", "/api/v1/queues/events", expect=dict.fromkeys(CALLERS, 422), setup=bad_area, note="an open stream never ends"),
    public_read("GET", "/api/v1/service-points/{point_id}/slots", setup=slots),
    public_read("POST", "/api/v1/service-points/{point_id}/appointments", setup=booking_request, status=201),
    public_read("GET", "/api/v1/appointments/{code}", setup=booking),
    public_read("GET", "/api/v1/tickets/{ticket_id}/status/{code}", setup=own_ticket),
    public_read("POST", "/api/v1/appointments/{code}/cancel", setup=booking),
    Case("POST", "/api/v1/appointments/{code}/check-in", expect=COUNTER, setup=booking_today),
]
