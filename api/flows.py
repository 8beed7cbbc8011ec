"""Work that joins several domains, above the domains it joins (as in Netflix Dispatch).

The routers call these instead of the domain's own service when a change in one domain has
consequences in another; the domains themselves never call each other for it (no circles).
Like services, flows flush and never commit: the request's one transaction covers both sides.

Rules
- A service point's hours or counters change (`update_service_point`), or a closure is added
  (`add_closure`): the open bookings that no longer fit are cancelled (queues), and the answer
  lists them. The slot length of a point with open bookings from today on cannot change (409).
- A ticket is completed (`move_ticket`): it is one recording, added to today's tally of the
  point's area, source `queue`, with the point.
- A home visit is marked visited (`change_visit_status`): one recording is added to the visit
  day's tally of the resident's area, source `home_visit`, with the kit. With an Idempotency-Key
  (`change_visit_status_once`: a crew's mark sent again by the app's outbox after a lost answer)
  the mark and its recording are done once, and a retry gets the first answer again.
- Notifications (api/notifications), written to the outbox in the change's own transaction:
  a ticket called (`call_next`, a recall) is `ticket.called`, and the ticket that now has
  REKAM_TICKET_NEAR_AHEAD residents before it gets `ticket.near` (once); a visit put on a day is
  `home_visit.scheduled` (`home_visit.rescheduled` when it had been), a visited one
  `home_visit.visited`; a complaint's public reply is `complaint.replied`, a step of its workflow
  `complaint.status_changed`. Payloads carry ids and public fields only.
- A request that closes (a visit visited, unreachable or cancelled; a complaint closed; a ticket
  done, no-show or cancelled) erases the phone numbers its resident gave for messages.
- A resident who asks for messages on the form (`submit_visit`, `submit_complaint`) or on the
  ticket page (`notify_ticket`) gets the tracking code (receipt) on that number at once; "kirim
  ulang kode" (`resend_codes`) sends the codes of the open requests of a number to that number
  again (rate limited per number), and answers the same whether or not the number is known.
- Tallies posted (`post_tallies`) that carry the campaign's progress across a multiple of 10 %
  emit `progress.milestone` (one per milestone crossed), after `tallies.imported`.
"""

from collections.abc import AsyncIterable, AsyncIterator, Callable
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api import calendar, idempotency
from api.campaigns import service as campaigns
from api.campaigns.models import Campaign
from api.complaints import service as complaints
from api.complaints.models import Complaint, ComplaintStatus
from api.complaints.schemas import ComplaintCreate, ComplaintDetail, ReplyCreate, TransitionCreate
from api.config import get_settings
from api.errors import RuleViolation
from api.notifications import service as notifications
from api.notifications.schemas import ContactCreate, PushSubscriptionIn
from api.principal import Principal
from api.queues import appointments
from api.queues import service as queues
from api.queues.models import Ticket
from api.services import service as services
from api.services.models import Closure, ServicePoint
from api.services.schemas import ClosureCreate, ServicePointUpdate
from api.tallies import service as tallies
from api.visits import service as visits
from api.visits.models import HomeVisit, HomeVisitMerge, VisitStatus
from api.visits.schemas import HomeVisitCreate, ScheduleRequest, StatusChange

CLOSED_VISIT = (VisitStatus.visited, VisitStatus.unreachable, VisitStatus.cancelled)
MILESTONES = tuple(range(10, 101, 10))


async def update_service_point(session: AsyncSession, *, point_id: int, data: ServicePointUpdate, actor: Principal) -> tuple[ServicePoint, list[Any]]:
    """Change a point; the bookings that no longer fit its hours or counters are cancelled."""
    bookings_open = await appointments.has_future_bookings(session, point_id=point_id)
    point = await services.update_point(session, point_id=point_id, data=data, actor=actor, bookings_open=bookings_open)
    cancelled = await appointments.cancel_bookings_outside_hours(session, point=point, actor=actor, reason="hours or counters changed")
    return point, cancelled


async def add_closure(session: AsyncSession, *, point_id: int, data: ClosureCreate, actor: Principal) -> tuple[Closure, list[Any]]:
    """Close a point for a day (or shorten it); that day's bookings that no longer fit are cancelled."""
    closure = await services.add_closure(session, point_id=point_id, data=data, actor=actor)
    point = await services.get_point(session, point_id=point_id)
    cancelled = await appointments.cancel_bookings_outside_hours(session, point=point, actor=actor, reason=f"closure: {data.reason}", day=data.day)
    return closure, cancelled


async def move_ticket(session: AsyncSession, *, ticket_id: int, move: str, actor: Principal) -> Ticket:
    """Move a ticket; a completed one is a recording in today's tally of the point's area."""
    ticket = await queues.move_ticket(session, ticket_id=ticket_id, move=move, actor=actor)
    if move == "complete":
        point = await services.get_point(session, point_id=ticket.service_point_id)
        await tallies.add_recordings(session, area_code=point.area_code, day=calendar.today(), source="queue", service_point_id=point.id, actor=actor)
    if move in ("complete", "no_show", "cancel"):
        await notifications.erase_contacts(session, subject_kind="ticket", subject_id=ticket.id)
    if move == "recall":
        point = await services.get_point(session, point_id=ticket.service_point_id)
        await _ticket_called(session, ticket=ticket, point=point, recall=True)
    return ticket


async def call_next(session: AsyncSession, *, point_id: int, counter: int, actor: Principal) -> Ticket | None:
    """Call the next resident to a counter; they are told, and so is the one now near the front."""
    ticket = await queues.call_next(session, point_id=point_id, counter=counter, actor=actor)
    if ticket is not None:
        point = await services.get_point(session, point_id=point_id)
        await _ticket_called(session, ticket=ticket, point=point)
        ahead = get_settings().ticket_near_ahead
        near = [ticket_id for ticket_id, place in (await queues.positions(session, point_id=point_id)).items() if place == ahead + 1]
        for ticket_id in near:
            waiting = await session.get(Ticket, ticket_id)
            if waiting is not None:
                await notifications.emit_once(
                    session,
                    type="ticket.near",
                    subject=("ticket", waiting.id),
                    payload={**_ticket_payload(waiting, point), "ahead": ahead},
                )
    return ticket


def _ticket_payload(ticket: Ticket, point: ServicePoint) -> dict[str, Any]:
    return {"ticket_id": ticket.id, "number": ticket.number, "day": ticket.day.isoformat(), "service_point_id": point.id, "service_point": point.name}


async def _ticket_called(session: AsyncSession, *, ticket: Ticket, point: ServicePoint, recall: bool = False) -> None:
    payload = {**_ticket_payload(ticket, point), "counter": ticket.counter, "recall": recall}
    await notifications.emit(session, type="ticket.called", payload=payload, subject=("ticket", ticket.id))


async def schedule_visit(session: AsyncSession, *, visit_id: int, data: ScheduleRequest, actor: Principal, today: date | None = None) -> HomeVisit:
    """Put a request on a kit's day; the resident (and integrations) are told the date."""
    visit = await visits.schedule(session, visit_id=visit_id, data=data, actor=actor, today=today)
    subject = ("home_visit", visit.id)
    again = await notifications.has_event(session, type="home_visit.scheduled", subject=subject)
    await notifications.emit(
        session,
        type="home_visit.rescheduled" if again else "home_visit.scheduled",
        subject=subject,
        payload={"home_visit_id": visit.id, "date": visit.visit_date.isoformat() if visit.visit_date else None, "status": visit.status},
    )
    return visit


async def change_visit_status(session: AsyncSession, *, visit_id: int, data: StatusChange, actor: Principal, today: date | None = None) -> HomeVisit:
    """Move a home visit; a visited one is a recording in the visit day's tally of the resident's area."""
    visit = await visits.change_status(session, visit_id=visit_id, data=data, actor=actor, today=today)
    if data.status == VisitStatus.visited:
        assert visit.visit_date is not None
        await tallies.add_recordings(session, area_code=visit.area_code, day=visit.visit_date, source="home_visit", device_id=visit.device_id, actor=actor)
        await notifications.emit(
            session,
            type="home_visit.visited",
            subject=("home_visit", visit.id),
            payload={"home_visit_id": visit.id, "date": visit.visit_date.isoformat(), "status": visit.status},
        )
    if data.status in CLOSED_VISIT:
        await notifications.erase_contacts(session, subject_kind="home_visit", subject_id=visit.id)
    return visit


async def change_visit_status_once(
    session: AsyncSession,
    *,
    visit_id: int,
    data: StatusChange,
    actor: Principal,
    idempotency_key: str | None,
    target: str,
    answer: Callable[[HomeVisit], dict[str, Any]],
) -> dict[str, Any]:
    """`change_visit_status` once per (caller, Idempotency-Key); `answer(visit)` is the JSON given (and replayed)."""

    async def body() -> AsyncIterator[bytes]:
        yield data.model_dump_json().encode()

    async def work(stream: AsyncIterable[bytes]) -> tuple[int, dict[str, Any]]:
        async for _ in stream:
            pass
        return 200, answer(await change_visit_status(session, visit_id=visit_id, data=data, actor=actor))

    _, payload = await idempotency.run_once(session, key=idempotency_key, actor=actor, method="POST", target=target, body=body(), work=work)
    return payload


async def reply_to_complaint(session: AsyncSession, *, complaint_id: int, data: ReplyCreate, actor: Principal) -> ComplaintDetail:
    """A public reply; the reporter who asked for messages is told there is one (not its text)."""
    detail = await complaints.reply(session, complaint_id=complaint_id, data=data, actor=actor)
    await notifications.emit(
        session, type="complaint.replied", subject=("complaint", detail.id), payload={"complaint_id": detail.id, "status": ComplaintStatus(detail.status).value}
    )
    return detail


async def transition_complaint(session: AsyncSession, *, complaint_id: int, data: TransitionCreate, actor: Principal) -> ComplaintDetail:
    """One step of a complaint's workflow; told as `complaint.status_changed`, a closed one erases the reporter's number."""
    detail = await complaints.transition(session, complaint_id=complaint_id, data=data, actor=actor)
    await notifications.emit(
        session,
        type="complaint.status_changed",
        subject=("complaint", detail.id),
        payload={"complaint_id": detail.id, "status": ComplaintStatus(detail.status).value},
    )
    if detail.status == ComplaintStatus.closed:
        await notifications.erase_contacts(session, subject_kind="complaint", subject_id=detail.id)
    return detail


async def submit_visit(session: AsyncSession, *, data: HomeVisitCreate, actor: Principal, today: date | None = None) -> HomeVisit | HomeVisitMerge:
    """A resident's home-visit request; with `messages`, its tracking code goes to the phone given.
    A submission merged into an open request (api/visits/service.py) keeps no contact for
    messages: "kirim ulang kode" to it would send the open request's code to another phone."""
    visit = await visits.submit(session, data=data, actor=actor, today=today)
    if data.messages and isinstance(visit, HomeVisit):
        contact = ContactCreate(phone=data.phone, channel=data.messages, consent=True)
        await notifications.add_contact(session, subject_kind="home_visit", subject_id=visit.id, data=contact)
        await notifications.send_code(session, subject_kind="home_visit", subject_id=visit.id, code=visit.tracking_code)
    return visit


async def submit_complaint(session: AsyncSession, *, data: ComplaintCreate, actor: Principal) -> Complaint:
    """A fee complaint; with `notify_phone`, its receipt and later replies go to that number."""
    complaint = await complaints.submit(session, data=data, actor=actor)
    if data.notify_phone:
        try:
            contact = ContactCreate(phone=data.notify_phone, channel=data.notify_by, consent=True)
            await notifications.add_contact(session, subject_kind="complaint", subject_id=complaint.id, data=contact)
        except RuleViolation as exc:
            raise RuleViolation.on_field("notify_phone", code=exc.code, params=exc.params) from None
        await notifications.send_code(session, subject_kind="complaint", subject_id=complaint.id, code=complaint.receipt)
    return complaint


async def notify_ticket(session: AsyncSession, *, ticket_id: int, contact: ContactCreate | None = None, push: PushSubscriptionIn | None = None) -> None:
    """The ticket page: tell this phone (or this browser) when the turn is near and when it is called."""
    ticket = await queues.open_ticket(session, ticket_id=ticket_id)
    if contact is not None:
        await notifications.add_contact(session, subject_kind="ticket", subject_id=ticket.id, data=contact)
    if push is not None:
        await notifications.add_push_contact(session, subject_kind="ticket", subject_id=ticket.id, data=push)


async def resend_codes(session: AsyncSession, *, phone: str) -> None:
    """ "kirim ulang kode": the codes of this number's open requests, to this number (nothing to anyone else)."""
    sent: set[tuple[str, int]] = set()
    for contact in await notifications.contacts_for_phone(session, phone=phone):
        subject = (contact.subject_kind, contact.subject_id)
        if subject in sent:
            continue
        sent.add(subject)
        code = None
        if contact.subject_kind == "home_visit":
            code = await visits.tracking_code_of(session, visit_id=contact.subject_id)
        elif contact.subject_kind == "complaint":
            code = await complaints.receipt_of(session, complaint_id=contact.subject_id)
        if code:
            await notifications.send_code(session, subject_kind=contact.subject_kind, subject_id=contact.subject_id, code=code, phone=contact.phone)


async def send_appointment_reminders(session: AsyncSession, *, day: date) -> int:
    """`appointment.reminder` for each appointment still booked on `day` (once each); returns how many are new."""
    sent = 0
    for appointment, point in await appointments.booked_on(session, day=day):
        event = await notifications.emit_once(
            session,
            type="appointment.reminder",
            subject=("appointment", appointment.id),
            payload={
                "appointment_id": appointment.id,
                "date": appointment.day.isoformat(),
                "time": appointment.slot_start,
                "until": appointment.slot_end,
                "service_point_id": point.id,
                "service_point": point.name,
            },
        )
        sent += event is not None
    return sent


async def _percent(session: AsyncSession, campaign: Campaign) -> float | None:
    node = await campaigns.progress(session, campaign=campaign, area=None, depth=0)
    return node.percent


async def post_tallies(session: AsyncSession, *, campaign: Campaign, **arguments: Any) -> tuple[int, dict[str, Any]]:
    """Post tallies (api.tallies); a progress milestone they reach is told as `progress.milestone`."""
    before = await _percent(session, campaign)
    status, answer = await tallies.post_tallies(session, campaign=campaign, **arguments)
    if status < 400 and not arguments.get("dry_run") and before is not None:
        after = await _percent(session, campaign)
        for milestone in (m for m in MILESTONES if after is not None and before < m <= after):
            await notifications.emit(
                session,
                type="progress.milestone",
                payload={"campaign_id": campaign.id, "area": campaign.root_area_code, "milestone": milestone, "percent": after},
            )
    return status, answer
