"""Fee complaints (pungli): residents report anyone who charges for free recording; the city acts.

Rules
- Anyone may report, without signing in (public writes are rate-limited per client address):
  where (a service point, or an area at kecamatan level or below with a `place`), when (not in
  the future), who (an operator's id, or a description), the amount asked or paid (rupiah, > 0)
  and what happened. Name and contact are optional.
- The reporter gets a receipt, `PGL-` and 16 characters of Crockford's base 32 drawn from
  `secrets` (80 bits: guessing is hopeless), unique. It is shown once, never to staff, never
  logged or audited. Typing it is forgiving: case, spaces, hyphens, O/0 and I/L/1 do not matter.
- With the receipt, and nothing else, a reporter sees the status, the city's public replies and
  their own messages, and adds messages (not once the complaint is closed). A wrong receipt is a
  plain 404; after REKAM_RECEIPT_GUESS_LIMIT wrong receipts a client address is refused (429),
  right receipts included, until the window ends.
- The reporter's identity lives in its own table, written only when given. It is read in one
  place: an admin's explicit disclosure with a reason, audited as `complaint.read_reporter` with
  the reason and never the identity. It is in no list, detail, export, log or audit payload.
  The reporter's network address is not kept in the audit entries of their actions either.
- Staff who handle complaints: admins and the `handler` role. Everyone else gets 404 for a
  complaint (403 for the list), as does anyone whose account is linked to the operator the
  complaint is about (`users.operator_id`): nobody sees complaints about themselves, and such a
  user cannot be assigned to handle one.
- Workflow, each step with a note (anything else is 409):
  received -> investigating -> substantiated | unsubstantiated;
  substantiated -> action_taken -> closed; unsubstantiated -> closed.
  The finding (substantiated or not) stays on the complaint after it is closed. Handlers may add
  internal notes at any time, closed or not, without taking a step; the reporter never sees them.
- The first public reply is due REKAM_COMPLAINT_RESPONSE_DAYS working days (Monday to Friday,
  default 5; public holidays are not known to the system) after the day of receipt, in
  Asia/Jakarta. A complaint is overdue when it has no public reply, is not closed, and its day is past.
- A complaint with a substantiated finding (substantiated or action_taken) that names an operator
  can record one sanction: a warning (no change), a suspension (operator `suspended`) or a
  removal (operator `left`), from a date not before the day of receipt.
- Public statistics: see stats.py.
"""

import re
import secrets
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from api import ratelimit
from api.area_codes import KECAMATAN_DEPTH, depth_of, in_subtree, require_code
from api.areas import service as areas
from api.audit import service as audit
from api.auth.models import User
from api.complaints.models import (
    Complaint,
    ComplaintEntry,
    ComplaintReporter,
    ComplaintStatus,
    EntryKind,
    Finding,
    Sanction,
    SanctionKind,
)
from api.complaints.schemas import (
    ComplaintCreate,
    ComplaintDetail,
    ComplaintRead,
    ComplaintTracking,
    ComplaintUpdate,
    ConversationLine,
    EntryRead,
    MessageCreate,
    NoteCreate,
    ReplyCreate,
    ReporterRead,
    SanctionCreate,
    SanctionRead,
    TransitionCreate,
)
from api.config import get_settings
from api.devices import service as devices
from api.devices.models import Operator, OperatorStatus
from api.errors import Conflict, Forbidden, NotFound, RuleViolation, Unauthorized, field_problem
from api.middleware import client_var
from api.pagination import PageParams, paginate
from api.principal import Principal
from api.services.models import ServicePoint
from api.types import Role

HANDLING_ROLES = frozenset({Role.admin, Role.handler})
RECEIPT_PREFIX = "PGL"
# Crockford's base 32: no I, L, O or U, so that a receipt read aloud or copied by hand survives.
RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECEIPT_LENGTH = 16  # 16 x 5 bits = 80 bits
RECEIPT_GUESS_BUCKET = "receipt-guess"
# How far back a complaint's `occurred_on` may lie (issue #17, item 13): e-KTP campaigns run months.
MAX_COMPLAINT_AGE_DAYS = 366

NEXT_STATUSES: dict[ComplaintStatus, frozenset[ComplaintStatus]] = {
    ComplaintStatus.received: frozenset({ComplaintStatus.investigating}),
    ComplaintStatus.investigating: frozenset({ComplaintStatus.substantiated, ComplaintStatus.unsubstantiated}),
    ComplaintStatus.substantiated: frozenset({ComplaintStatus.action_taken}),
    ComplaintStatus.unsubstantiated: frozenset({ComplaintStatus.closed}),
    ComplaintStatus.action_taken: frozenset({ComplaintStatus.closed}),
    ComplaintStatus.closed: frozenset(),
}
FINDINGS = {ComplaintStatus.substantiated: Finding.substantiated, ComplaintStatus.unsubstantiated: Finding.unsubstantiated}
SANCTION_STATUSES = {SanctionKind.suspension: OperatorStatus.suspended, SanctionKind.removal: OperatorStatus.left}
# What audit entries keep of a complaint: no receipt (it would let a reader act as the reporter).
AUDIT_FIELDS = [
    "id",
    "status",
    "finding",
    "service_point_id",
    "area_code",
    "place",
    "occurred_on",
    "operator_id",
    "operator_description",
    "amount",
    "handler_id",
    "due_on",
]


# --- time -------------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def local_date(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(get_settings().timezone)).date()


def today() -> date:
    return local_date(_now())


def working_days_after(start: date, days: int) -> date:
    """The day `days` working days (Monday to Friday) after `start`."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def is_overdue(complaint: Complaint, *, on: date) -> bool:
    return complaint.first_response_at is None and complaint.status != ComplaintStatus.closed and complaint.due_on < on


def _overdue_clause(on: date) -> Any:
    return and_(Complaint.first_response_at.is_(None), Complaint.status != ComplaintStatus.closed.value, Complaint.due_on < on)


# --- receipts ---------------------------------------------------------------------------------


def new_receipt() -> str:
    body = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))
    return "-".join([RECEIPT_PREFIX, *(body[i : i + 4] for i in range(0, RECEIPT_LENGTH, 4))])


def normalise_receipt(text: str) -> str | None:
    """The stored form of a receipt as a person typed it, or None when it cannot be one."""
    compact = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(compact) == len(RECEIPT_PREFIX) + RECEIPT_LENGTH and compact.startswith(RECEIPT_PREFIX):
        compact = compact[len(RECEIPT_PREFIX) :]
    compact = compact.translate(str.maketrans("OIL", "011"))
    if len(compact) != RECEIPT_LENGTH or any(ch not in RECEIPT_ALPHABET for ch in compact):
        return None
    return "-".join([RECEIPT_PREFIX, *(compact[i : i + 4] for i in range(0, RECEIPT_LENGTH, 4))])


async def _unused_receipt(session: AsyncSession) -> str:
    # A collision is a 2^-80 event; the unique constraint stands behind this check anyway.
    while True:
        receipt = new_receipt()
        if await session.scalar(select(Complaint.id).where(Complaint.receipt == receipt)) is None:
            return receipt


async def _by_receipt(session: AsyncSession, *, receipt: str) -> Complaint:
    """The complaint of a receipt; wrong receipts are counted per client and throttled."""
    client = client_var.get() or "unknown"
    limit = get_settings().receipt_guess_rate
    await ratelimit.check(session, bucket=RECEIPT_GUESS_BUCKET, key=client, limit=limit)
    code = normalise_receipt(receipt)
    complaint = None if code is None else await session.scalar(select(Complaint).where(Complaint.receipt == code))
    if complaint is None:
        await ratelimit.count(session, bucket=RECEIPT_GUESS_BUCKET, key=client, limit=limit)
        # keep_changes: the count must outlive this failed request, or guessing would be free.
        raise NotFound(code="complaint.receipt_unknown", keep_changes=True)
    return complaint


# --- who may see what -------------------------------------------------------------------------


def ensure_handles_complaints(principal: Principal) -> None:
    """401 anonymous; 404 (not 403) for staff who do not handle complaints: nothing to confirm."""
    if not principal.is_staff:
        raise Unauthorized(code="auth.required")
    if principal.role not in HANDLING_ROLES:
        raise NotFound(code="complaint.unknown")


async def _own_operator_id(session: AsyncSession, principal: Principal) -> int | None:
    """The operator the caller's account is (users.operator_id), if any."""
    if principal.kind != "user" or principal.id is None:
        return None
    return await session.scalar(select(User.operator_id).where(User.id == principal.id))


async def _get_for(session: AsyncSession, *, complaint_id: int, principal: Principal) -> Complaint:
    ensure_handles_complaints(principal)
    complaint = await session.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFound(code="complaint.unknown")
    own = await _own_operator_id(session, principal)
    if own is not None and complaint.operator_id == own:
        raise NotFound(code="complaint.unknown")
    return complaint


async def _record_for_reporter(session: AsyncSession, *, actor: Principal, **entry: Any) -> None:
    """Audit a reporter's action; a resident's network address could identify them, so it is left out."""
    if actor.is_staff:
        await audit.record(session, actor=actor, **entry)
        return
    token = client_var.set(None)
    try:
        await audit.record(session, actor=actor, **entry)
    finally:
        client_var.reset(token)


# --- reporting (public) -----------------------------------------------------------------------


async def _where(session: AsyncSession, data: ComplaintCreate) -> str:
    """The complaint's area code, from its service point or its area; checks the place."""
    if (data.service_point is None) == (data.area is None):
        raise RuleViolation.on_field("service_point_id", code="complaint.where_missing" if data.service_point is None else "complaint.where_both")
    if data.service_point is not None:
        point = await session.get(ServicePoint, data.service_point)
        if point is None:
            raise RuleViolation.on_field("service_point_id", code="complaint.point_unknown")
        return point.area_code
    assert data.area is not None
    try:
        await areas.get(session, code=data.area, field="area", location="body")
    except NotFound as exc:
        raise RuleViolation(exc.detail, errors=exc.errors, code=exc.code, params=exc.params) from None
    if depth_of(data.area) < KECAMATAN_DEPTH:
        raise RuleViolation.on_field("area", code="complaint.area_level")
    if not data.place:
        raise RuleViolation.on_field("place", code="complaint.place_missing")
    return data.area


async def submit(session: AsyncSession, *, data: ComplaintCreate, actor: Principal) -> Complaint:
    """A new complaint; the caller shows its receipt once."""
    area_code = await _where(session, data)
    if data.occurred_on > today():
        raise RuleViolation.on_field("occurred_on", code="complaint.occurred_future")
    if data.occurred_on < today() - timedelta(days=MAX_COMPLAINT_AGE_DAYS):
        raise RuleViolation.on_field("occurred_on", code="complaint.too_old", params={"days": MAX_COMPLAINT_AGE_DAYS})
    if data.operator is not None and await session.get(Operator, data.operator) is None:
        raise RuleViolation.on_field("operator_id", code="complaint.operator_unknown")
    received_at = _now()
    received_on = local_date(received_at)
    complaint = Complaint(
        receipt=await _unused_receipt(session),
        status=ComplaintStatus.received.value,
        service_point_id=data.service_point,
        area_code=area_code,
        place=data.place or None,
        occurred_on=data.occurred_on,
        operator_id=data.operator,
        operator_description=data.operator_description or None,
        amount=data.amount,
        description=data.description,
        received_at=received_at,
        received_on=received_on,
        due_on=working_days_after(received_on, get_settings().complaint_response_days),
    )
    session.add(complaint)
    await session.flush()
    name, contact = data.reporter_name or None, data.reporter_contact or None
    if name or contact:
        session.add(ComplaintReporter(complaint_id=complaint.id, reporter_name=name, reporter_contact=contact))
        await session.flush()
    after = audit.snapshot_of(complaint, AUDIT_FIELDS) | {"reporter_given": bool(name or contact)}
    await _record_for_reporter(session, actor=actor, action="complaint.create", entity="complaint", entity_id=complaint.id, after=after)
    return complaint


async def _conversation(session: AsyncSession, complaint: Complaint) -> ComplaintTracking:
    lines = (
        await session.scalars(
            select(ComplaintEntry)
            .where(ComplaintEntry.complaint_id == complaint.id, ComplaintEntry.kind.in_([EntryKind.reply.value, EntryKind.message.value]))
            .order_by(ComplaintEntry.at, ComplaintEntry.id)
        )
    ).all()
    return ComplaintTracking(
        status=ComplaintStatus(complaint.status),
        received_on=complaint.received_on,
        reply_due_on=complaint.due_on,
        conversation=[ConversationLine(at=e.at, author="city" if e.kind == EntryKind.reply else "reporter", text=e.text) for e in lines],
    )


async def track(session: AsyncSession, *, receipt: str) -> ComplaintTracking:
    return await _conversation(session, await _by_receipt(session, receipt=receipt))


async def add_message(session: AsyncSession, *, receipt: str, data: MessageCreate, actor: Principal) -> ComplaintTracking:
    complaint = await _by_receipt(session, receipt=receipt)
    if complaint.status == ComplaintStatus.closed:
        raise Conflict(code="complaint.closed")
    entry = ComplaintEntry(complaint_id=complaint.id, at=_now(), kind=EntryKind.message.value, text=data.text, author_id=None)
    session.add(entry)
    await session.flush()
    # Not the text: the reporter's own words may say who they are.
    await _record_for_reporter(session, actor=actor, action="complaint.message", entity="complaint", entity_id=complaint.id, after={"entry_id": entry.id})
    return await _conversation(session, complaint)


# --- handling (staff) -------------------------------------------------------------------------


def _read(complaint: Complaint, *, contactable: set[int], on: date) -> ComplaintRead:
    columns = {column.key: getattr(complaint, column.key) for column in Complaint.__table__.columns}
    return ComplaintRead.model_validate(columns | {"overdue": is_overdue(complaint, on=on), "reporter_contactable": complaint.id in contactable})


async def _contactable(session: AsyncSession, ids: list[int]) -> set[int]:
    """Which of these complaints have a reporter row: its key only, never the identity."""
    if not ids:
        return set()
    return set((await session.scalars(select(ComplaintReporter.complaint_id).where(ComplaintReporter.complaint_id.in_(ids)))).all())


async def list_complaints(
    session: AsyncSession,
    *,
    principal: Principal,
    page: PageParams,
    status: ComplaintStatus | None = None,
    area: str | None = None,
    overdue: bool | None = None,
    handler_id: int | None = None,
) -> tuple[list[ComplaintRead], str | None]:
    stmt: Select[Any] = select(Complaint)
    own = await _own_operator_id(session, principal)
    if own is not None:
        stmt = stmt.where(or_(Complaint.operator_id.is_(None), Complaint.operator_id != own))
    if status is not None:
        stmt = stmt.where(Complaint.status == status.value)
    if area is not None:
        require_code(area, field="area", location="query")
        stmt = stmt.where(in_subtree(Complaint.area_code, area))
    on = today()
    if overdue is not None:
        stmt = stmt.where(_overdue_clause(on) if overdue else not_(_overdue_clause(on)))
    if handler_id is not None:
        stmt = stmt.where(Complaint.handler_id == handler_id)
    items, next_cursor = await paginate(session, stmt, keys=[Complaint.id], page=page)
    contactable = await _contactable(session, [c.id for c in items])
    return [_read(c, contactable=contactable, on=on) for c in items], next_cursor


# An assignment entry records what changed as `handler_id: 3; operator_id: 18` (None: unassigned);
# a sanction entry written before its note stood alone starts `suspension from 2026-12-06: `.
_ASSIGNED = re.compile(r"\b(handler_id|operator_id): (\d+|None)\b")
_SANCTION_PREFIX = re.compile(r"^(warning|suspension|removal) from [0-9]{4}-[0-9]{2}-[0-9]{2}: ")
_ASSIGNMENT_CODES = {
    frozenset({"handler_id"}): "history.assigned_handler",
    frozenset({"operator_id"}): "history.assigned_operator",
    frozenset({"handler_id", "operator_id"}): "history.assigned_both",
}


async def _history(session: AsyncSession, entries: Sequence[ComplaintEntry], sanction: Sanction | None) -> list[EntryRead]:
    """The log as people read it: the steps Rekam writes (an assignment, a sanction, a workflow
    step) carry a code and params, with the names of the people assigned, never their ids."""
    assigned = {e.id: dict(_ASSIGNED.findall(e.text)) for e in entries if e.kind == EntryKind.assignment}
    user_ids = {int(v) for pairs in assigned.values() for k, v in pairs.items() if k == "handler_id" and v != "None"}
    operator_ids = {int(v) for pairs in assigned.values() for k, v in pairs.items() if k == "operator_id" and v != "None"}
    users = dict((await session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids)))).all()) if user_ids else {}
    operators = dict((await session.execute(select(Operator.id, Operator.name).where(Operator.id.in_(operator_ids)))).all()) if operator_ids else {}
    out = []
    for entry in entries:
        read = EntryRead.model_validate(entry)
        if entry.kind == EntryKind.assignment and assigned[entry.id]:
            pairs = assigned[entry.id]
            names = {"handler_id": ("handler", users), "operator_id": ("operator", operators)}
            read.code = _ASSIGNMENT_CODES.get(frozenset(pairs))
            read.params = {names[k][0]: "—" if v == "None" else names[k][1].get(int(v), f"#{v}") for k, v in pairs.items()}
        elif entry.kind == EntryKind.sanction and sanction is not None:
            read.code, read.params = "history.sanction", {"kind": sanction.kind, "from": sanction.effective_from.isoformat()}
            read.text = _SANCTION_PREFIX.sub("", entry.text)
        elif entry.kind == EntryKind.transition:
            read.code, read.params = "history.transition", {"status": entry.from_status, "target": entry.to_status}
        out.append(read)
    return out


async def _detail(session: AsyncSession, complaint: Complaint) -> ComplaintDetail:
    entries = (
        await session.scalars(select(ComplaintEntry).where(ComplaintEntry.complaint_id == complaint.id).order_by(ComplaintEntry.at, ComplaintEntry.id))
    ).all()
    sanction = await session.scalar(select(Sanction).where(Sanction.complaint_id == complaint.id))
    summary = _read(complaint, contactable=await _contactable(session, [complaint.id]), on=today())
    return ComplaintDetail(
        **summary.model_dump(),
        entries=await _history(session, entries, sanction),
        sanction=SanctionRead.model_validate(sanction) if sanction else None,
    )


async def get_complaint(session: AsyncSession, *, complaint_id: int, principal: Principal) -> ComplaintDetail:
    return await _detail(session, await _get_for(session, complaint_id=complaint_id, principal=principal))


def _log(session: AsyncSession, complaint: Complaint, actor: Principal, kind: EntryKind, text: str, **states: str) -> None:
    author = actor.id if actor.kind == "user" else None
    session.add(ComplaintEntry(complaint_id=complaint.id, at=_now(), kind=kind.value, text=text, author_id=author, **states))


async def update_complaint(session: AsyncSession, *, complaint_id: int, data: ComplaintUpdate, actor: Principal) -> ComplaintDetail:
    """Assign a handler or name the operator the complaint is about."""
    complaint = await _get_for(session, complaint_id=complaint_id, principal=actor)
    changes = data.model_dump(exclude_unset=True)
    operator_id = changes.get("operator_id", complaint.operator_id)
    handler_id = changes.get("handler_id", complaint.handler_id)
    if "operator_id" in changes and operator_id is not None and await session.get(Operator, operator_id) is None:
        raise RuleViolation.on_field("operator_id", code="unknown_reference")
    if handler_id is not None:
        handler = await session.get(User, handler_id)
        if handler is None or not handler.active or handler.role not in HANDLING_ROLES:
            raise RuleViolation.on_field("handler_id", code="complaint.handler_role")
        if operator_id is not None and handler.operator_id == operator_id:
            raise RuleViolation.on_field("handler_id", code="complaint.handler_self")
    before = audit.snapshot_of(complaint, AUDIT_FIELDS)
    changed = {name: value for name, value in changes.items() if getattr(complaint, name) != value}
    if not changed:
        return await _detail(session, complaint)
    for name, value in changed.items():
        setattr(complaint, name, value)
    _log(session, complaint, actor, EntryKind.assignment, "; ".join(f"{name}: {value}" for name, value in changed.items()))
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="complaint.update",
        entity="complaint",
        entity_id=complaint.id,
        before=before,
        after=audit.snapshot_of(complaint, AUDIT_FIELDS),
    )
    return await _detail(session, complaint)


async def transition(session: AsyncSession, *, complaint_id: int, data: TransitionCreate, actor: Principal) -> ComplaintDetail:
    """One step of the workflow, with its note; 409 for a step the workflow does not have."""
    complaint = await _get_for(session, complaint_id=complaint_id, principal=actor)
    current = ComplaintStatus(complaint.status)
    if data.status not in NEXT_STATUSES[current]:
        params = {"status": current.value, "target": data.status.value, "allowed": sorted(NEXT_STATUSES[current])}
        raise Conflict(code="complaint.step", params=params, errors=[field_problem("status", code="complaint.not_next", params={"status": current.value})])
    before = audit.snapshot_of(complaint, AUDIT_FIELDS)
    complaint.status = data.status.value
    if data.status in FINDINGS:
        complaint.finding = FINDINGS[data.status].value
    if data.status == ComplaintStatus.closed:
        complaint.closed_at = _now()
    _log(session, complaint, actor, EntryKind.transition, data.note, from_status=current.value, to_status=data.status.value)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="complaint.transition",
        entity="complaint",
        entity_id=complaint.id,
        before=before,
        after=audit.snapshot_of(complaint, AUDIT_FIELDS) | {"note": data.note},
    )
    return await _detail(session, complaint)


async def reply(session: AsyncSession, *, complaint_id: int, data: ReplyCreate, actor: Principal) -> ComplaintDetail:
    """A public reply: the reporter reads it with the receipt. The first one answers the deadline."""
    complaint = await _get_for(session, complaint_id=complaint_id, principal=actor)
    now = _now()
    if complaint.first_response_at is None:
        complaint.first_response_at = now
    _log(session, complaint, actor, EntryKind.reply, data.text)
    await session.flush()
    await audit.record(session, actor=actor, action="complaint.reply", entity="complaint", entity_id=complaint.id, after={"text": data.text})
    return await _detail(session, complaint)


async def add_note(session: AsyncSession, *, complaint_id: int, data: NoteCreate, actor: Principal) -> ComplaintDetail:
    """An internal note (what was checked, who was called) without a workflow step; staff only."""
    complaint = await _get_for(session, complaint_id=complaint_id, principal=actor)
    _log(session, complaint, actor, EntryKind.note, data.text)
    await session.flush()
    await audit.record(session, actor=actor, action="complaint.note", entity="complaint", entity_id=complaint.id, after={"text": data.text})
    return await _detail(session, complaint)


async def _apply_sanction_to_operator(
    session: AsyncSession, *, operator_id: int, kind: SanctionKind, effective_from: date, actor: Principal, reason: str
) -> None:
    """Suspension and removal change the operator's status and end their postings from the date
    (the devices domain owns that rule); a warning changes nothing."""
    status = SANCTION_STATUSES.get(kind)
    if status is None:
        return
    await devices.change_operator_status(session, operator_id=operator_id, status=status, effective_from=effective_from, actor=actor, reason=reason)


async def record_sanction(session: AsyncSession, *, complaint_id: int, data: SanctionCreate, actor: Principal) -> SanctionRead:
    complaint = await _get_for(session, complaint_id=complaint_id, principal=actor)
    if complaint.finding != Finding.substantiated or complaint.status == ComplaintStatus.closed:
        raise Conflict(code="sanction.not_substantiated")
    if complaint.operator_id is None:
        raise RuleViolation.on_field("operator_id", code="sanction.operator_missing")
    if await session.scalar(select(Sanction.id).where(Sanction.complaint_id == complaint.id)) is not None:
        raise Conflict(code="sanction.exists")
    if data.effective_from < complaint.received_on:
        raise RuleViolation.on_field("effective_from", code="sanction.before_received")
    sanction = Sanction(
        complaint_id=complaint.id,
        operator_id=complaint.operator_id,
        kind=data.kind.value,
        effective_from=data.effective_from,
        note=data.note,
        recorded_by_id=actor.id if actor.kind == "user" else None,
        recorded_at=_now(),
    )
    session.add(sanction)
    # The kind and the day are the sanction's own (the entry reads them from it): the entry keeps the note.
    _log(session, complaint, actor, EntryKind.sanction, data.note)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="complaint.sanction",
        entity="complaint",
        entity_id=complaint.id,
        after=audit.snapshot_of(sanction, ["id", "operator_id", "kind", "effective_from", "note"]),
    )
    await _apply_sanction_to_operator(
        session,
        operator_id=complaint.operator_id,
        kind=data.kind,
        effective_from=data.effective_from,
        actor=actor,
        reason=f"complaint {complaint.id}: {data.kind.value}",
    )
    return SanctionRead.model_validate(sanction)


async def open_reporter(session: AsyncSession, *, complaint_id: int, reason: str, actor: Principal) -> ReporterRead:
    """The reporter's identity, for an admin who gives a reason; audited without the identity."""
    complaint = await _get_for(session, complaint_id=complaint_id, principal=actor)
    if actor.role != Role.admin:
        raise Forbidden(code="complaint.reporter_admin_only")
    reporter = await session.get(ComplaintReporter, complaint.id)
    if reporter is None:
        raise NotFound(code="complaint.reporter_anonymous")
    await audit.record(session, actor=actor, action="complaint.read_reporter", entity="complaint", entity_id=complaint.id, after={"reason": reason})
    return ReporterRead(reporter_name=reporter.reporter_name, reporter_contact=reporter.reporter_contact)


async def receipt_of(session: AsyncSession, *, complaint_id: int) -> str | None:
    """The receipt of a complaint not yet closed (for "kirim ulang kode"); None otherwise."""
    return await session.scalar(select(Complaint.receipt).where(Complaint.id == complaint_id, Complaint.status != ComplaintStatus.closed.value))
