"""Dispatch: triage, scheduling a kit's day, the visit itself, and the day plan.

Rules
- Priority: reason points (sick 3, disabled 2, elderly 2, other 1) plus one point per full week
  waited (at most 3); 4+ urgent, 3 high, 2 normal, 1 low. It is set at intake from the reason
  alone (a bedridden resident is high from the start, not last until someone triages), and set
  again with the weeks waited by triage (`submitted` -> `triaged`) or by scheduling a request
  straight from `submitted` (no separate triage click is needed).
- Scheduling `{device, operator, date, window}` (a submitted, triaged or scheduled request): the date from today to the campaign's deadline;
  the device an active mobile kit (a loaned kit not due back before the date: the "device usable"
  rule of api.devices); the operator active; neither the kit nor the operator on another visit
  whose window overlaps that day; the kit's day not over its daily capacity (one recording per
  visit); and both free of postings at service points (api.devices) and of weekend services
  (api.services) that day (`ensure_free_for_visit`; api.commitments keeps a day with planned
  visits from weekend services and service points).
- Visited: not before the planned day. The recording it adds (that day's tally of the resident's
  area, source `home_visit`, with the kit) is `api.flows.change_visit_status`' part.
- Day plan: a kit's visits of one day in route order: by kelurahan, RW and RT code, then window.
  A supervisor sees the stops inside their area; each stop shown is an audited personal read.
- The crew: an operator account reads the day plan of a kit it is scheduled on that day, showing
  only its own stops (403 when it has none there), and marks its own visits `visited` or
  `unreachable` with a note; any other move is 403; `crew_kits` tells it which kits it is on that
  day. Nothing else: no board, no full record, no scheduling.
"""

from dataclasses import dataclass
from datetime import date, time

import structlog
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from api import calendar
from api.area_codes import in_subtree
from api.areas.models import Area
from api.audit import service as audit
from api.campaigns import service as campaigns
from api.devices import service as devices
from api.devices.models import Device, DeviceKind, DeviceStatus, Operator, OperatorStatus
from api.errors import Conflict, Forbidden, NotFound, RuleViolation, field_problem
from api.principal import Principal
from api.services import service as services
from api.types import Role
from api.visits.models import PLANNED_STATUSES, HomeVisit, VisitPriority, VisitReason, VisitStatus
from api.visits.nik import mask_digits
from api.visits.records import AUDIT_FIELDS, CREW_MOVES, crew_operator, crew_visit, ensure_move, erase_phones, phone_of, record_move, visit_for_staff
from api.visits.schemas import CrewKit, DayPlan, DayPlanStop, ScheduleRequest, StatusChange

log = structlog.get_logger("api.visits")

REASON_POINTS = {VisitReason.sick: 3, VisitReason.disabled: 2, VisitReason.elderly: 2, VisitReason.other: 1}
WAIT_POINT_DAYS = 7
MAX_WAIT_POINTS = 3
PRIORITY_BY_POINTS = {1: VisitPriority.low, 2: VisitPriority.normal, 3: VisitPriority.high}
DAY_PLAN_STATUSES = (VisitStatus.scheduled, VisitStatus.visited, VisitStatus.unreachable)


def priority_for(reason: VisitReason | str, waiting_days: int) -> VisitPriority:
    points = REASON_POINTS[VisitReason(reason)] + min(max(waiting_days, 0) // WAIT_POINT_DAYS, MAX_WAIT_POINTS)
    return PRIORITY_BY_POINTS.get(points, VisitPriority.urgent)


async def change_status(session: AsyncSession, *, visit_id: int, data: StatusChange, actor: Principal, today: date | None = None) -> HomeVisit:
    """Triage, visited, unreachable or cancelled, with an optional note; 409 for illegal moves.
    (The recording a visit adds is `api.flows.change_visit_status`' part.)"""
    if data.status == VisitStatus.scheduled:
        raise RuleViolation.on_field("status", code="visit.schedule_endpoint")
    if actor.role == Role.operator:
        visit = await crew_visit(session, visit_id=visit_id, actor=actor)
        if data.status not in CREW_MOVES:
            raise Forbidden(code="visit.crew_moves")
    else:
        visit = await visit_for_staff(session, visit_id=visit_id, actor=actor, write=True)
    ensure_move(visit, data.status)
    campaign = await campaigns.get_campaign(session, campaign_id=visit.campaign_id)
    today = today or calendar.today(campaign.timezone)
    before = audit.snapshot_of(visit, AUDIT_FIELDS)
    if data.status == VisitStatus.triaged:
        visit.priority = priority_for(visit.reason, (today - visit.requested_on).days).value
    if data.status == VisitStatus.visited:
        assert visit.visit_date is not None
        if visit.visit_date > today:
            raise Conflict(code="visit.too_early", params={"day": visit.visit_date})
    visit.status = data.status.value
    await erase_phones(session, visit=visit)  # closed: the phones go (issue #21)
    await record_move(session, visit=visit, before=before, actor=actor, action=f"home_visit.{data.status.value}", note=data.note)
    log.info("home_visit.status", home_visit_id=visit.id, status=visit.status)
    return visit


@dataclass(frozen=True)
class _Slot:
    device: Device
    operator: Operator
    day: date
    start: time
    end: time


async def _check_slot(session: AsyncSession, *, visit: HomeVisit, slot: _Slot) -> None:
    """The kit's and operator's other visits that day: no overlapping window, kit not over capacity."""
    others = (
        await session.execute(
            select(HomeVisit.device_id, HomeVisit.operator_id, HomeVisit.window_start, HomeVisit.window_end).where(
                HomeVisit.id != visit.id,
                HomeVisit.visit_date == slot.day,
                HomeVisit.status.in_(PLANNED_STATUSES),
                or_(HomeVisit.device_id == slot.device.id, HomeVisit.operator_id == slot.operator.id),
            )
        )
    ).all()
    overlapping = [o for o in others if o.window_start < slot.end and slot.start < o.window_end]
    if any(o.device_id == slot.device.id for o in overlapping):
        raise Conflict(code="visit.kit_busy", errors=[field_problem("device_id", code="visit.busy_window")])
    if any(o.operator_id == slot.operator.id for o in overlapping):
        raise Conflict(code="visit.operator_busy", errors=[field_problem("operator_id", code="visit.busy_window")])
    booked = sum(1 for o in others if o.device_id == slot.device.id)
    if booked >= slot.device.daily_capacity:
        params = {"booked": booked, "capacity": slot.device.daily_capacity}
        raise Conflict(code="visit.kit_day_full", params=params, errors=[field_problem("device_id", code="visit.kit_day_full", params=params)])


async def visits_planned_on(session: AsyncSession, *, day: date, device_ids: list[int], operator_ids: list[int]) -> tuple[set[int], set[int]]:
    """Which of these kits and operators have a home visit planned on `day`."""
    if not device_ids and not operator_ids:
        return set(), set()
    rows = (
        await session.execute(
            select(HomeVisit.device_id, HomeVisit.operator_id).where(
                HomeVisit.visit_date == day,
                HomeVisit.status.in_(PLANNED_STATUSES),
                or_(HomeVisit.device_id.in_(device_ids or [-1]), HomeVisit.operator_id.in_(operator_ids or [-1])),
            )
        )
    ).all()
    return {d for d, _ in rows if d in device_ids}, {o for _, o in rows if o in operator_ids}


async def visit_days(session: AsyncSession, *, from_day: date, until: date, device_id: int | None = None, operator_id: int | None = None) -> list[date]:
    """The days from `from_day` to `until` a kit (or an operator) has a home visit planned."""
    who = HomeVisit.device_id == device_id if device_id is not None else HomeVisit.operator_id == operator_id
    days = await session.scalars(
        select(HomeVisit.visit_date)
        .where(who, HomeVisit.status.in_(PLANNED_STATUSES), HomeVisit.visit_date >= from_day, HomeVisit.visit_date <= until)
        .distinct()
    )
    return [day for day in days if day is not None]


async def ensure_free_for_visit(session: AsyncSession, *, device_id: int, operator_id: int, day: date) -> None:
    """The kit and the operator of a home visit are not posted elsewhere that day nor at a weekend
    service (an event holds them for its day); 409 naming which."""
    if not await devices.is_device_free(session, device_id=device_id, day=day):
        raise Conflict(code="visit.kit_posted", errors=[field_problem("device_id", code="crew.device_not_free")])
    if not await devices.is_operator_free(session, operator_id=operator_id, day=day):
        raise Conflict(code="visit.operator_posted", errors=[field_problem("operator_id", code="crew.operator_not_free")])
    if (event := await services.weekend_event_on(session, day=day, device_id=device_id)) is not None:
        raise Conflict(code="visit.kit_at_event", params={"point": event}, errors=[field_problem("device_id", code="crew.at_event", params={"point": event})])
    if (event := await services.weekend_event_on(session, day=day, operator_id=operator_id)) is not None:
        raise Conflict(
            code="visit.operator_at_event", params={"point": event}, errors=[field_problem("operator_id", code="crew.at_event", params={"point": event})]
        )


async def schedule(session: AsyncSession, *, visit_id: int, data: ScheduleRequest, actor: Principal, today: date | None = None) -> HomeVisit:
    """Put a submitted or triaged request on a kit's day (or reschedule a scheduled one)."""
    visit = await visit_for_staff(session, visit_id=visit_id, actor=actor, write=True)
    ensure_move(visit, VisitStatus.scheduled)
    campaign = await campaigns.get_campaign(session, campaign_id=visit.campaign_id)
    today = today or calendar.today(campaign.timezone)
    if data.date < today:
        raise RuleViolation.on_field("date", code="date.past")
    if data.date > campaign.deadline:
        raise RuleViolation.on_field("date", code="date.after_deadline", params={"deadline": campaign.deadline})
    # Locked in a fixed order (kit, then operator) so that two dispatchers serialize per kit.
    device = await session.scalar(select(Device).where(Device.id == data.device).with_for_update())
    if device is None:
        raise NotFound(code="not_found.such", params={"what": "device"}, errors=[field_problem("device_id", code="unknown_reference")])
    if device.kind != DeviceKind.mobile:
        raise RuleViolation.on_field("device_id", code="visit.kit_static")
    if not devices.device_usable(device, day=data.date):
        if device.status != DeviceStatus.active:
            raise RuleViolation.on_field("device_id", code="visit.kit_not_active", params={"status": device.status})
        assert device.return_due is not None
        raise RuleViolation.on_field("device_id", code="visit.kit_due_back", params={"day": device.return_due})
    operator = await session.scalar(select(Operator).where(Operator.id == data.operator).with_for_update())
    if operator is None:
        raise NotFound(code="not_found.such", params={"what": "operator"}, errors=[field_problem("operator_id", code="unknown_reference")])
    if operator.status != OperatorStatus.active:
        raise RuleViolation.on_field("operator_id", code="visit.operator_not_active", params={"status": operator.status})
    await devices.ensure_crew_in_scope(session, actor=actor, day=data.date, devices={"device_id": device.id}, operators={"operator_id": operator.id})
    slot = _Slot(device=device, operator=operator, day=data.date, start=data.window.start, end=data.window.end)
    await _check_slot(session, visit=visit, slot=slot)
    await ensure_free_for_visit(session, device_id=device.id, operator_id=operator.id, day=slot.day)
    before = audit.snapshot_of(visit, AUDIT_FIELDS)
    if visit.status == VisitStatus.submitted:  # scheduled without a triage click: the triage's priority
        visit.priority = priority_for(visit.reason, (today - visit.requested_on).days).value
    visit.device_id, visit.operator_id = device.id, operator.id
    visit.visit_date, visit.window_start, visit.window_end = data.date, data.window.start, data.window.end
    visit.status = VisitStatus.scheduled.value
    action = "home_visit.reschedule" if before["status"] == VisitStatus.scheduled else "home_visit.schedule"
    await record_move(session, visit=visit, before=before, actor=actor, action=action, note=data.note)
    log.info(action, home_visit_id=visit.id, device_id=device.id, operator_id=operator.id, visit_date=data.date.isoformat())
    return visit


def _kelurahan_of(code: str) -> str:
    return ".".join(code.split(".")[:4])


async def day_plan(session: AsyncSession, *, device_id: int, day: date | None, actor: Principal) -> DayPlan:
    """The kit's visits that day in route order, with what the operator needs at the door.

    A supervisor sees the stops inside their area, an operator account its own stops (403 when it
    has none on this kit that day); each stop shown is a personal read, audited."""
    device = await session.get(Device, device_id)
    if device is None or device.kind != DeviceKind.mobile:
        raise NotFound(code="not_found.such", params={"what": "mobile kit"})
    day = day or calendar.today()
    on_plan = [HomeVisit.device_id == device.id, HomeVisit.visit_date == day]
    booked = await session.scalar(select(func.count()).select_from(HomeVisit).where(*on_plan, HomeVisit.status.in_(PLANNED_STATUSES)))
    stmt = select(HomeVisit).where(*on_plan, HomeVisit.status.in_(DAY_PLAN_STATUSES))
    if actor.role == Role.operator:
        stmt = stmt.where(HomeVisit.operator_id == await crew_operator(session, actor))
    elif actor.role != Role.admin:
        stmt = stmt.where(in_subtree(HomeVisit.area_code, actor.area or "-"))
    # Area codes sort kelurahan, then RW, then RT: neighbours follow each other.
    visits = (await session.scalars(stmt.order_by(HomeVisit.area_code, HomeVisit.window_start, HomeVisit.id))).all()
    if actor.role == Role.operator and not visits:
        raise Forbidden(code="visit.not_on_plan")
    kelurahan_codes = {_kelurahan_of(v.area_code) for v in visits}
    names = dict((await session.execute(select(Area.code, Area.name).where(Area.code.in_(kelurahan_codes)))).all()) if visits else {}
    stops = []
    for order, visit in enumerate(visits, start=1):
        parts = visit.area_code.split(".")
        kelurahan = _kelurahan_of(visit.area_code)
        stops.append(
            DayPlanStop(
                order=order,
                id=visit.id,
                area=visit.area_code,
                kelurahan=kelurahan,
                kelurahan_name=names.get(kelurahan, kelurahan),
                rw=parts[4] if len(parts) > 4 else None,
                rt=parts[5] if len(parts) > 5 else None,
                window_start=visit.window_start,
                window_end=visit.window_end,
                status=VisitStatus(visit.status),
                name=visit.name,
                address=visit.address,
                phone=phone_of(visit.phone),
                nik_masked=mask_digits(visit.nik),
                reason=VisitReason(visit.reason),
                note=visit.note,
                operator_id=visit.operator_id,
                updated_at=visit.updated_at,
            )
        )
        await audit.record(session, actor=actor, action="home_visit.read_personal", entity="home_visit", entity_id=visit.id, after={"via": "day_plan"})
    return DayPlan(device_id=device.id, serial=device.serial, date=day, daily_capacity=device.daily_capacity, booked=booked or 0, stops=stops)


async def crew_kits(session: AsyncSession, *, day: date | None, actor: Principal) -> list[CrewKit]:
    """The kits an operator account's petugas is scheduled on that day, with its stops on each."""
    operator_id = await crew_operator(session, actor)
    day = day or calendar.today()
    rows = (
        await session.execute(
            select(Device.id, Device.serial, func.count(HomeVisit.id))
            .join(HomeVisit, HomeVisit.device_id == Device.id)
            .where(HomeVisit.operator_id == operator_id, HomeVisit.visit_date == day, HomeVisit.status.in_(DAY_PLAN_STATUSES))
            .group_by(Device.id, Device.serial)
            .order_by(Device.serial)
        )
    ).all()
    return [CrewKit(device_id=device_id, serial=serial, date=day, stops=stops) for device_id, serial, stops in rows]
