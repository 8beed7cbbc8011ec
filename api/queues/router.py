from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from fastapi.responses import StreamingResponse

from api import flows
from api.area_codes import AreaQuery
from api.auth.dependencies import BookingLimit, CurrentPrincipal, PublicWriteLimit, require
from api.db import WRITES, IdPath, SessionDep
from api.errors import problem_responses
from api.idempotency import CreatingRoute
from api.middleware import client_var
from api.notifications.schemas import ContactCreate, PushSubscriptionIn, TicketContactCreate, TicketPushIn
from api.pagination import Page, PageDep, page_of
from api.principal import Principal
from api.queues import appointments, live, service
from api.queues.schemas import (
    AppointmentRead,
    Board,
    BookingCreate,
    CallNext,
    Slot,
    TicketDetail,
    TicketIssued,
    TicketRead,
    TicketStatusRead,
    WalkIn,
)
from api.types import BoundedDate, Role

router = APIRouter(tags=["queues"], route_class=CreatingRoute)

# Counter work: the operator of the point, or staff whose area holds it (checked in the service).
CounterDep = Annotated[Principal, Depends(require(Role.admin, Role.supervisor, Role.operator))]
StaffReadDep = Annotated[Principal, Depends(require(Role.admin, Role.supervisor, Role.operator, Role.viewer))]
SSE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/event-stream": {}},
        "description": "A stream of Server-Sent Events. Event types: "
        + "; ".join(f"`{name}`: {text}" for name, text in live.EVENT_TYPES.items())
        + ". Every event has an `id:`. Snapshot on connect: every connection (a reconnect with `Last-Event-ID` included) starts with the current "
        "snapshot, then each change; missed changes are not replayed. `: heartbeat` comment lines keep the connection open.",
    }
}
LastEventId = Annotated[
    str | None,
    Header(alias="Last-Event-ID", max_length=100, description="Sent by EventSource on reconnect. The stream starts with the current snapshot either way."),
]


@router.post("/service-points/{point_id}/tickets", response_model=TicketIssued, status_code=201, responses=problem_responses(404, 409, 422, 429))
async def take_ticket(point_id: IdPath, data: WalkIn, principal: PublicWriteLimit, session: SessionDep) -> TicketIssued:
    """Take a number at a point: your place in line and the estimated wait.

    Taken remotely (without signing in), one active number per point and day per phone: a second
    is 409 with code `queue.number_held` until the first is served, a no-show or cancelled. A kiosk
    or staff (signed in) issue numbers without that cap."""
    return TicketIssued(**await service.take_ticket(session, point_id=point_id, data=data, actor=principal, phone=client_var.get()))


@router.post(
    "/service-points/{point_id}/call-next",
    response_model=TicketRead,
    responses={204: {"description": "Nobody is waiting."}, **problem_responses(401, 403, 404, 422, 503)},
)
async def call_next(point_id: IdPath, data: CallNext, principal: CounterDep, session: SessionDep) -> TicketRead | Response:
    """Call the next resident to a counter (priority first, then arrival); 204 when nobody waits."""
    ticket = await flows.call_next(session, point_id=point_id, counter=data.counter, actor=principal)
    if ticket is None:
        return Response(status_code=204)
    return TicketRead.model_validate(ticket)


def _move(move: str, doc: str):
    async def endpoint(ticket_id: IdPath, principal: CounterDep, session: SessionDep) -> TicketRead:
        return TicketRead.model_validate(await flows.move_ticket(session, ticket_id=ticket_id, move=move, actor=principal))

    endpoint.__doc__ = doc
    endpoint.__name__ = f"ticket_{move}"
    return endpoint


for _path, _move_name, _doc in (
    ("start", "start", "Start recording the called resident."),
    ("complete", "complete", "Finish: the recording is counted in today's tally."),
    ("no-show", "no_show", "The called resident did not come."),
    ("recall", "recall", "Call the same ticket again (it stays at its counter)."),
    ("cancel", "cancel", "Cancel a waiting or called ticket."),
):
    router.add_api_route(
        f"/tickets/{{ticket_id}}/{_path}",
        _move(_move_name, _doc),
        methods=["POST"],
        response_model=TicketRead,
        responses=problem_responses(401, 403, 404, 409, 422),
        name=f"ticket_{_move_name}",
    )


@router.get("/tickets/{ticket_id}/status/{code}", response_model=TicketStatusRead, responses=problem_responses(404))
async def ticket_status(ticket_id: IdPath, code: Annotated[str, Path(min_length=8, max_length=24)], session: SessionDep) -> TicketStatusRead:
    """A resident's own ticket, read with the code it was issued with: status, counter, place in line, wait."""
    return TicketStatusRead(**await service.ticket_status(session, ticket_id=ticket_id, code=code))


@router.get("/tickets/{ticket_id}", response_model=TicketDetail, responses=problem_responses(401, 403, 404), dependencies=[WRITES])
async def get_ticket(ticket_id: IdPath, principal: StaffReadDep, session: SessionDep) -> TicketDetail:
    """One ticket with the name on it, for staff of its point (the read is audited)."""
    return TicketDetail.model_validate(await service.get_ticket(session, ticket_id=ticket_id, actor=principal))


@router.get("/service-points/{point_id}/queue", response_model=Board, responses=problem_responses(404))
async def queue_board(point_id: IdPath, session: SessionDep) -> Board:
    """A point's queue now: waiting, now serving per counter, estimated wait and today's figures."""
    return Board(**await service.board(session, point_id=point_id))


@router.get("/queues", response_model=Page[Board], responses=problem_responses(422))
async def city_board(session: SessionDep, page: PageDep, area: AreaQuery = None) -> Page[Board]:
    """The queue of every point open today in an area: the city board."""
    return page_of([Board(**b) for b in await service.city_board(session, area=area)], page)


@router.get("/service-points/{point_id}/queue/events", response_class=StreamingResponse, responses={**SSE_RESPONSE, **problem_responses(404)})
async def queue_events(point_id: IdPath, session: SessionDep, last_event_id: LastEventId = None) -> StreamingResponse:
    """Live board of one point (Server-Sent Events): the current board first, then calls and changes."""
    subscriber, initial = await service.open_point_stream(session, point_id=point_id)
    return StreamingResponse(live.stream(subscriber, initial), media_type="text/event-stream", headers=live.SSE_HEADERS)


@router.get("/queues/events", response_class=StreamingResponse, responses={**SSE_RESPONSE, **problem_responses(422)})
async def city_events(session: SessionDep, area: AreaQuery = None, last_event_id: LastEventId = None) -> StreamingResponse:
    """Live city board (Server-Sent Events): every open point's board first, then calls and changes."""
    subscriber, initial = await service.open_city_stream(session, area=area)
    return StreamingResponse(live.stream(subscriber, initial), media_type="text/event-stream", headers=live.SSE_HEADERS)


@router.get("/service-points/{point_id}/slots", response_model=Page[Slot], responses=problem_responses(404, 422))
async def list_slots(
    point_id: IdPath, session: SessionDep, page: PageDep, day: Annotated[BoundedDate, Query(alias="date", description="YYYY-MM-DD")]
) -> Page[Slot]:
    """Appointment slots of a point on a date, with the seats left."""
    return page_of([Slot(**s) for s in await appointments.slots(session, point_id=point_id, day=day)], page)


@router.post("/service-points/{point_id}/appointments", response_model=AppointmentRead, status_code=201, responses=problem_responses(404, 409, 422, 429))
async def book(point_id: IdPath, data: BookingCreate, principal: BookingLimit, session: SessionDep) -> AppointmentRead:
    """Book a slot; keep the code to cancel or check in.

    Where the campaign caps bookings by NIK, a public booking needs `nik`, and one NIK holds at most
    one booking per day: a second is 409 with code `appointment.nik_booked` (cancel the first to
    book another). Staff booking for a resident are not capped."""
    return AppointmentRead.model_validate(await appointments.book(session, point_id=point_id, data=data, actor=principal))


@router.get("/appointments/{code}", response_model=AppointmentRead, responses=problem_responses(404))
async def get_appointment(code: str, session: SessionDep) -> AppointmentRead:
    """A booking by its code."""
    return AppointmentRead.model_validate(await appointments.get_appointment(session, code=code[:24]))


@router.post("/appointments/{code}/cancel", response_model=AppointmentRead, responses=problem_responses(404, 409))
async def cancel_appointment(code: str, principal: CurrentPrincipal, session: SessionDep) -> AppointmentRead:
    """Cancel a booking with its code."""
    return AppointmentRead.model_validate(await appointments.cancel_appointment(session, code=code[:24], actor=principal))


@router.post("/appointments/{code}/check-in", response_model=TicketIssued, responses=problem_responses(401, 403, 404, 409))
async def check_in(code: str, principal: CounterDep, session: SessionDep) -> TicketIssued:
    """Check a resident in on the day: the booking becomes a ticket that goes first from its slot."""
    return TicketIssued(**await appointments.check_in(session, code=code[:24], actor=principal))


@router.post("/tickets/{ticket_id}/notify", status_code=204, responses=problem_responses(404, 422, 429))
async def notify_ticket(ticket_id: IdPath, data: TicketContactCreate, caller: PublicWriteLimit, session: SessionDep) -> Response:
    """Be told by WhatsApp or SMS when the turn is near and when it is called (with the ticket's code; the number is erased when the ticket closes)."""
    contact = ContactCreate(phone=data.phone, channel=data.channel, consent=data.consent)
    await flows.notify_ticket(session, ticket_id=ticket_id, code=data.code, contact=contact)
    return Response(status_code=204)


@router.post("/tickets/{ticket_id}/push", status_code=204, responses=problem_responses(404, 422, 429))
async def push_ticket(ticket_id: IdPath, data: TicketPushIn, caller: PublicWriteLimit, session: SessionDep) -> Response:
    """This browser is told (Web Push) when the turn is near and when it is called (with the ticket's code)."""
    push = PushSubscriptionIn.model_validate(data.model_dump(exclude={"code"}))
    await flows.notify_ticket(session, ticket_id=ticket_id, code=data.code, push=push)
    return Response(status_code=204)
