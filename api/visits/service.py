"""Home visits: residents who cannot come ask for a mobile kit, dispatchers plan the kits' days.

This is the domain's face: the router and the demo call it. Its modules hold the rules:
`nik` (NIK, phone, tracking code), `records` (privacy, who, the state machine), `dispatch`
(triage, scheduling, the visit, the day plan, the crew).

Rules
- Intake is public (no sign-in, rate-limited). The request belongs to the active campaign (today
  between its start and deadline) whose root area contains the resident's area; the deepest such
  root wins (`campaigns.campaign_for_area`). The area is a kelurahan or an RW/RT below it that
  exists in the area list. The resident consents to be contacted (a visit cannot be arranged
  otherwise). Preferred dates lie between the day of the request and the campaign's deadline.
  The NIK and phone follow `nik`'s rules.
- One open (submitted, triaged or scheduled) request per NIK, also enforced by a partial unique
  index. The intake never tells whether a NIK has one (issue #17, item 11: a 409 "already open"
  told anyone that a resident had asked for a health-related visit): a request for a NIK with an
  open request is answered exactly like a new one (201, a fresh tracking code, status
  `submitted`, the same statements on the way), but it is kept as a merge (`HomeVisitMerge`) of
  the open request: staff see its contact on that request's record and history, and its tracking
  code shows that request's status, date and window (with its own day of request). A merge whose
  open request is closed later follows it. Two new requests racing for one NIK: the loser of the
  unique index becomes a merge of the winner. The NIK is stored as such, not as a keyed hash:
  the staff record needs it in clear anyway (the operator checks it at the door), so a hash would
  protect nothing the row does not already hold.
- The public sees, by tracking code (of a request or of a merge), status, dates and window,
  nothing personal. Wrong codes are
  counted per client address; after REKAM_RECEIPT_GUESS_LIMIT of them the address gets 429.
- Service level: days from request to visit (median; 90th percentile by nearest rank); a request
  still open more than REKAM_HOME_VISIT_OVERDUE_DAYS days after it was made is overdue.
"""

import math
import re
import statistics
from datetime import date, timedelta
from typing import Any, cast

import structlog
from sqlalchemy import and_, func, not_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api import calendar, ratelimit
from api.area_codes import in_subtree, level_of
from api.areas.models import Area
from api.audit import service as audit
from api.campaigns import service as campaigns
from api.config import get_settings
from api.errors import Conflict, NotFound, RuleViolation, field_problem
from api.middleware import client_var
from api.pagination import PageParams, paginate
from api.principal import Principal
from api.types import AreaLevel
from api.visits.dispatch import change_status, crew_kits, day_plan, priority_for, schedule, visit_days, visits_planned_on
from api.visits.models import OPEN_STATUSES, HomeVisit, HomeVisitEvent, HomeVisitMerge, VisitPriority, VisitReason, VisitStatus
from api.visits.nik import (
    age_on,
    birth_date_of_nik,
    kecamatan_of_nik,
    mask_digits,
    new_tracking_code,
    nik_problem,
    normalize_phone,
    normalize_tracking_code,
)
from api.visits.records import AUDIT_FIELDS, phone_of, read_root, visit_for_staff
from api.visits.schemas import (
    HomeVisitCreate,
    HomeVisitEventRead,
    HomeVisitRead,
    HomeVisitStats,
    HomeVisitSummary,
    HomeVisitTrack,
    MergedRequestRead,
    StatusCount,
)

__all__ = [
    "age_on", "birth_date_of_nik", "change_status", "crew_kits", "day_plan", "get_personal", "kecamatan_of_nik", "list_visits",
    "mask_digits", "nearest_rank", "new_tracking_code", "normalize_phone", "normalize_tracking_code", "priority_for", "schedule",
    "stats", "submit", "summary_of", "track", "visit_days", "visits_planned_on",
]  # fmt: skip

log = structlog.get_logger("api.visits")

HOME_LEVELS = (AreaLevel.kelurahan, AreaLevel.rw, AreaLevel.rt)

OVERDUE_LIST_LIMIT = 100


async def _home_area(session: AsyncSession, code: str) -> Area:
    if level_of(code) not in HOME_LEVELS:
        raise RuleViolation.on_field("area", code="visit.area_level")
    area = await session.get(Area, code)
    if area is None:
        raise RuleViolation.on_field("area", code="visit.area_unknown")
    return area


async def _unused_tracking_code(session: AsyncSession) -> str:
    """A code used by no request and no merge (one statement, whichever the new row becomes)."""
    for _ in range(5):
        code = new_tracking_code()
        used = select(HomeVisit.id).where(HomeVisit.tracking_code == code).union_all(select(HomeVisitMerge.id).where(HomeVisitMerge.tracking_code == code))
        if (await session.execute(used)).first() is None:
            return code
    raise RuntimeError("no free tracking code after 5 draws")  # 31^8 codes: practically impossible


async def submit(session: AsyncSession, *, data: HomeVisitCreate, actor: Principal, today: date | None = None) -> HomeVisit | HomeVisitMerge:
    """A resident's request; 422 for each field that breaks a rule. For a resident with an open
    request, a merge into it (the caller answers both alike: tracking code, `submitted`)."""
    area = await _home_area(session, data.area)
    campaign = await campaigns.campaign_for_area(session, area_code=area.code, on=today or calendar.today())
    today = today or calendar.today(campaign.timezone)
    errors = []
    nik = re.sub(r"\s", "", data.nik)
    if problem := await nik_problem(session, nik=nik, campaign=campaign, on=today):
        code, params = problem
        errors.append(field_problem("nik", code=code, params=params))
    phone = normalize_phone(data.phone)
    if phone is None:
        errors.append(field_problem("phone", code="phone.invalid"))
    if not data.consent:
        errors.append(field_problem("consent", code="visit.consent"))
    for index, day in enumerate(data.preferred_dates):
        if day < today:
            errors.append(field_problem(f"preferred_dates.{index}", code="date.past"))
        elif day > campaign.deadline:
            errors.append(field_problem(f"preferred_dates.{index}", code="date.after_deadline", params={"deadline": campaign.deadline}))
    if errors:
        raise RuleViolation.of_fields(errors)
    open_visit = await _open_request(session, nik)
    tracking_code = await _unused_tracking_code(session)
    fields: dict[str, Any] = {
        "area_code": area.code,
        "name": data.name.strip(),
        "phone": phone,
        "address": data.address.strip(),
        "reason": data.reason.value,
        "note": data.note,
        "preferred_dates": sorted({d.isoformat() for d in data.preferred_dates}),
        "consented_at": calendar.now_utc(),
        "requested_on": today,
    }
    if open_visit is not None:
        return await _merge(session, open_visit, tracking_code=tracking_code, fields=fields, actor=actor)
    # The reason alone sets the priority at intake (dispatch.py's rule); triage adds the weeks waited.
    priority = priority_for(data.reason, 0).value
    visit = HomeVisit(tracking_code=tracking_code, campaign_id=campaign.id, nik=nik, status=VisitStatus.submitted.value, priority=priority, **fields)
    try:
        # A savepoint, so that losing a race to the open-request index leaves the session usable.
        async with session.begin_nested():
            session.add(visit)
            await session.flush()
    except IntegrityError:
        winner = await _open_request(session, nik)
        if winner is None:  # not the open-request index (a tracking code drawn twice at once)
            raise Conflict(code="visit.try_again") from None
        return await _merge(session, winner, tracking_code=tracking_code, fields=fields, actor=actor)
    session.add(HomeVisitEvent(home_visit_id=visit.id, at=calendar.now_utc(), actor_name=actor.name, from_status=None, to_status=visit.status))
    await audit.record(session, actor=actor, action="home_visit.create", entity="home_visit", entity_id=visit.id, after=audit.snapshot_of(visit, AUDIT_FIELDS))
    log.info("home_visit.submitted", home_visit_id=visit.id, area_code=visit.area_code, reason=visit.reason)
    return visit


async def _open_request(session: AsyncSession, nik: str) -> HomeVisit | None:
    return await session.scalar(select(HomeVisit).where(HomeVisit.nik == nik, HomeVisit.status.in_(OPEN_STATUSES)))


MERGE_AUDIT_FIELDS = ["id", "home_visit_id", "area_code", "phone", "address", "reason", "requested_on"]


async def _merge(session: AsyncSession, visit: HomeVisit, *, tracking_code: str, fields: dict[str, Any], actor: Principal) -> HomeVisitMerge:
    """Keep a second request for `visit`'s resident on `visit` (the same statements as a new one:
    an insert, a history event, an audit entry)."""
    merge = HomeVisitMerge(home_visit_id=visit.id, tracking_code=tracking_code, **fields)
    async with session.begin_nested():  # as a new request's insert
        session.add(merge)
        await session.flush()
    session.add(
        HomeVisitEvent(
            home_visit_id=visit.id,
            at=calendar.now_utc(),
            actor_name=actor.name,
            from_status=visit.status,
            to_status=visit.status,
            note="Another request for this resident was merged into this one (see its contacts).",
        )
    )
    await audit.record(
        session, actor=actor, action="home_visit.merge", entity="home_visit", entity_id=visit.id, after=audit.snapshot_of(merge, MERGE_AUDIT_FIELDS)
    )
    log.info("home_visit.submitted", home_visit_id=visit.id, area_code=merge.area_code, reason=merge.reason)
    return merge


TRACKING_GUESS_BUCKET = "tracking-guess"


async def track(session: AsyncSession, *, code: str) -> HomeVisitTrack:
    """What a tracking code shows: its request's status, date and window; a merge's code shows its
    open request's (with the merge's own day of request). Wrong codes are counted per client
    address and throttled (REKAM_RECEIPT_GUESS_LIMIT, as complaint receipts: issue #17, item 9)."""
    client = client_var.get() or "unknown"
    limit = get_settings().receipt_guess_rate
    await ratelimit.check(session, bucket=TRACKING_GUESS_BUCKET, key=client, limit=limit)
    normalized = normalize_tracking_code(code)
    visit = merge = None
    if normalized is not None:
        visit = await session.scalar(select(HomeVisit).where(HomeVisit.tracking_code == normalized))
        if visit is None:
            merge = await session.scalar(select(HomeVisitMerge).where(HomeVisitMerge.tracking_code == normalized))
            if merge is not None:
                visit = await session.get(HomeVisit, merge.home_visit_id)
    if visit is None:
        await ratelimit.count(session, bucket=TRACKING_GUESS_BUCKET, key=client, limit=limit)
        # keep_changes: the count must outlive this failed request, or guessing would be free.
        raise NotFound(code="visit.tracking_unknown", keep_changes=True)
    return HomeVisitTrack(
        tracking_code=merge.tracking_code if merge else visit.tracking_code,
        status=VisitStatus(visit.status),
        requested_on=merge.requested_on if merge else visit.requested_on,
        visit_date=visit.visit_date,
        window_start=visit.window_start,
        window_end=visit.window_end,
        updated_at=max(visit.updated_at, merge.created_at) if merge else visit.updated_at,
    )


# --- staff reads ---------------------------------------------------------------------------


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
        phone_masked=mask_digits(visit.phone) if visit.phone else None,
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
    root = read_root(principal, area)
    today = today or calendar.today()
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


async def get_personal(session: AsyncSession, *, visit_id: int, actor: Principal) -> HomeVisitRead:
    """The full record with its history; the read itself is audited."""
    visit = await visit_for_staff(session, visit_id=visit_id, actor=actor, write=False)
    events = (
        await session.scalars(select(HomeVisitEvent).where(HomeVisitEvent.home_visit_id == visit.id).order_by(HomeVisitEvent.at, HomeVisitEvent.id))
    ).all()
    merges = (await session.scalars(select(HomeVisitMerge).where(HomeVisitMerge.home_visit_id == visit.id).order_by(HomeVisitMerge.id))).all()
    await audit.record(session, actor=actor, action="home_visit.read_personal", entity="home_visit", entity_id=visit.id)
    return HomeVisitRead(
        id=visit.id,
        tracking_code=visit.tracking_code,
        campaign_id=visit.campaign_id,
        area=visit.area_code,
        name=visit.name,
        nik=visit.nik,
        phone=phone_of(visit.phone),
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
        merged=[
            MergedRequestRead(
                area=m.area_code,
                name=m.name,
                phone=phone_of(m.phone),
                address=m.address,
                reason=VisitReason(m.reason),
                note=m.note,
                preferred_dates=[date.fromisoformat(d) for d in m.preferred_dates or []],
                consented_at=m.consented_at,
                requested_on=m.requested_on,
            )
            for m in merges
        ],
    )


# --- the service level ---------------------------------------------------------------------


def nearest_rank(sorted_values: list[int], fraction: float) -> int | None:
    if not sorted_values:
        return None
    return sorted_values[max(math.ceil(fraction * len(sorted_values)), 1) - 1]


async def stats(session: AsyncSession, *, principal: Principal, area: str | None = None, today: date | None = None) -> HomeVisitStats:
    root = read_root(principal, area)
    today = today or calendar.today()
    overdue_days = get_settings().home_visit_overdue_days
    scope = [in_subtree(HomeVisit.area_code, root)] if root is not None else []
    by_status = dict((await session.execute(select(HomeVisit.status, func.count()).where(*scope).group_by(HomeVisit.status))).all())
    visited = (await session.execute(select(HomeVisit.requested_on, HomeVisit.visit_date).where(*scope, HomeVisit.status == VisitStatus.visited))).all()
    # A visited visit has its date: the table's check constraint `scheduled_has_plan` says so.
    days = sorted((cast(date, visit_date) - requested_on).days for requested_on, visit_date in visited)
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


async def tracking_code_of(session: AsyncSession, *, visit_id: int) -> str | None:
    """The tracking code of an open request (for "kirim ulang kode"); None when closed or unknown."""
    return await session.scalar(select(HomeVisit.tracking_code).where(HomeVisit.id == visit_id, HomeVisit.status.in_(OPEN_STATUSES)))
