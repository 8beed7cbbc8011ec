"""Operators (petugas): who they are, their status, and where they are posted.

Rules
- Operators: name, unique staff number, phone (personal data: masked as "…1234" in lists; in
  full only in the single-record read for admin and for a supervisor in whose area the operator
  is posted, and each such read is audited), status (active, suspended, left; `left` is final)
  and whether they were added for this campaign.
- Operators are posted (assigned) to a service point or a kecamatan with dates, one place at a
  time, by the rules of `placements`; only an active operator can be posted. Suspension or
  leaving ends the operator's postings from the day it takes effect (`change_operator_status`,
  also used by the complaints domain).
- Scope: the city office registers operators; a supervisor changes the details of an operator
  posted in their area today.
- Every change is audited, one entry per change.
"""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api import calendar
from api.areas import service as areas
from api.audit import service as audit
from api.devices.availability import covering, operators_at
from api.devices.models import Operator, OperatorAssignment, OperatorStatus
from api.devices.placements import end_places, flush_or_conflict, place
from api.devices.schemas import AssignmentRead, OperatorCreate, OperatorRead, OperatorUpdate, PlacementCreate
from api.errors import Conflict, Forbidden, RuleViolation, field_problem, get_or_404
from api.pagination import PageParams, paginate
from api.principal import Principal
from api.types import Role

OPERATOR_FIELDS = ["name", "staff_number", "phone", "status", "added_for_campaign"]
OPERATOR_TRANSITIONS: dict[OperatorStatus, frozenset[OperatorStatus]] = {
    OperatorStatus.active: frozenset({OperatorStatus.suspended, OperatorStatus.left}),
    OperatorStatus.suspended: frozenset({OperatorStatus.active, OperatorStatus.left}),
    OperatorStatus.left: frozenset(),
}


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = "".join(ch for ch in phone if ch in "0123456789")
    return "…" + digits[-4:]


async def _ensure_staff_number_free(session: AsyncSession, staff_number: str, *, operator_id: int | None = None) -> None:
    other = await session.scalar(select(Operator.id).where(Operator.staff_number == staff_number))
    if other is not None and other != operator_id:
        raise Conflict(code="operator.staff_number_taken", errors=[field_problem("staff_number", code="operator.staff_number_taken")])


async def get_operator_row(session: AsyncSession, *, operator_id: int) -> Operator:
    return await get_or_404(session, Operator, operator_id, what="operator")


async def operator_reads(session: AsyncSession, operators: Sequence[Operator], *, day: date, full_phone_for: int | None = None) -> list[OperatorRead]:
    ids = [o.id for o in operators]
    posted = {}
    if ids:
        rows = await session.scalars(select(OperatorAssignment).where(OperatorAssignment.operator_id.in_(ids), covering(OperatorAssignment, day)))
        posted = {a.operator_id: a for a in rows.all()}
    return [
        OperatorRead(
            id=o.id,
            name=o.name,
            staff_number=o.staff_number,
            phone=o.phone if o.id == full_phone_for else mask_phone(o.phone),
            status=OperatorStatus(o.status),
            added_for_campaign=o.added_for_campaign,
            assigned=AssignmentRead.model_validate(posted[o.id]) if o.id in posted else None,
        )
        for o in operators
    ]


async def create_operator(session: AsyncSession, *, data: OperatorCreate, actor: Principal) -> OperatorRead:
    await _ensure_staff_number_free(session, data.staff_number)
    operator = Operator(
        name=data.name, staff_number=data.staff_number, phone=data.phone, status=OperatorStatus.active.value, added_for_campaign=data.added_for_campaign
    )
    session.add(operator)
    await flush_or_conflict(session, code="operator.staff_number_taken")
    await audit.record(
        session, actor=actor, action="operator.create", entity="operator", entity_id=operator.id, after=audit.snapshot_of(operator, OPERATOR_FIELDS)
    )
    return (await operator_reads(session, [operator], day=calendar.today(), full_phone_for=operator.id))[0]


async def list_operators(
    session: AsyncSession,
    *,
    page: PageParams,
    status: str | None = None,
    area: str | None = None,
    added_for_campaign: bool | None = None,
    service_point: int | None = None,
    on: date | None = None,
) -> tuple[list[OperatorRead], str | None]:
    """Operators with masked phones; `area` keeps those posted in that subtree today;
    `service_point` those at that point on `on` (default today), posted there or at its weekend service."""
    day = calendar.today()
    stmt = select(Operator)
    if service_point is not None:
        stmt = stmt.where(Operator.id.in_(await operators_at(session, point_id=service_point, day=on or day)))
    if status:
        stmt = stmt.where(Operator.status == status)
    if added_for_campaign is not None:
        stmt = stmt.where(Operator.added_for_campaign.is_(added_for_campaign))
    if area:
        areas.require_code(area, location="query")
        here = select(OperatorAssignment.operator_id).where(covering(OperatorAssignment, day), areas.in_subtree(OperatorAssignment.area_code, area))
        stmt = stmt.where(Operator.id.in_(here))
    operators, next_cursor = await paginate(session, stmt, keys=[Operator.id], page=page)
    return await operator_reads(session, operators, day=day), next_cursor


async def _operator_in_scope(session: AsyncSession, operator: Operator, actor: Principal) -> bool:
    if actor.role == Role.admin:
        return True
    if actor.role != Role.supervisor:
        return False
    posted = await session.scalar(
        select(OperatorAssignment.area_code).where(OperatorAssignment.operator_id == operator.id, covering(OperatorAssignment, calendar.today()))
    )
    return posted is not None and actor.covers_area(posted)


async def get_operator(session: AsyncSession, *, operator_id: int, actor: Principal) -> OperatorRead:
    """One operator; the phone in full for admin or a supervisor of the operator's area (audited)."""
    operator = await get_operator_row(session, operator_id=operator_id)
    full = operator.phone is not None and await _operator_in_scope(session, operator, actor)
    if full:
        await audit.record(session, actor=actor, action="operator.read_personal", entity="operator", entity_id=operator.id, after={"fields": ["phone"]})
    return (await operator_reads(session, [operator], day=calendar.today(), full_phone_for=operator.id if full else None))[0]


async def change_operator_status(
    session: AsyncSession, *, operator_id: int, status: OperatorStatus | str, effective_from: date, actor: Principal, reason: str | None
) -> Operator:
    """Suspend, reinstate or record that an operator left; suspension and leaving end the
    operator's postings from `effective_from` (periods running then end the day before, later
    ones are cancelled). Reinstating does not restore postings. The same status again only
    re-applies the end of postings. Used by the complaints domain for sanctions."""
    operator = await get_operator_row(session, operator_id=operator_id)
    new, old = OperatorStatus(status), OperatorStatus(operator.status)
    if new != old and new not in OPERATOR_TRANSITIONS[old]:
        params = {"status": old.value, "target": new.value}
        raise Conflict(code="status.move", params=params, errors=[field_problem("status", code="status.move", params=params)])
    if new != old:
        before = audit.snapshot_of(operator, ["status"])
        operator.status = new.value
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action="operator.status",
            entity="operator",
            entity_id=operator.id,
            before=before,
            after={"status": new.value, "effective_from": effective_from, "reason": reason},
        )
    if new != OperatorStatus.active:
        await end_places(
            session, OperatorAssignment, OperatorAssignment.operator_id, operator.id, from_day=effective_from, actor=actor, entity="assignment", reason=reason
        )
    return operator


async def update_operator(session: AsyncSession, *, operator_id: int, data: OperatorUpdate, actor: Principal) -> OperatorRead:
    operator = await get_operator_row(session, operator_id=operator_id)
    if not await _operator_in_scope(session, operator, actor):
        raise Forbidden(code="scope.not_posted_here", params={"what": "operator"})
    changes = data.model_dump(exclude_unset=True)
    status, reason = changes.pop("status", None), changes.pop("reason", None)
    for required in ("name", "staff_number", "added_for_campaign"):
        if required in changes and changes[required] is None:
            raise RuleViolation.on_field(required, code="not_null")
    if "staff_number" in changes:
        await _ensure_staff_number_free(session, changes["staff_number"], operator_id=operator.id)
    before = audit.snapshot_of(operator, OPERATOR_FIELDS)
    for name, value in changes.items():
        setattr(operator, name, value)
    await flush_or_conflict(session, code="operator.staff_number_taken")
    after = audit.snapshot_of(operator, OPERATOR_FIELDS)
    if after != before:
        await audit.record(session, actor=actor, action="operator.update", entity="operator", entity_id=operator.id, before=before, after=after)
    if status is not None:
        await change_operator_status(session, operator_id=operator.id, status=status, effective_from=calendar.today(), actor=actor, reason=reason)
    return (await operator_reads(session, [operator], day=calendar.today()))[0]


async def assign_operator(session: AsyncSession, *, operator_id: int, data: PlacementCreate, actor: Principal) -> OperatorAssignment:
    operator = await get_operator_row(session, operator_id=operator_id)
    if operator.status != OperatorStatus.active.value:
        params = {"what": "operator", "status": operator.status}
        raise Conflict(
            code="placement.not_active", params=params, errors=[field_problem("operator_id", location="path", code="placement.not_active", params=params)]
        )
    assignment = await place(
        session,
        model=OperatorAssignment,
        owner=OperatorAssignment.operator_id,
        owner_id=operator.id,
        data=data,
        actor=actor,
        entity="assignment",
        what="operator",
    )
    assert isinstance(assignment, OperatorAssignment)
    return assignment


async def operator_history(session: AsyncSession, *, operator_id: int, page: PageParams) -> tuple[list[OperatorAssignment], str | None]:
    await get_operator_row(session, operator_id=operator_id)
    stmt = select(OperatorAssignment).where(OperatorAssignment.operator_id == operator_id)
    return await paginate(session, stmt, keys=[OperatorAssignment.starts_on, OperatorAssignment.id], page=page)
