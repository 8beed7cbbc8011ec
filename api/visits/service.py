"""Home visits: residents who cannot come ask for a mobile kit, dispatchers plan the kits' days.

Rules
- Intake is public (no sign-in, rate-limited). The request belongs to the active campaign (today
  between its start and deadline) whose root area contains the resident's area; the deepest such
  root wins. The area is a kelurahan or an RW/RT below it that exists in the area list. The
  resident consents to be contacted (a visit cannot be arranged otherwise). Preferred dates lie
  between the day of the request and the campaign's deadline.
- NIK, each check with its own message, in this order: exactly 16 digits (spaces ignored); the
  first six digits are a kecamatan present in the area list; that kecamatan lies inside the
  campaign's root, otherwise the message names the city (kabupaten/kota) that issued the NIK,
  looked up in the area list or else the official list; digits 7-12 are a real birth date DDMMYY,
  women's day plus 40; the resident is 17 or older on the day of the request.
  Two-digit years: the most recent century that does not put the birth date after the day of the
  request (20YY, else 19YY). A NIK cannot say more; the price is that someone born 100 or more
  years ago with YY up to the current year's reads as a child and must be registered by staff
  through the office. (NIKs issued before Tangerang Selatan split from Kabupaten Tangerang in 2008
  start with 36.03 and are, by this rule, another city's.)
- Phone: Indonesian mobile numbers written 08..., +628... or 628... (spaces, dots, dashes and
  brackets ignored), 10 to 13 digits in the 08 form; stored as +628....
- One open (submitted, triaged or scheduled) request per NIK, also enforced by a partial unique
  index. The second one gets 409 that reveals nothing about the first. The NIK is stored as such,
  not as a keyed hash: the staff record needs it in clear anyway (the operator checks it at the
  door), so a hash would protect nothing the row does not already hold.
- Tracking code: 8 characters from `secrets` over an alphabet without 0/O and 1/I/L, grouped
  `HV-XXXX-XXXX` for reading aloud (31^8, about 8.5e11 codes); unique in the database. Lookups
  ignore case, spaces and dashes. The public sees status, dates and window, nothing personal.
- Privacy: name, NIK, phone, address and the resident's note are never in public answers, logs
  or error messages. Lists and stats mask NIK and phone to their last 4 digits and leave out name,
  address and note. The full record and the day plan carry them, and each record read is audited
  (`home_visit.read_personal`). A personal record outside the caller's scope is 404.
- Who: lists and stats for admins, viewers (masked, read-only) and supervisors (their subtree);
  the full record, the day plan and every change for admins and supervisors in scope.
- The crew: an operator account linked to a petugas (`users.operator_id`, who must be active)
  reads the day plan of a kit it is scheduled on that day, showing only its own stops (403 when
  it has none there), and marks its own visits `visited` or `unreachable` with a note; any other
  move is 403, a visit scheduled on someone else is 404; `crew_kits` tells it which kits it is on
  that day. Nothing else: no board, no full record, no scheduling. An operator account that is
  not linked gets 403.
- Triage (`submitted` -> `triaged`) sets the priority: reason points (sick 3, disabled 2,
  elderly 2, other 1) plus one point per full week waited (at most 3); 4+ urgent, 3 high,
  2 normal, 1 low.
- State machine: submitted -> triaged | cancelled; triaged -> scheduled | unreachable | cancelled;
  scheduled -> scheduled (rescheduling) | visited | unreachable | cancelled. Visited, unreachable
  and cancelled are final. Any other move is 409. Each move may carry a note, kept in the
  request's history.
- Scheduling `{device, operator, date, window}`: the date from today to the campaign's deadline;
  the device an active mobile kit (a loaned kit not due back before the date); the operator
  active; neither the kit nor the operator on another visit whose window overlaps that day; the
  kit's day not over its daily capacity (one recording per visit); and both free of allocations
  and weekend events elsewhere (`_kit_and_operator_available`, the devices/services domains). A
  weekend service holds its kits and operators for its day, and a day with planned visits keeps
  them from weekend services (`planned_on`, asked by the services domain).
- Visited: not before the planned day; adds one recording to that day's tally of the resident's
  area, source `home_visit`, with the kit.
- Day plan: a kit's visits of one day in route order: by kelurahan, RW and RT code, then window.
- Service level: days from request to visit (median; 90th percentile by nearest rank); a request
  still open more than REKAM_HOME_VISIT_OVERDUE_DAYS days after it was made is overdue.
"""

import asyncio
import math
import re
import secrets
import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.devices import service as devices
from api.areas import service as areas
from api.areas.codes import ancestors_of, depth_of, in_subtree, is_within, level_of
from api.areas.models import Area, AreaLevel
from api.audit import service as audit
from api.auth.models import Role
from api.auth.policy import Principal, ensure_area, ensure_sees_personal
from api.campaigns.models import Campaign
from api.campaigns.service import today_for
from api.config import get_settings
from api.devices.models import Device, DeviceKind, DeviceOwner, DeviceStatus, Operator, OperatorStatus
from api.errors import Conflict, Forbidden, NotFound, RuleViolation
from api.pagination import PageParams, paginate
from api.services import service as services
from api.tallies import service as tallies
from api.visits.models import OPEN_STATUSES, HomeVisit, HomeVisitEvent, VisitPriority, VisitReason, VisitStatus
from api.visits.schemas import (
    CrewKit,
    DayPlan,
    DayPlanStop,
    HomeVisitCreate,
    HomeVisitEventRead,
    HomeVisitRead,
    HomeVisitStats,
    HomeVisitSummary,
    ScheduleRequest,
    StatusChange,
    StatusCount,
)

log = structlog.get_logger("api.visits")

HOME_LEVELS = (AreaLevel.kelurahan, AreaLevel.rw, AreaLevel.rt)
ADULT_AGE = 17
ALREADY_OPEN = "A home-visit request for this resident is already open; we will contact them about it."
# Columns for the audit trail: nik, phone and address are masked there; name and note left out.
AUDIT_FIELDS = [
    "id", "campaign_id", "area_code", "nik", "phone", "address", "reason", "status", "priority",
    "device_id", "operator_id", "visit_date", "window_start", "window_end", "requested_on",
]  # fmt: skip

# --- pure rules ----------------------------------------------------------------------------

TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TRACKING_LENGTH = 8
TRACKING_PREFIX = "HV"

REASON_POINTS = {VisitReason.sick: 3, VisitReason.disabled: 2, VisitReason.elderly: 2, VisitReason.other: 1}
WAIT_POINT_DAYS = 7
MAX_WAIT_POINTS = 3
PRIORITY_BY_POINTS = {1: VisitPriority.low, 2: VisitPriority.normal, 3: VisitPriority.high}

TRANSITIONS: dict[VisitStatus, frozenset[VisitStatus]] = {
    VisitStatus.submitted: frozenset({VisitStatus.triaged, VisitStatus.cancelled}),
    VisitStatus.triaged: frozenset({VisitStatus.scheduled, VisitStatus.unreachable, VisitStatus.cancelled}),
    VisitStatus.scheduled: frozenset({VisitStatus.scheduled, VisitStatus.visited, VisitStatus.unreachable, VisitStatus.cancelled}),
}
# On a kit's plan: these occupy the kit and the operator, and count against the kit's capacity.
PLANNED_STATUSES = (VisitStatus.scheduled, VisitStatus.visited)
DAY_PLAN_STATUSES = (VisitStatus.scheduled, VisitStatus.visited, VisitStatus.unreachable)
OVERDUE_LIST_LIMIT = 100

_NIK = re.compile(r"^\d{16}$")
_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
_MOBILE_SUBSCRIBER = re.compile(r"^8\d{8,11}$")


def new_tracking_code() -> str:
    chars = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))
    return f"{TRACKING_PREFIX}-{chars[:4]}-{chars[4:]}"


def normalize_tracking_code(raw: str) -> str | None:
    """The stored form of a code as people type or read it (any case, with or without dashes)."""
    chars = re.sub(r"[^0-9A-Za-z]", "", raw).upper()
    if len(chars) == TRACKING_LENGTH + len(TRACKING_PREFIX) and chars.startswith(TRACKING_PREFIX):
        chars = chars[len(TRACKING_PREFIX) :]
    if len(chars) != TRACKING_LENGTH or any(c not in TRACKING_ALPHABET for c in chars):
        return None
    return f"{TRACKING_PREFIX}-{chars[:4]}-{chars[4:]}"


def normalize_phone(raw: str) -> str | None:
    """+628... for an Indonesian mobile number written 08..., +628... or 628...; None otherwise."""
    number = _PHONE_SEPARATORS.sub("", raw)
    for prefix in ("+62", "62", "0"):
        if number.startswith(prefix):
            subscriber = number[len(prefix) :]
            return "+62" + subscriber if _MOBILE_SUBSCRIBER.match(subscriber) else None
    return None


def kecamatan_of_nik(nik: str) -> str:
    return f"{nik[0:2]}.{nik[2:4]}.{nik[4:6]}"


def birth_date_of_nik(nik: str, *, on: date) -> date | None:
    """The birth date in digits 7-12 (DDMMYY, women's DD + 40), or None when it is not a date.

    The century is the most recent one that does not put the birth after `on`."""
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    if day > 40:
        day -= 40
    for century in (2000, 1900):
        try:
            born = date(century + year, month, day)
        except ValueError:
            continue
        if born <= on:
            return born
    return None


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def mask_digits(value: str) -> str:
    return "*" * max(len(value) - 4, 0) + value[-4:]


def priority_for(reason: VisitReason | str, waiting_days: int) -> VisitPriority:
    points = REASON_POINTS[VisitReason(reason)] + min(max(waiting_days, 0) // WAIT_POINT_DAYS, MAX_WAIT_POINTS)
    return PRIORITY_BY_POINTS.get(points, VisitPriority.urgent)


def local_today() -> date:
    return datetime.now(ZoneInfo(get_settings().timezone)).date()


def _problem(field: str, message: str, location: str = "body") -> dict[str, str]:
    return {"location": location, "field": field, "message": message}


# --- intake --------------------------------------------------------------------------------


async def _home_area(session: AsyncSession, code: str) -> Area:
    if level_of(code) not in HOME_LEVELS:
        raise RuleViolation.on_field("area", "Give the code of the resident's kelurahan, or of their RW or RT (e.g. 36.74.01.1001 or 36.74.01.1001.003).")
    area = await session.get(Area, code)
    if area is None:
        raise RuleViolation.on_field("area", "There is no kelurahan, RW or RT with this code; if the RW/RT is not listed, give the kelurahan.")
    return area


async def campaign_for_area(session: AsyncSession, *, area_code: str, on: date) -> Campaign:
    """The active campaign whose root contains the area (the deepest root, if several)."""
    roots = [*ancestors_of(area_code), area_code]
    candidates = (
        await session.scalars(select(Campaign).where(Campaign.root_area_code.in_(roots), Campaign.start_date <= on, Campaign.deadline >= on))
    ).all()
    if not candidates:
        raise RuleViolation.on_field("area", "No recording campaign is running for this area today.")
    return max(candidates, key=lambda c: (depth_of(c.root_area_code), c.start_date, c.id))


@lru_cache(maxsize=256)
def _official_names(kecamatan_code: str) -> dict[str, str]:
    """Names of the kecamatan and its ancestors in the official list (read on the error path only)."""
    return {row["code"]: row["name"] for row in areas.read_official_rows(kecamatan_code) if depth_of(row["code"]) <= 3}


async def _nik_problem(session: AsyncSession, *, nik: str, campaign: Campaign, on: date) -> str | None:
    """Why this NIK cannot ask for a visit in this campaign, or None. Never quotes the NIK."""
    if not _NIK.match(nik):
        return "The NIK must be exactly 16 digits."
    kecamatan_code = kecamatan_of_nik(nik)
    root = campaign.root_area_code
    kecamatan = await session.get(Area, kecamatan_code)
    if kecamatan is None or not is_within(kecamatan_code, root):
        official = await asyncio.to_thread(_official_names, kecamatan_code)
        if kecamatan is None and (kecamatan_code not in official or is_within(kecamatan_code, root)):
            return "The first six digits of the NIK are not the code of a known kecamatan."
        city_code = kecamatan_code.rsplit(".", 1)[0]
        named = {a.code: a.name for a in (await session.scalars(select(Area).where(Area.code.in_([city_code, root, kecamatan_code])))).all()}
        city = named.get(city_code) or official.get(city_code) or city_code
        root_name = named.get(root, root)
        if is_within(root, city_code):
            place = named.get(kecamatan_code) or official.get(kecamatan_code) or kecamatan_code
            return f"The NIK was issued in kecamatan {place}, outside this campaign's area ({root_name}); please ask there."
        return f"The NIK was issued in {city}, another city: this campaign records residents of {root_name}. Please ask {city} for recording."
    born = birth_date_of_nik(nik, on=on)
    if born is None:
        return "Digits 7 to 12 of the NIK are not a real birth date (DDMMYY, with 40 added to the day for women)."
    if age_on(born, on) < ADULT_AGE:
        return f"The resident must be {ADULT_AGE} or older on the day of the request to be recorded for an e-KTP."
    return None


async def _unused_tracking_code(session: AsyncSession) -> str:
    for _ in range(5):
        code = new_tracking_code()
        if await session.scalar(select(HomeVisit.id).where(HomeVisit.tracking_code == code)) is None:
            return code
    raise RuntimeError("no free tracking code after 5 draws")  # 31^8 codes: practically impossible


async def submit(session: AsyncSession, *, data: HomeVisitCreate, actor: Principal, today: date | None = None) -> HomeVisit:
    """A resident's request; 422 for each field that breaks a rule, 409 if one is already open."""
    area = await _home_area(session, data.area)
    campaign = await campaign_for_area(session, area_code=area.code, on=today or local_today())
    today = today or today_for(campaign)
    errors = []
    nik = re.sub(r"\s", "", data.nik)
    if problem := await _nik_problem(session, nik=nik, campaign=campaign, on=today):
        errors.append(_problem("nik", problem))
    phone = normalize_phone(data.phone)
    if phone is None:
        errors.append(_problem("phone", "Give an Indonesian mobile number written 08..., +628... or 628... (10 to 13 digits in the 08 form)."))
    if not data.consent:
        errors.append(_problem("consent", "We need the resident's consent to contact them, or the visit cannot be arranged."))
    for index, day in enumerate(data.preferred_dates):
        if day < today:
            errors.append(_problem(f"preferred_dates.{index}", "A preferred date cannot be in the past."))
        elif day > campaign.deadline:
            errors.append(_problem(f"preferred_dates.{index}", f"A preferred date cannot be after the campaign's deadline, {campaign.deadline.isoformat()}."))
    if errors:
        detail = errors[0]["message"] if len(errors) == 1 else f"{len(errors)} fields need attention: " + ", ".join(e["field"] for e in errors) + "."
        raise RuleViolation(detail, errors=errors)
    if await session.scalar(select(HomeVisit.id).where(HomeVisit.nik == nik, HomeVisit.status.in_(OPEN_STATUSES))) is not None:
        raise Conflict(ALREADY_OPEN)
    visit = HomeVisit(
        tracking_code=await _unused_tracking_code(session),
        campaign_id=campaign.id,
        area_code=area.code,
        name=data.name.strip(),
        nik=nik,
        phone=phone,
        address=data.address.strip(),
        reason=data.reason.value,
        note=data.note,
        preferred_dates=sorted({d.isoformat() for d in data.preferred_dates}),
        consented_at=datetime.now(UTC),
        requested_on=today,
        status=VisitStatus.submitted.value,
    )
    try:
        # A savepoint, so that losing a race to the open-request index is a clean 409.
        async with session.begin_nested():
            session.add(visit)
            await session.flush()
    except IntegrityError:
        raise Conflict(ALREADY_OPEN) from None
    session.add(HomeVisitEvent(home_visit_id=visit.id, at=datetime.now(UTC), actor_name=actor.name, from_status=None, to_status=visit.status))
    await audit.record(session, actor=actor, action="home_visit.create", entity="home_visit", entity_id=visit.id, after=audit.snapshot_of(visit, AUDIT_FIELDS))
    log.info("home_visit.submitted", home_visit_id=visit.id, area_code=visit.area_code, reason=visit.reason)
    return visit


async def track(session: AsyncSession, *, code: str) -> HomeVisit:
    normalized = normalize_tracking_code(code)
    visit = None
    if normalized is not None:
        visit = await session.scalar(select(HomeVisit).where(HomeVisit.tracking_code == normalized))
    if visit is None:
        raise NotFound("There is no home-visit request with this tracking code.")
    return visit


# --- staff reads ---------------------------------------------------------------------------


def _read_root(principal: Principal, area: str | None) -> str | None:
    """The subtree a staff read covers: the asked area, within a supervisor's own scope."""
    if area is not None:
        areas.require_code(area, field="area", location="query")
    if principal.role == Role.supervisor:
        if area is None:
            return principal.area
        if principal.area is None or not is_within(area, principal.area):
            raise Forbidden(f"Area {area} is outside your scope.", errors=[_problem("area", "outside your scope", "query")])
    return area


def _open_and_waiting_since(cutoff: date) -> Any:
    return and_(HomeVisit.status.in_(OPEN_STATUSES), HomeVisit.requested_on < cutoff)


def summary_of(visit: HomeVisit, *, today: date, overdue_days: int) -> HomeVisitSummary:
    is_open = visit.status in OPEN_STATUSES
    waiting = (today - visit.requested_on).days
    return HomeVisitSummary(
        id=visit.id,
        area=visit.area_code,
        reason=VisitReason(visit.reason),
        status=VisitStatus(visit.status),
        priority=VisitPriority(visit.priority) if visit.priority else None,
        requested_on=visit.requested_on,
        waiting_days=waiting if is_open else None,
        overdue=is_open and waiting > overdue_days,
        nik_masked=mask_digits(visit.nik),
        phone_masked=mask_digits(visit.phone),
        device_id=visit.device_id,
        operator_id=visit.operator_id,
        visit_date=visit.visit_date,
        window_start=visit.window_start,
        window_end=visit.window_end,
    )


async def list_visits(
    session: AsyncSession,
    *,
    principal: Principal,
    page: PageParams,
    area: str | None = None,
    status: VisitStatus | None = None,
    reason: VisitReason | None = None,
    priority: VisitPriority | None = None,
    overdue: bool | None = None,
    today: date | None = None,
) -> tuple[list[HomeVisitSummary], str | None]:
    root = _read_root(principal, area)
    today = today or local_today()
    overdue_days = get_settings().home_visit_overdue_days
    stmt = select(HomeVisit)
    if root is not None:
        stmt = stmt.where(in_subtree(HomeVisit.area_code, root))
    if status is not None:
        stmt = stmt.where(HomeVisit.status == status.value)
    if reason is not None:
        stmt = stmt.where(HomeVisit.reason == reason.value)
    if priority is not None:
        stmt = stmt.where(HomeVisit.priority == priority.value)
    if overdue is not None:
        late = _open_and_waiting_since(today - timedelta(days=overdue_days))
        stmt = stmt.where(late if overdue else not_(late))
    rows, next_cursor = await paginate(session, stmt, keys=[HomeVisit.id], page=page)
    return [summary_of(v, today=today, overdue_days=overdue_days) for v in rows], next_cursor


CREW_MOVES = frozenset({VisitStatus.visited, VisitStatus.unreachable})


async def _crew_operator(session: AsyncSession, actor: Principal) -> int:
    """The active petugas an operator account is; 403 for an account that is no (active) petugas."""
    if actor.operator_id is None:
        raise Forbidden("Your account is not linked to an operator (petugas); ask an admin to link it.")
    status = await session.scalar(select(Operator.status).where(Operator.id == actor.operator_id))
    if status != OperatorStatus.active:
        raise Forbidden(f"Your operator record is {status or 'gone'}, not active.")
    return actor.operator_id


async def _visit_for_staff(session: AsyncSession, *, visit_id: int, actor: Principal, write: bool) -> HomeVisit:
    stmt = select(HomeVisit).where(HomeVisit.id == visit_id)
    if write:
        stmt = stmt.with_for_update()
    visit = await session.scalar(stmt)
    if visit is None:
        raise NotFound("There is no such home-visit request.")
    ensure_sees_personal(actor, visit.area_code, what="home-visit request")
    if write:
        ensure_area(actor, visit.area_code)
    return visit


async def _crew_visit(session: AsyncSession, *, visit_id: int, actor: Principal) -> HomeVisit:
    """A visit the calling operator account is scheduled on, locked for the change; 404 otherwise."""
    operator_id = await _crew_operator(session, actor)
    visit = await session.scalar(select(HomeVisit).where(HomeVisit.id == visit_id).with_for_update())
    if visit is None or visit.operator_id != operator_id:
        raise NotFound("There is no such home-visit request.")
    return visit


async def get_personal(session: AsyncSession, *, visit_id: int, actor: Principal) -> HomeVisitRead:
    """The full record with its history; the read itself is audited."""
    visit = await _visit_for_staff(session, visit_id=visit_id, actor=actor, write=False)
    events = (await session.scalars(select(HomeVisitEvent).where(HomeVisitEvent.home_visit_id == visit.id).order_by(HomeVisitEvent.at, HomeVisitEvent.id))).all()
    await audit.record(session, actor=actor, action="home_visit.read_personal", entity="home_visit", entity_id=visit.id)
    return HomeVisitRead(
        id=visit.id,
        tracking_code=visit.tracking_code,
        campaign_id=visit.campaign_id,
        area=visit.area_code,
        name=visit.name,
        nik=visit.nik,
        phone=visit.phone,
        address=visit.address,
        reason=VisitReason(visit.reason),
        note=visit.note,
        preferred_dates=[date.fromisoformat(d) for d in visit.preferred_dates or []],
        consented_at=visit.consented_at,
        requested_on=visit.requested_on,
        status=VisitStatus(visit.status),
        priority=VisitPriority(visit.priority) if visit.priority else None,
        device_id=visit.device_id,
        operator_id=visit.operator_id,
        visit_date=visit.visit_date,
        window_start=visit.window_start,
        window_end=visit.window_end,
        history=[HomeVisitEventRead.model_validate(e) for e in events],
    )


# --- the state machine ---------------------------------------------------------------------


def _ensure_move(visit: HomeVisit, target: VisitStatus) -> None:
    current = VisitStatus(visit.status)
    allowed = TRANSITIONS.get(current, frozenset())
    if target not in allowed:
        possible = ", ".join(sorted(allowed)) or "none: it is closed"
        raise Conflict(f"A {current.value} request cannot become {target.value}; possible moves: {possible}.")


async def _record_move(session: AsyncSession, *, visit: HomeVisit, before: dict[str, Any], actor: Principal, action: str, note: str | None) -> None:
    visit.updated_at = datetime.now(UTC)
    session.add(HomeVisitEvent(home_visit_id=visit.id, at=visit.updated_at, actor_name=actor.name, from_status=before["status"], to_status=visit.status, note=note))
    await session.flush()
    await audit.record(session, actor=actor, action=action, entity="home_visit", entity_id=visit.id, before=before, after=audit.snapshot_of(visit, AUDIT_FIELDS))


async def change_status(session: AsyncSession, *, visit_id: int, data: StatusChange, actor: Principal, today: date | None = None) -> HomeVisit:
    """Triage, visited, unreachable or cancelled, with an optional note; 409 for illegal moves."""
    if data.status == VisitStatus.scheduled:
        raise RuleViolation.on_field("status", "Scheduling needs a kit, an operator, a date and a window: use the schedule endpoint.")
    if actor.role == Role.operator:
        visit = await _crew_visit(session, visit_id=visit_id, actor=actor)
        if data.status not in CREW_MOVES:
            raise Forbidden("An operator marks their visits visited or unreachable; other moves are the dispatcher's.")
    else:
        visit = await _visit_for_staff(session, visit_id=visit_id, actor=actor, write=True)
    _ensure_move(visit, data.status)
    campaign = await session.get(Campaign, visit.campaign_id)
    assert campaign is not None
    today = today or today_for(campaign)
    before = audit.snapshot_of(visit, AUDIT_FIELDS)
    if data.status == VisitStatus.triaged:
        visit.priority = priority_for(visit.reason, (today - visit.requested_on).days).value
    if data.status == VisitStatus.visited:
        assert visit.visit_date is not None
        if visit.visit_date > today:
            raise Conflict(f"The visit is planned for {visit.visit_date.isoformat()}; it can be marked visited from that day on.")
        await tallies.add_recordings(session, area_code=visit.area_code, day=visit.visit_date, source="home_visit", device_id=visit.device_id, actor=actor)
    visit.status = data.status.value
    await _record_move(session, visit=visit, before=before, actor=actor, action=f"home_visit.{data.status.value}", note=data.note)
    log.info("home_visit.status", home_visit_id=visit.id, status=visit.status)
    return visit


@dataclass(frozen=True)
class _Slot:
    device: Device
    operator: Operator
    day: date
    start: time
    end: time


async def _kit_and_operator_available(session: AsyncSession, *, slot: _Slot) -> None:
    """The kit and the operator are not posted elsewhere that day (the devices domain decides) nor
    at a weekend service (the services domain's; an event holds them for its day)."""
    if not await devices.is_device_free(session, device_id=slot.device.id, day=slot.day):
        raise Conflict("The kit is posted elsewhere that day.", errors=[_problem("device", "not free that day")])
    if not await devices.is_operator_free(session, operator_id=slot.operator.id, day=slot.day):
        raise Conflict("The operator is posted elsewhere that day.", errors=[_problem("operator", "not free that day")])
    if (event := await services.weekend_event_on(session, day=slot.day, device_id=slot.device.id)) is not None:
        raise Conflict(f"The kit is at a weekend service (service point {event}) that day.", errors=[_problem("device", "at a weekend service that day")])
    if (event := await services.weekend_event_on(session, day=slot.day, operator_id=slot.operator.id)) is not None:
        raise Conflict(f"The operator is at a weekend service (service point {event}) that day.", errors=[_problem("operator", "at a weekend service that day")])


async def planned_on(session: AsyncSession, *, day: date, device_ids: list[int], operator_ids: list[int]) -> tuple[set[int], set[int]]:
    """Which of these kits and operators have a home visit planned on `day` (for weekend services)."""
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
        select(HomeVisit.visit_date).where(who, HomeVisit.status.in_(PLANNED_STATUSES), HomeVisit.visit_date >= from_day, HomeVisit.visit_date <= until).distinct()
    )
    return [day for day in days if day is not None]


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
        raise Conflict("The kit is on another visit in this window that day.", errors=[_problem("device", "busy in this window")])
    if any(o.operator_id == slot.operator.id for o in overlapping):
        raise Conflict("The operator is on another visit in this window that day.", errors=[_problem("operator", "busy in this window")])
    booked = sum(1 for o in others if o.device_id == slot.device.id)
    if booked >= slot.device.daily_capacity:
        raise Conflict(
            f"The kit's day is full: {booked} of {slot.device.daily_capacity} visits planned.",
            errors=[_problem("device", "daily capacity reached")],
        )


async def schedule(session: AsyncSession, *, visit_id: int, data: ScheduleRequest, actor: Principal, today: date | None = None) -> HomeVisit:
    """Put a triaged (or reschedule a scheduled) request on a kit's day."""
    visit = await _visit_for_staff(session, visit_id=visit_id, actor=actor, write=True)
    _ensure_move(visit, VisitStatus.scheduled)
    campaign = await session.get(Campaign, visit.campaign_id)
    assert campaign is not None
    today = today or today_for(campaign)
    if data.date < today:
        raise RuleViolation.on_field("date", "A visit cannot be scheduled in the past.")
    if data.date > campaign.deadline:
        raise RuleViolation.on_field("date", f"A visit cannot be scheduled after the campaign's deadline, {campaign.deadline.isoformat()}.")
    # Locked in a fixed order (kit, then operator) so that two dispatchers serialize per kit.
    device = await session.scalar(select(Device).where(Device.id == data.device).with_for_update())
    if device is None:
        raise NotFound("There is no such device.", errors=[_problem("device", "not found")])
    if device.kind != DeviceKind.mobile:
        raise RuleViolation.on_field("device", "Home visits are made with a mobile enrollment kit; this device is static.")
    if device.status != DeviceStatus.active:
        raise RuleViolation.on_field("device", f"The kit is {device.status.replace('_', ' ')}, not active.")
    if device.owner == DeviceOwner.loan and device.return_due is not None and device.return_due < data.date:
        raise RuleViolation.on_field("device", f"The loaned kit is due back on {device.return_due.isoformat()}, before the visit.")
    operator = await session.scalar(select(Operator).where(Operator.id == data.operator).with_for_update())
    if operator is None:
        raise NotFound("There is no such operator.", errors=[_problem("operator", "not found")])
    if operator.status != OperatorStatus.active:
        raise RuleViolation.on_field("operator", f"The operator is {operator.status}, not active.")
    slot = _Slot(device=device, operator=operator, day=data.date, start=data.window.start, end=data.window.end)
    await _check_slot(session, visit=visit, slot=slot)
    await _kit_and_operator_available(session, slot=slot)
    before = audit.snapshot_of(visit, AUDIT_FIELDS)
    visit.device_id, visit.operator_id = device.id, operator.id
    visit.visit_date, visit.window_start, visit.window_end = data.date, data.window.start, data.window.end
    visit.status = VisitStatus.scheduled.value
    action = "home_visit.reschedule" if before["status"] == VisitStatus.scheduled else "home_visit.schedule"
    await _record_move(session, visit=visit, before=before, actor=actor, action=action, note=data.note)
    log.info(action, home_visit_id=visit.id, device_id=device.id, operator_id=operator.id, visit_date=data.date.isoformat())
    return visit


# --- a kit's day and the service level -----------------------------------------------------


def _kelurahan_of(code: str) -> str:
    return ".".join(code.split(".")[:4])


async def day_plan(session: AsyncSession, *, device_id: int, day: date | None, actor: Principal) -> DayPlan:
    """The kit's visits that day in route order, with what the operator needs at the door.

    A supervisor sees the stops inside their area, an operator account its own stops (403 when it
    has none on this kit that day); each stop shown is a personal read, audited."""
    device = await session.get(Device, device_id)
    if device is None or device.kind != DeviceKind.mobile:
        raise NotFound("There is no such mobile kit.")
    day = day or local_today()
    on_plan = [HomeVisit.device_id == device.id, HomeVisit.visit_date == day]
    booked = await session.scalar(select(func.count()).select_from(HomeVisit).where(*on_plan, HomeVisit.status.in_(PLANNED_STATUSES)))
    stmt = select(HomeVisit).where(*on_plan, HomeVisit.status.in_(DAY_PLAN_STATUSES))
    if actor.role == Role.operator:
        stmt = stmt.where(HomeVisit.operator_id == await _crew_operator(session, actor))
    elif actor.role != Role.admin:
        stmt = stmt.where(in_subtree(HomeVisit.area_code, actor.area or "-"))
    # Area codes sort kelurahan, then RW, then RT: neighbours follow each other.
    visits = (await session.scalars(stmt.order_by(HomeVisit.area_code, HomeVisit.window_start, HomeVisit.id))).all()
    if actor.role == Role.operator and not visits:
        raise Forbidden("You are not on this kit's plan for that day.")
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
                phone=visit.phone,
                nik_masked=mask_digits(visit.nik),
                reason=VisitReason(visit.reason),
                note=visit.note,
                operator_id=visit.operator_id,
            )
        )
        await audit.record(session, actor=actor, action="home_visit.read_personal", entity="home_visit", entity_id=visit.id, after={"via": "day_plan"})
    return DayPlan(device_id=device.id, serial=device.serial, date=day, daily_capacity=device.daily_capacity, booked=booked or 0, stops=stops)


async def crew_kits(session: AsyncSession, *, day: date | None, actor: Principal) -> list[CrewKit]:
    """The kits an operator account's petugas is scheduled on that day, with its stops on each."""
    operator_id = await _crew_operator(session, actor)
    day = day or local_today()
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


def nearest_rank(sorted_values: list[int], fraction: float) -> int | None:
    if not sorted_values:
        return None
    return sorted_values[max(math.ceil(fraction * len(sorted_values)), 1) - 1]


async def stats(session: AsyncSession, *, principal: Principal, area: str | None = None, today: date | None = None) -> HomeVisitStats:
    root = _read_root(principal, area)
    today = today or local_today()
    overdue_days = get_settings().home_visit_overdue_days
    scope = [in_subtree(HomeVisit.area_code, root)] if root is not None else []
    by_status = dict((await session.execute(select(HomeVisit.status, func.count()).where(*scope).group_by(HomeVisit.status))).all())
    visited = (await session.execute(select(HomeVisit.requested_on, HomeVisit.visit_date).where(*scope, HomeVisit.status == VisitStatus.visited))).all()
    days = sorted((visit_date - requested_on).days for requested_on, visit_date in visited)
    late = _open_and_waiting_since(today - timedelta(days=overdue_days))
    overdue_count = await session.scalar(select(func.count()).select_from(HomeVisit).where(*scope, late))
    oldest = (await session.scalars(select(HomeVisit).where(*scope, late).order_by(HomeVisit.requested_on, HomeVisit.id).limit(OVERDUE_LIST_LIMIT))).all()
    return HomeVisitStats(
        area=root,
        counts=[StatusCount(status=s, count=by_status.get(s.value, 0)) for s in VisitStatus],
        visited=len(days),
        median_days_to_visit=float(statistics.median(days)) if days else None,
        p90_days_to_visit=nearest_rank(days, 0.9),
        overdue_after_days=overdue_days,
        overdue_count=overdue_count or 0,
        overdue=[summary_of(v, today=today, overdue_days=overdue_days) for v in oldest],
    )
