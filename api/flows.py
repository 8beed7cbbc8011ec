"""Work that joins several domains, above the domains it joins (as in Netflix Dispatch).

The routers call these instead of the domain's own service when a change in one domain has
consequences in another; the domains themselves never call each other for it (no circles).
Like services, flows flush and never commit: the request's one transaction covers both sides.

Rules
- A service point's hours or counters change (`update_service_point`), or a closure is added
  (`add_closure`): the open bookings that no longer fit are cancelled (queues), and the answer
  lists them. The slot length of a point with open bookings from today on cannot change (409).
  With `dry_run` the same work is done inside a savepoint and undone: the answer lists the
  bookings the change would cancel, so that staff see them before they confirm.
- A ticket is completed (`move_ticket`): it is one recording, added to today's tally of the
  point's area, source `queue`, with the point.
- A home visit is marked visited (`change_visit_status`): one recording is added to the visit
  day's tally of the resident's area, source `home_visit`, with the kit. With an Idempotency-Key
  (`change_visit_status_once`: a crew's mark sent again by the app's outbox after a lost answer)
  the mark and its recording are done once, and a retry gets the first answer again.
- Areas added, renamed or loaded from the official list (`add_area_unit`, `update_area_unit`,
  `load_official_areas`) appear in every campaign's progress tree: the campaigns' data versions
  change with them (api.campaigns.versions), so no cached progress answer shows the old tree.
- Booking a device or an operator (`set_event_crew` for a weekend service, `allocate_device` and
  `assign_operator` at a service point, `apply_plan`, a weekend service moved to another day by
  `update_service_point`) is weighed by api.commitments against every domain's bookings of those
  days: a weekend service's crew before it is written, a placement once written (a refusal rolls
  the request back). What a weekend service adds must be posted inside the caller's scope.
- The devices' capacity view and allocation plan (`capacity`, `plan`, `apply_plan`) weigh what
  stands in each kecamatan against what it still has to record, read from campaign progress.
- A service point's staff enter the day's count (`put_point_count`): the point's own tally in the
  campaign running there that day (api.tallies), on a day already begun, and for a weekend
  service only on its date.
- Notifications (api/notifications), written to the outbox in the change's own transaction:
  a ticket called (`call_next`, a recall) is `ticket.called`, and the ticket that now has
  REKAM_TICKET_NEAR_AHEAD residents before it gets `ticket.near` (once); a visit put on a day is
  `home_visit.scheduled` (`home_visit.rescheduled` when it had been), a visited one
  `home_visit.visited`; a complaint's public reply is `complaint.replied`, a step of its workflow
  `complaint.status_changed`. Payloads carry ids and public fields only.
- A request that closes (a visit visited, unreachable or cancelled; a complaint closed; a ticket
  done, no-show or cancelled) erases the phone numbers its resident gave for messages. A ticket's
  queue ends with its day: the worker's job `erase_past_ticket_contacts` erases the numbers of
  past days' tickets that nobody closed.
- A resident who asks for messages on the form (`submit_visit`, `submit_complaint`) or on the
  ticket page (`notify_ticket`, with the ticket's code: nobody subscribes to another's ticket) gets the tracking code (receipt) on that number at once; "kirim
  ulang kode" (`resend_codes`) sends the codes of the open requests of a number to that number
  again (rate limited per number), and answers the same whether or not the number is known.
- The weekend-service planner (`weekend_plan`) joins the RW/RT and events of services, the
  kelurahan progress of campaigns and the free crew of commitments; its ranking rule is
  api/services/planner.py's. A supervisor plans inside their area; the date is a Saturday or a
  Sunday from today on.
- Appointment reminders (`send_due_reminders`) are a periodic job of the notifications worker
  (`worker_jobs`; every REKAM_APPOINTMENT_REMINDER_SECONDS, inside `rekam serve` or `rekam worker`):
  tomorrow's bookings get `appointment.reminder` the day before, today's made before today and
  not yet started get it too; once per appointment, even with several processes (the rows are
  locked while reminded). `rekam notify reminders` does the same for one day, by hand or cron.
- A campaign whose progress reaches a multiple of 10 % of its target emits `progress.milestone`,
  once per milestone, whatever recorded it (`tell_milestones`, a job of the notifications worker
  every REKAM_MILESTONE_SECONDS; not in the writes, which would otherwise read the campaign's
  whole progress twice while holding the day's rows).
"""

from collections.abc import AsyncIterable, AsyncIterator, Callable
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, AsyncSessionTransaction

from api import calendar, idempotency
from api.area_codes import KECAMATAN_DEPTH, depth_of
from api.areas import service as areas
from api.areas.models import Area
from api.areas.schemas import AreaCreate, AreaUpdate
from api.campaigns import service as campaigns
from api.campaigns import versions
from api.campaigns.models import Campaign
from api.commitments import service as commitments
from api.complaints import service as complaints
from api.complaints.models import Complaint, ComplaintStatus
from api.complaints.schemas import ComplaintCreate, ComplaintDetail, ReplyCreate, TransitionCreate
from api.config import Settings, get_settings
from api.devices import service as devices
from api.devices.models import Allocation, OperatorAssignment
from api.devices.schemas import AllocationRead, AssignmentRead, CapacityRead, PlacementCreate, PlanApplied, PlanRead, PlanRequest
from api.errors import RuleViolation
from api.notifications import service as notifications
from api.notifications.schemas import ContactCreate, PushSubscriptionIn
from api.notifications.worker import Job
from api.principal import Principal, ensure_area, ensure_service_point
from api.progress import service as progress
from api.queues import appointments
from api.queues import service as queues
from api.queues.models import Ticket
from api.services import planner
from api.services import service as services
from api.services.models import ServicePoint, ServicePointKind
from api.services.schemas import AssignmentsPut, ClosureCreate, FreeDevice, FreeOperator, PlannedUnit, ServicePointUpdate, WeekendPlan
from api.tallies import service as tallies
from api.tallies.schemas import PointCountPut, PointCountRead
from api.types import AreaLevel, Role
from api.visits import service as visits
from api.visits.models import HomeVisit, HomeVisitMerge, VisitStatus
from api.visits.schemas import HomeVisitCreate, ScheduleRequest, StatusChange

CLOSED_VISIT = (VisitStatus.visited, VisitStatus.unreachable, VisitStatus.cancelled)
MILESTONES = tuple(range(10, 101, 10))


async def add_area_unit(session: AsyncSession, *, data: AreaCreate, actor: Principal) -> Area:
    area = await areas.create_unit(session, data=data, actor=actor)
    await versions.touch_all(session)
    return area


async def update_area_unit(session: AsyncSession, *, code: str, data: AreaUpdate, actor: Principal) -> Area:
    area = await areas.update_unit(session, code=code, data=data, actor=actor)
    await versions.touch_all(session)
    return area


async def load_official_areas(connection: AsyncConnection, *, prefix: str | None) -> int:
    count = await areas.load_official(connection, prefix=prefix)
    await versions.touch_all(connection)  # names may have changed under running campaigns
    return count


async def remaining_by_kecamatan(session: AsyncSession, *, campaign: Campaign) -> list[devices.Remaining]:
    """The campaign's kecamatan (the root itself if it is one or lies below one), with what remains."""
    root = campaign.root_area_code
    depth = max(KECAMATAN_DEPTH - depth_of(root), 0)
    tree = await progress.progress(session, campaign=campaign, area=root, depth=depth)
    found, stack = [], [tree]
    while stack:
        node = stack.pop()
        if node.level == AreaLevel.kecamatan or (depth == 0 and node.code == root):
            found.append(node)
        stack.extend(node.children)
    # A kecamatan without a target has nothing to record as far as this campaign knows.
    return [devices.Remaining(n.code, n.name, n.remaining or 0) for n in sorted(found, key=lambda n: n.code)]


async def capacity(session: AsyncSession, *, campaign: Campaign, as_of: date | None = None) -> CapacityRead:
    return await devices.capacity(session, campaign=campaign, remaining=await remaining_by_kecamatan(session, campaign=campaign), as_of=as_of)


async def plan(session: AsyncSession, *, campaign: Campaign, request: PlanRequest) -> PlanRead:
    return await devices.plan(session, campaign=campaign, remaining=await remaining_by_kecamatan(session, campaign=campaign), request=request)


async def apply_plan(session: AsyncSession, *, campaign: Campaign, request: PlanRequest, actor: Principal) -> PlanApplied:
    remaining = await remaining_by_kecamatan(session, campaign=campaign)
    applied = await devices.apply_plan(session, campaign=campaign, remaining=remaining, request=request, actor=actor)
    for allocation in applied.allocations:
        await _ensure_not_booked(allocation, who={"device_id": allocation.device_id}, what="device", session=session)
    for assignment in applied.assignments:
        await _ensure_not_booked(assignment, who={"operator_id": assignment.operator_id}, what="operator", session=session)
    return applied


async def update_service_point(
    session: AsyncSession, *, point_id: int, data: ServicePointUpdate, actor: Principal, dry_run: bool = False
) -> tuple[Any, list[Any]]:
    """Change a point; the bookings that no longer fit its hours or counters are cancelled. A
    weekend service moved to another day takes its crew along, who must be free that day."""
    savepoint = await session.begin_nested() if dry_run else None
    point = await services.get_point(session, point_id=point_id)
    if point.kind == ServicePointKind.weekend_event and data.event_date is not None and data.event_date != point.event_date:
        ensure_area(actor, point.area_code)
        crew = await services.get_assignments(session, point_id=point.id)
        await commitments.ensure_event_crew_free(
            session, point_id=point.id, day=data.event_date, device_ids=crew["device_ids"], operator_ids=crew["operator_ids"]
        )
    bookings_open = await appointments.has_future_bookings(session, point_id=point_id)
    point = await services.update_point(session, point_id=point_id, data=data, actor=actor, bookings_open=bookings_open)
    cancelled = await appointments.cancel_bookings_outside_hours(session, point=point, actor=actor, reason="hours or counters changed")
    if savepoint is None:
        return point, cancelled
    return await _undone(savepoint, point, cancelled)


async def set_event_crew(session: AsyncSession, *, point_id: int, data: AssignmentsPut, actor: Principal) -> dict[str, Any]:
    """Replace the devices and operators of a weekend service; each must be free that day, and what
    the request adds must be posted inside the caller's scope (keeping or removing a crew member
    someone else booked is the point's business)."""
    point = await services.get_point(session, point_id=point_id)
    if point.kind == ServicePointKind.weekend_event and point.event_date is not None:  # services refuses the others
        ensure_area(actor, point.area_code)
        before = await services.get_assignments(session, point_id=point.id)
        device_ids, operator_ids = list(dict.fromkeys(data.device_ids)), list(dict.fromkeys(data.operator_ids))
        await devices.ensure_crew_in_scope(
            session, actor=actor, day=point.event_date,
            devices={f"device_ids.{i}": d for i, d in enumerate(device_ids) if d not in before["device_ids"]},
            operators={f"operator_ids.{i}": o for i, o in enumerate(operator_ids) if o not in before["operator_ids"]},
        )  # fmt: skip
        await commitments.ensure_event_crew_free(session, point_id=point.id, day=point.event_date, device_ids=device_ids, operator_ids=operator_ids)
    return await services.set_assignments(session, point_id=point_id, data=data, actor=actor)


async def allocate_device(session: AsyncSession, *, device_id: int, data: PlacementCreate, actor: Principal) -> Allocation:
    allocation = await devices.allocate_device(session, device_id=device_id, data=data, actor=actor)
    await _ensure_not_booked(allocation, who={"device_id": device_id}, what="device", session=session)
    return allocation


async def assign_operator(session: AsyncSession, *, operator_id: int, data: PlacementCreate, actor: Principal) -> OperatorAssignment:
    assignment = await devices.assign_operator(session, operator_id=operator_id, data=data, actor=actor)
    await _ensure_not_booked(assignment, who={"operator_id": operator_id}, what="operator", session=session)
    return assignment


async def _ensure_not_booked(
    period: Allocation | OperatorAssignment | AllocationRead | AssignmentRead, *, who: dict[str, int], what: str, session: AsyncSession
) -> None:
    """A placement at a service point must not take a device or operator from a weekend service or
    home visits on its days (checked once the placement is written: a refusal rolls it back)."""
    if period.service_point_id is not None:
        until = period.ends_on or date.max
        await commitments.ensure_not_booked(session, who=who, service_point_id=period.service_point_id, starts_on=period.starts_on, until=until, what=what)


async def put_point_count(session: AsyncSession, *, point_id: int, day: date, data: PointCountPut, actor: Principal) -> PointCountRead:
    point = await services.get_point(session, point_id=point_id)
    ensure_service_point(actor, service_point_id=point.id, area_code=point.area_code)
    campaign = await campaigns.campaign_for_area(session, area_code=point.area_code, on=day)
    if day > campaigns.today_for(campaign):
        raise RuleViolation.on_field("date", location="path", code="count.before_day")
    if point.kind == ServicePointKind.weekend_event and day != point.event_date:
        raise RuleViolation.on_field("date", location="path", code="count.event_day", params={"day": point.event_date})
    await tallies.put_point_count(
        session,
        campaign_id=campaign.id,
        root=campaign.root_area_code,
        area_code=point.area_code,
        day=day,
        service_point_id=point.id,
        count=data.count,
        actor=actor,
    )
    return PointCountRead(campaign_id=campaign.id, service_point_id=point.id, area=point.area_code, date=day, count=data.count)


async def add_closure(session: AsyncSession, *, point_id: int, data: ClosureCreate, actor: Principal, dry_run: bool = False) -> tuple[Any, list[Any]]:
    """Close a point for a day (or shorten it); that day's bookings that no longer fit are cancelled."""
    savepoint = await session.begin_nested() if dry_run else None
    closure = await services.add_closure(session, point_id=point_id, data=data, actor=actor)
    point = await services.get_point(session, point_id=point_id)
    cancelled = await appointments.cancel_bookings_outside_hours(session, point=point, actor=actor, reason=f"closure: {data.reason}", day=data.day)
    if savepoint is None:
        return closure, cancelled
    return await _undone(savepoint, closure, cancelled)


def _copy(row: Any) -> SimpleNamespace:
    """A row's column values, kept apart from the session (a rolled-back row's attributes expire)."""
    return SimpleNamespace(**{column.key: getattr(row, column.key) for column in row.__table__.columns})


async def _undone(savepoint: AsyncSessionTransaction, row: Any, cancelled: list[Any]) -> tuple[SimpleNamespace, list[SimpleNamespace]]:
    """A dry run's answer: copies of what the change made, then the change rolled back."""
    answer = _copy(row), [_copy(booking) for booking in cancelled]
    await savepoint.rollback()
    return answer


async def move_ticket(session: AsyncSession, *, ticket_id: int, move: str, actor: Principal) -> Ticket:
    """Move a ticket; a completed one is a recording in today's tally of the point's area."""
    ticket, point = await queues.move_ticket(session, ticket_id=ticket_id, move=move, actor=actor)
    if move in ("complete", "no_show", "cancel"):
        await notifications.erase_contacts(session, subject_kind="ticket", subject_id=ticket.id)
    if move == "complete":  # last: it locks the day's rollups every completion adds to, until COMMIT
        await tallies.add_recordings(session, area_code=point.area_code, day=calendar.today(), source="queue", service_point_id=point.id, actor=actor)
    if move == "recall":
        await _ticket_called(session, ticket=ticket, point=point, recall=True)
    return ticket


async def call_next(session: AsyncSession, *, point_id: int, counter: int, actor: Principal) -> Ticket | None:
    """Call the next resident to a counter; they are told, and so is the one now near the front."""
    # Loaded (and held) here, so that the queue's own look-up of the point finds it in the session.
    point = await services.get_point(session, point_id=point_id)
    ticket = await queues.call_next(session, point_id=point_id, counter=counter, actor=actor)
    if ticket is not None:
        await _ticket_called(session, ticket=ticket, point=point)
        ahead = get_settings().ticket_near_ahead
        waiting = await queues.ticket_at_place(session, point_id=point_id, place=ahead + 1)
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


async def notify_ticket(
    session: AsyncSession, *, ticket_id: int, code: str, contact: ContactCreate | None = None, push: PushSubscriptionIn | None = None
) -> None:
    """The ticket page: tell this phone (or this browser) when the turn is near and when it is called.
    Only the ticket's holder may: the ticket's code comes with the request (404 otherwise)."""
    ticket = await queues.open_ticket(session, ticket_id=ticket_id, code=code)
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


async def send_appointment_reminders(session: AsyncSession, *, day: date, booked_before: date | None = None, after: str | None = None) -> int:
    """`appointment.reminder` for each appointment still booked on `day` (once each); returns how many are new.

    `booked_before`: only bookings made before that day (local); `after`: only slots starting after that time ("HH:MM")."""
    sent = 0
    for appointment, point in await appointments.booked_on(session, day=day, lock=True):
        if after is not None and appointment.slot_start <= after:
            continue
        if booked_before is not None and calendar.local_date(appointment.created_at) >= booked_before:
            continue
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


async def send_due_reminders(session: AsyncSession) -> int:
    """The worker's reminder job: tomorrow's bookings are reminded the day before; today's bookings
    made before today whose slot is still ahead are reminded too (the server was down yesterday)."""
    today = calendar.today()
    tomorrow = await send_appointment_reminders(session, day=today + timedelta(days=1))
    late = await send_appointment_reminders(session, day=today, booked_before=today, after=calendar.local_hhmm(calendar.now_utc()))
    return tomorrow + late


async def erase_past_ticket_contacts(session: AsyncSession) -> int:
    """Numbers given for tickets of past days go, whatever the ticket's status: a queue ends with its day
    (a ticket nobody closed is no longer open). Returns how many tickets' contacts were erased."""
    kept = await notifications.subjects_with_live_contacts(session, subject_kind="ticket")
    past = await queues.tickets_before(session, ticket_ids=kept, day=calendar.today())
    for ticket_id in past:
        await notifications.erase_contacts(session, subject_kind="ticket", subject_id=ticket_id)
    return len(past)


def worker_jobs(settings: Settings | None = None) -> list[Job]:
    """The periodic jobs of the notifications worker (`rekam serve`, `rekam worker`): no cron needed."""
    settings = settings or get_settings()
    return [
        Job("appointment.reminder", settings.appointment_reminder_seconds, send_due_reminders),
        Job("ticket.contacts_erased", settings.appointment_reminder_seconds, erase_past_ticket_contacts),
        Job("progress.milestone", settings.milestone_seconds, tell_milestones),
    ]


async def tell_milestones(session: AsyncSession, *, tell: bool = True) -> int:
    """The worker's milestone job: each campaign whose progress reached a tenth of its target not
    yet told gets `progress.milestone` for every tenth passed since the last one told, once even
    with several processes (`campaigns.claim_milestone`). Apart from the writes, so that no post or
    recording reads the whole campaign's progress while it holds the day's rows; whatever moved
    the figure (a script's post, a completed ticket, a home visit) is heard. `tell=False` notes
    what is reached without telling it (the demo: its history is not news). Returns how many were told."""
    told = 0
    for campaign in await campaigns.below_milestone(session, on=calendar.today()):
        percent = (await progress.progress(session, campaign=campaign, area=None, depth=0)).percent
        passed = [m for m in MILESTONES if campaign.milestone < m <= (percent or 0)]
        if not passed or not await campaigns.claim_milestone(session, campaign=campaign, reached=passed[-1]):
            continue
        for milestone in passed if tell else ():
            await notifications.emit(
                session,
                type="progress.milestone",
                payload={"campaign_id": campaign.id, "area": campaign.root_area_code, "milestone": milestone, "percent": percent},
            )
            told += 1
    return told


async def weekend_plan(session: AsyncSession, *, area: str | None, day: date, level: AreaLevel, limit: int, actor: Principal) -> WeekendPlan:
    """RW/RT ranked by expected yield for a weekend service on `day`, with the devices and operators free that day."""
    if day.weekday() < 5:
        raise RuleViolation.on_field("date", location="query", code="event.weekday")
    if day < calendar.today():
        raise RuleViolation.on_field("date", location="query", code="plan.past")
    root = area or actor.area
    if root is None:
        raise RuleViolation.on_field("area", location="query", code="plan.area_needed")
    if actor.role == Role.supervisor:
        ensure_area(actor, root)
    campaign = await campaigns.campaign_for_area(session, area_code=root, on=calendar.today())
    units, kelurahan, last_nearby = await services.planner_units(session, root=root, level=level, day=day)
    wanted = {services.kelurahan_of(u.code) for u in units}
    figures = {}
    for code in sorted(wanted):  # one read per kelurahan that has candidates (a kecamatan has about ten)
        figures[code] = await progress.progress(session, campaign=campaign, area=code, depth=0)
    ranked = planner.rank(
        [
            planner.Unit(
                code=u.code,
                name=u.name,
                population=u.population or 0,
                kelurahan=(k := services.kelurahan_of(u.code)),
                kelurahan_population=(kelurahan[k].population if k in kelurahan and kelurahan[k].population else 0)
                or sum(v.population or 0 for v in units if services.kelurahan_of(v.code) == k),
                kelurahan_remaining=figures[k].remaining,
                last_service_nearby=last_nearby.get(k),
            )
            for u in units
        ],
        day=day,
    )[:limit]
    devices, operators = await commitments.free_crew(session, day=day, actor=actor)
    return WeekendPlan(
        date=day,
        area=root,
        rule=planner.RULE,
        items=[
            PlannedUnit(
                code=r.unit.code,
                name=r.unit.name,
                level=level,
                kelurahan=r.unit.kelurahan,
                kelurahan_name=kelurahan[r.unit.kelurahan].name if r.unit.kelurahan in kelurahan else r.unit.kelurahan,
                population=r.unit.population,
                still_to_record=r.still_to_record,
                last_service_nearby=r.unit.last_service_nearby,
                weight=r.weight,
                expected_yield=r.expected_yield,
            )
            for r in ranked
        ],
        free_devices=[FreeDevice(id=d.id, serial=d.serial, kind=d.kind) for d in devices],
        free_operators=[FreeOperator(id=o.id, name=o.name, staff_number=o.staff_number) for o in operators],
    )
