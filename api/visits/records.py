"""Home-visit records: who may read and change them, the state machine, and the history.

Rules
- Privacy: name, NIK, phone, address and the resident's note are never in public answers, logs
  or error messages. Lists and stats mask NIK and phone to their last 4 digits and leave out name,
  address and note. The full record and the day plan carry them, and each record read is audited
  (`home_visit.read_personal`). A personal record outside the caller's scope is 404.
- Who: lists and stats for admins, viewers (masked, read-only) and supervisors (their subtree);
  the full record, the day plan and every change for admins and supervisors in scope.
- The crew: an operator account linked to a petugas (`users.operator_id`, who must be active)
  acts only on the visits it is scheduled on (`crew_visit`: any other is 404); an operator
  account that is not linked gets 403.
- State machine: submitted -> triaged | cancelled; triaged -> scheduled | unreachable | cancelled;
  scheduled -> scheduled (rescheduling) | visited | unreachable | cancelled. Visited, unreachable
  and cancelled are final. Any other move is 409. Each move may carry a note, kept in the
  request's history, and is audited.
- Phone numbers are kept only while the request is open (issue #21): the move that closes it
  (visited, unreachable, cancelled) erases the requester's phone and the phones of the requests
  merged into it (`erase_phones`); reads give null for them from then on. The column stays NOT
  NULL (a table copy on SQLite to change that): an erased phone is stored as '' (`ERASED_PHONE`).
"""

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api import calendar
from api.area_codes import is_within
from api.areas import service as areas
from api.audit import service as audit
from api.devices.models import Operator, OperatorStatus
from api.errors import Conflict, Forbidden, NotFound, field_problem
from api.principal import Principal, ensure_area, ensure_sees_personal
from api.types import Role
from api.visits.models import OPEN_STATUSES, HomeVisit, HomeVisitEvent, HomeVisitMerge, VisitStatus

# Columns for the audit trail: nik, phone and address are masked there; name and note left out.
AUDIT_FIELDS = [
    "id", "campaign_id", "area_code", "nik", "phone", "address", "reason", "status", "priority",
    "device_id", "operator_id", "visit_date", "window_start", "window_end", "requested_on",
]  # fmt: skip

TRANSITIONS: dict[VisitStatus, frozenset[VisitStatus]] = {
    VisitStatus.submitted: frozenset({VisitStatus.triaged, VisitStatus.scheduled, VisitStatus.cancelled}),
    VisitStatus.triaged: frozenset({VisitStatus.scheduled, VisitStatus.unreachable, VisitStatus.cancelled}),
    VisitStatus.scheduled: frozenset({VisitStatus.scheduled, VisitStatus.visited, VisitStatus.unreachable, VisitStatus.cancelled}),
}
CREW_MOVES = frozenset({VisitStatus.visited, VisitStatus.unreachable})


def read_root(principal: Principal, area: str | None) -> str | None:
    """The subtree a staff read covers: the asked area, within a supervisor's own scope."""
    if area is not None:
        areas.require_code(area, field="area", location="query")
    if principal.role == Role.supervisor:
        if area is None:
            return principal.area
        if principal.area is None or not is_within(area, principal.area):
            raise Forbidden(
                code="scope.area", params={"code": area}, errors=[field_problem("area", location="query", code="scope.area", params={"code": area})]
            )
    return area


async def crew_operator(session: AsyncSession, actor: Principal) -> int:
    """The active petugas an operator account is; 403 for an account that is no (active) petugas."""
    if actor.operator_id is None:
        raise Forbidden(code="crew.not_linked")
    status = await session.scalar(select(Operator.status).where(Operator.id == actor.operator_id))
    if status != OperatorStatus.active:
        raise Forbidden(code="crew.not_active", params={"status": status or "gone"})
    return actor.operator_id


async def visit_for_staff(session: AsyncSession, *, visit_id: int, actor: Principal, write: bool) -> HomeVisit:
    stmt = select(HomeVisit).where(HomeVisit.id == visit_id)
    if write:
        stmt = stmt.with_for_update()
    visit = await session.scalar(stmt)
    if visit is None:
        raise NotFound(code="not_found.such", params={"what": "home-visit request"})
    ensure_sees_personal(actor, visit.area_code, what="home-visit request")
    if write:
        ensure_area(actor, visit.area_code)
    return visit


async def crew_visit(session: AsyncSession, *, visit_id: int, actor: Principal) -> HomeVisit:
    """A visit the calling operator account is scheduled on, locked for the change; 404 otherwise."""
    operator_id = await crew_operator(session, actor)
    visit = await session.scalar(select(HomeVisit).where(HomeVisit.id == visit_id).with_for_update())
    if visit is None or visit.operator_id != operator_id:
        raise NotFound(code="not_found.such", params={"what": "home-visit request"})
    return visit


def ensure_move(visit: HomeVisit, target: VisitStatus) -> None:
    current = VisitStatus(visit.status)
    allowed = TRANSITIONS.get(current, frozenset())
    if target not in allowed:
        if not allowed:
            raise Conflict(code="visit.closed", params={"status": current.value, "target": target.value})
        raise Conflict(code="visit.move", params={"status": current.value, "target": target.value, "allowed": sorted(allowed)})


ERASED_PHONE = ""


def phone_of(stored: str) -> str | None:
    """A stored phone as read: null once erased."""
    return stored or None


async def erase_phones(session: AsyncSession, *, visit: HomeVisit) -> None:
    """A closed request keeps no phone: the requester's, and those of the requests merged into it."""
    if VisitStatus(visit.status) in OPEN_STATUSES:
        return
    visit.phone = ERASED_PHONE
    await session.execute(
        update(HomeVisitMerge).where(HomeVisitMerge.home_visit_id == visit.id).values(phone=ERASED_PHONE).execution_options(synchronize_session=False)
    )


async def record_move(session: AsyncSession, *, visit: HomeVisit, before: dict[str, Any], actor: Principal, action: str, note: str | None) -> None:
    visit.updated_at = calendar.now_utc()
    session.add(
        HomeVisitEvent(home_visit_id=visit.id, at=visit.updated_at, actor_name=actor.name, from_status=before["status"], to_status=visit.status, note=note)
    )
    await session.flush()
    await audit.record(
        session, actor=actor, action=action, entity="home_visit", entity_id=visit.id, before=before, after=audit.snapshot_of(visit, AUDIT_FIELDS)
    )
