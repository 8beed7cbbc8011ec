"""Notifications: the outbox, webhook subscriptions and resident contacts.

Rules:
- `emit()` writes the event, one pending delivery per active subscription to its type, and one
  pending message per contact of the request it is about, in the caller's transaction (on
  PostgreSQL in one statement, sent with a request's COMMIT). A rollback therefore sends nothing;
  a commit makes the worker (`worker.py`) send it.
- Payloads carry ids and public fields only: keys naming personal data (NIK, phone, names,
  addresses, a complainant's identity, tracking codes) are refused by `emit()` itself.
- A subscription's secret is returned once, by `create_subscription`; no read shows it again.
- A resident's number is kept only while their request is open: `erase_contacts()` (called when
  the request closes) removes it, and pending messages to it are given up.
- Tracking codes reach residents only through `send_code()` (the confirmation, "kirim ulang kode"),
  never through an event; their text is emptied once sent.
- Nothing here imports another domain's service: the domains (or `api/flows.py`) call `emit()`.
"""

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    CTE,
    BindParameter,
    ColumnElement,
    Executable,
    Insert,
    Integer,
    Select,
    String,
    Table,
    bindparam,
    delete,
    exists,
    insert,
    literal,
    null,
    select,
    true,
    update,
)
from sqlalchemy import cast as cast_
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit import service as audit
from api.config import RateLimit, get_settings
from api.db import UtcDateTime, add_as_stored, holds_last_writes, is_postgresql, last_statement
from api.errors import Conflict, RuleViolation, get_or_404
from api.notifications.gateway import InvalidPhone, mask_phone, normalize_phone, render, render_code
from api.notifications.models import (
    Channel,
    DeliveryStatus,
    EventType,
    NotificationEvent,
    ResidentContact,
    ResidentMessage,
    SubjectKind,
    WebhookDelivery,
    WebhookSubscription,
)
from api.notifications.schemas import ContactCreate, DeliveryRead, PushSubscriptionIn, WebhookCreate
from api.notifications.webhooks import TargetRefused, check_url, new_secret, validate_target
from api.pagination import PageParams, paginate

if TYPE_CHECKING:
    from api.principal import Principal

# Keys that never go into an event's payload, at any depth.
FORBIDDEN_PAYLOAD_KEYS = frozenset(
    {
        "nik",
        "phone",
        "phone_number",
        "address",
        "name",
        "resident_name",
        "name_on_ticket",
        "email",
        "reporter",
        "reporter_name",
        "reporter_contact",
        "contact",
        "receipt",
        "tracking_code",
        "code",
        "secret",
    }
)
OPEN_DELIVERY = (DeliveryStatus.pending.value, DeliveryStatus.failed.value)


class PersonalDataInPayload(ValueError):
    """A programming error: an event's payload named a personal field."""


def _now() -> datetime:
    return datetime.now(UTC)


def _check_payload(value: Any, path: str = "payload") -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if str(key).lower() in FORBIDDEN_PAYLOAD_KEYS:
                raise PersonalDataInPayload(f"{path}.{key} is personal or secret; events carry ids and public fields only")
            _check_payload(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_payload(item, f"{path}[{index}]")


async def emit(
    session: AsyncSession,
    *,
    type: EventType | str,
    payload: dict[str, Any],
    subject: tuple[SubjectKind | str, int] | None = None,
) -> NotificationEvent | None:
    """Record a notifiable change in the caller's transaction; the worker delivers it after commit.

    `subject` names the resident-facing request (("ticket", 12)) whose opted-in contacts get a text.
    Returns the event as stored, or None where it is sent with the COMMIT (`api.db.last_statement`:
    a request on PostgreSQL; nothing a request does reads it back).
    """
    return await _emit(session, type=type, payload=payload, subject=subject, once=False)


async def _emit(
    session: AsyncSession, *, type: EventType | str, payload: dict[str, Any], subject: tuple[SubjectKind | str, int] | None, once: bool
) -> NotificationEvent | None:
    """The event, a pending delivery per active subscription to its type and a pending message per
    live contact of its subject (`_statements`). `once`: none of it when an event of this type is
    stored for this subject."""
    event_type = EventType(type)
    _check_payload(payload)
    now = _now()
    values: dict[str, Any] = {
        "uid": "msg_" + secrets.token_urlsafe(18),
        "type": event_type.value,
        "subject_kind": SubjectKind(subject[0]).value if subject else None,
        "subject_id": subject[1] if subject else None,
        "payload": payload,
        "created_at": now,
    }
    text = render(event_type.value, payload) if subject is not None else None
    # A subscription's `events` is the JSON text of a list of names, each quoted: LIKE '%"name"%'.
    quoted = f'"{event_type.value}"'.replace("/", "//").replace("%", "/%").replace("_", "/_")
    params = {**values, "subscribed": f"%{quoted}%", "body": text}
    pg = is_postgresql(session)
    first, *followers = _statements(pg=pg, once=once, text=text is not None)
    if pg and holds_last_writes(session):
        # `once` too: the insert's own condition reads what committed before, at the COMMIT as now.
        await last_statement(session, first, params)
        return None
    event_id = await session.scalar(first, params)
    if event_id is None:
        return None
    for statement in followers:  # SQLite
        await session.execute(statement, {**params, "event_id": event_id})
    return add_as_stored(session, NotificationEvent(id=event_id, **values))


_EVENT_COLUMNS = ("uid", "type", "subject_kind", "subject_id", "payload", "created_at")


@cache
def _statements(*, pg: bool, once: bool, text: bool) -> tuple[Executable, ...]:
    """The statements of an event, built once per kind (its values are parameters, `_emit`): on
    PostgreSQL one, the event's INSERT and its deliveries' and messages' as data-modifying CTEs,
    answering the event's id; on SQLite the event's INSERT (answering its id), then the others."""
    table = cast(Table, NotificationEvent.__table__)  # mapped with __tablename__: its __table__ is a Table
    # The values as a SELECT, so that `once` is the same statement's condition (no read first).
    source = select(*(bindparam(name, type_=table.c[name].type).label(name) for name in _EVENT_COLUMNS))
    if once:
        source = source.where(~exists().where(*_events_like(bindparam("type"), bindparam("subject_kind"), bindparam("subject_id"))))
    inserted = insert(table).from_select(list(_EVENT_COLUMNS), source).returning(table.c.id)
    if not pg:
        event_id = bindparam("event_id", type_=Integer())
        return (inserted, _deliveries(event_id), *([_messages(event_id)] if text else []))
    event = inserted.cte("event")
    followers = [_deliveries(event).cte("deliveries"), *([_messages(event).cte("messages")] if text else [])]
    return (select(event.c.id).add_cte(*followers),)


def _for_event(event: CTE | BindParameter[int], table: Table, *columns: ColumnElement[Any]) -> Select[Any]:
    """`columns` of `table`'s rows beside the event's id: `event` is the CTE of its INSERT (PostgreSQL), or its id."""
    if isinstance(event, CTE):
        return select(event.c.id, *columns).select_from(event).join(table, true())
    return select(event, *columns)


def _pending() -> tuple[ColumnElement[Any], ...]:
    """An outgoing row's first state: pending, not tried, due now (parameter `created_at`)."""
    now = bindparam("created_at", type_=UtcDateTime())
    return literal(DeliveryStatus.pending.value), literal(0), now, now


def _deliveries(event: CTE | BindParameter[int]) -> Insert:
    """A pending delivery of the event to each active subscription to its type (parameter `subscribed`)."""
    subscriptions = cast(Table, WebhookSubscription.__table__)
    subscribed = cast_(subscriptions.c.events, String).like(bindparam("subscribed"), escape="/")
    return insert(cast(Table, WebhookDelivery.__table__)).from_select(  # the table: a mapped class with parameters is an ORM bulk insert
        ["event_id", "subscription_id", "status", "attempts", "next_attempt_at", "created_at"],
        _for_event(event, subscriptions, subscriptions.c.id, *_pending()).where(subscriptions.c.active.is_(True), subscribed),
    )


def _messages(event: CTE | BindParameter[int]) -> Insert:
    """A pending message of the event's text (parameter `body`) to each live contact of its subject."""
    contacts = cast(Table, ResidentContact.__table__)
    return insert(cast(Table, ResidentMessage.__table__)).from_select(
        ["event_id", "contact_id", "channel", "body", "status", "attempts", "next_attempt_at", "created_at"],
        _for_event(event, contacts, contacts.c.id, contacts.c.channel, bindparam("body"), *_pending()).where(
            *_live(bindparam("subject_kind"), bindparam("subject_id"))
        ),
    )


async def has_event(session: AsyncSession, *, type: EventType | str, subject: tuple[SubjectKind | str, int]) -> bool:
    """Whether an event of this type was emitted for this subject."""
    found = await session.scalar(select(NotificationEvent.id).where(*_events_like(EventType(type).value, SubjectKind(subject[0]).value, subject[1])).limit(1))
    return found is not None


def _events_like(type: Any, subject_kind: Any, subject_id: Any) -> list[ColumnElement[bool]]:
    """The events of a type about a subject (`has_event`, `emit_once`)."""
    return [NotificationEvent.type == type, NotificationEvent.subject_kind == subject_kind, NotificationEvent.subject_id == subject_id]


async def emit_once(
    session: AsyncSession, *, type: EventType | str, payload: dict[str, Any], subject: tuple[SubjectKind | str, int]
) -> NotificationEvent | None:
    """`emit`, unless an event of this type was already emitted for this subject (`ticket.near` once a
    ticket): one statement, the insert's own condition. Sent with the COMMIT as `emit`'s (None
    answered then): who needs to know whether it was new (a count of reminders) runs outside a request."""
    return await _emit(session, type=type, payload=payload, subject=subject, once=True)


def _message(contact: ResidentContact, body: str, now: datetime, *, event_id: int | None) -> ResidentMessage:
    return ResidentMessage(
        event_id=event_id,
        contact_id=contact.id,
        channel=contact.channel,
        body=body,
        status=DeliveryStatus.pending.value,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )


def _live(subject_kind: Any, subject_id: Any) -> list[ColumnElement[bool]]:
    """The contacts of a request that still hold a number (or a push subscription)."""
    return [ResidentContact.subject_kind == subject_kind, ResidentContact.subject_id == subject_id, ResidentContact.erased_at.is_(None)]


async def _live_contacts(session: AsyncSession, *, subject_kind: str | None, subject_id: int) -> Sequence[ResidentContact]:
    return (await session.scalars(select(ResidentContact).where(*_live(subject_kind, subject_id)))).all()


async def prune(session: AsyncSession, *, before: datetime) -> int:
    """Delete events older than `before` with nothing left to send (their logs go with them)."""
    open_delivery = exists().where(WebhookDelivery.event_id == NotificationEvent.id, WebhookDelivery.status.in_(OPEN_DELIVERY))
    open_message = exists().where(ResidentMessage.event_id == NotificationEvent.id, ResidentMessage.status.in_(OPEN_DELIVERY))
    ids = (await session.scalars(select(NotificationEvent.id).where(NotificationEvent.created_at < before, ~open_delivery, ~open_message).limit(5000))).all()
    if ids:
        await session.execute(delete(NotificationEvent).where(NotificationEvent.id.in_(ids)))
        await session.execute(
            delete(ResidentMessage).where(ResidentMessage.event_id.is_(None), ResidentMessage.created_at < before, ResidentMessage.status.not_in(OPEN_DELIVERY))
        )
    await session.flush()
    return len(ids)


# --- webhook subscriptions -------------------------------------------------------------------


async def create_subscription(session: AsyncSession, *, data: WebhookCreate, actor: "Principal") -> tuple[WebhookSubscription, str]:
    """A new subscription and its signing secret (returned only here)."""
    settings = get_settings()
    try:
        url = await validate_target(data.url, allow_private=settings.webhook_allow_private_targets)
    except TargetRefused as exc:
        raise RuleViolation.on_field("url", code=exc.code, params=exc.params) from None
    secret = new_secret()
    subscription = WebhookSubscription(
        url=url,
        events=[e.value for e in data.events],
        description=data.description,
        secret=secret,
        active=True,
        consecutive_failures=0,
        created_at=_now(),
        created_by=actor.name,
    )
    session.add(subscription)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="create",
        entity="webhook_subscription",
        entity_id=subscription.id,
        after={"url": url, "events": subscription.events, "description": data.description},
    )
    return subscription, secret


async def list_subscriptions(session: AsyncSession, *, page: PageParams) -> tuple[list[WebhookSubscription], str | None]:
    return await paginate(session, select(WebhookSubscription), keys=[WebhookSubscription.id], page=page)


async def get_subscription(session: AsyncSession, *, subscription_id: int) -> WebhookSubscription:
    return await get_or_404(session, WebhookSubscription, subscription_id, what="webhook subscription")


async def delete_subscription(session: AsyncSession, *, subscription_id: int, actor: "Principal") -> None:
    """Remove a subscription and its delivery log; nothing more is sent to it."""
    subscription = await get_subscription(session, subscription_id=subscription_id)
    before = {"url": subscription.url, "events": subscription.events, "active": subscription.active}
    await session.delete(subscription)
    await session.flush()
    await audit.record(session, actor=actor, action="delete", entity="webhook_subscription", entity_id=subscription_id, before=before)


async def enable_subscription(session: AsyncSession, *, subscription_id: int, actor: "Principal") -> WebhookSubscription:
    """Turn a disabled subscription back on (after the receiver was fixed); old deliveries stay given up."""
    subscription = await get_subscription(session, subscription_id=subscription_id)
    if not subscription.active:
        before = {"active": False, "disabled_reason": subscription.disabled_reason}
        subscription.active, subscription.disabled_reason, subscription.disabled_at = True, None, None
        subscription.consecutive_failures = 0
        await session.flush()
        await audit.record(
            session, actor=actor, action="enable", entity="webhook_subscription", entity_id=subscription_id, before=before, after={"active": True}
        )
    return subscription


async def disable_subscription(session: AsyncSession, *, subscription: WebhookSubscription, reason: str, now: datetime) -> None:
    """Stop sending to a receiver that keeps failing; its open deliveries are given up, with the reason."""
    subscription.active = False
    subscription.disabled_reason = reason[:500]
    subscription.disabled_at = now
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription.id, WebhookDelivery.status.in_(OPEN_DELIVERY))
        .values(status=DeliveryStatus.dead.value, last_error="The subscription was disabled.", claimed_until=None, claim_token=None)
    )
    await session.flush()


def _delivery_read(delivery: WebhookDelivery, event: NotificationEvent) -> DeliveryRead:
    open_ = delivery.status in OPEN_DELIVERY
    return DeliveryRead(
        id=delivery.id,
        event_id=event.id,
        event_uid=event.uid,
        event_type=EventType(event.type),
        subscription_id=delivery.subscription_id,
        status=DeliveryStatus(delivery.status),
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at if open_ else None,
        last_attempt_at=delivery.last_attempt_at,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
        delivered_at=delivery.delivered_at,
    )


async def list_deliveries(
    session: AsyncSession, *, subscription_id: int, page: PageParams, status: DeliveryStatus | None = None
) -> tuple[list[DeliveryRead], str | None]:
    """A subscription's delivery log, newest first."""
    await get_subscription(session, subscription_id=subscription_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status.value)
    deliveries, cursor = await paginate(session, stmt, keys=[WebhookDelivery.id], page=page, descending=True)
    events = {}
    if deliveries:
        ids = {d.event_id for d in deliveries}
        events = {e.id: e for e in (await session.scalars(select(NotificationEvent).where(NotificationEvent.id.in_(ids)))).all()}
    return [_delivery_read(d, events[d.event_id]) for d in deliveries], cursor


async def redeliver(session: AsyncSession, *, delivery_id: int, actor: "Principal") -> DeliveryRead:
    """Send a delivery again now (same webhook-id, so receivers can tell a repeat), with fresh retries."""
    delivery = await get_or_404(session, WebhookDelivery, delivery_id, what="webhook delivery")
    subscription = await get_subscription(session, subscription_id=delivery.subscription_id)
    if not subscription.active:
        raise Conflict(code="webhook.disabled")
    if delivery.claimed_until is not None and delivery.claimed_until > _now():
        raise Conflict(code="webhook.sending")
    before = {"status": delivery.status, "attempts": delivery.attempts}
    delivery.status = DeliveryStatus.pending.value
    delivery.attempts = 0
    delivery.next_attempt_at = _now()
    delivery.delivered_at = None
    delivery.claimed_until = delivery.claim_token = None
    await session.flush()
    await audit.record(session, actor=actor, action="redeliver", entity="webhook_delivery", entity_id=delivery_id, before=before, after={"status": "pending"})
    event = await session.get_one(NotificationEvent, delivery.event_id)
    return _delivery_read(delivery, event)


# --- resident contacts -----------------------------------------------------------------------


async def add_contact(session: AsyncSession, *, subject_kind: SubjectKind | str, subject_id: int, data: ContactCreate) -> ResidentContact:
    """Keep a resident's number for one request, with their consent (one number per channel)."""
    if not data.consent:
        raise RuleViolation.on_field("consent", code="contact.consent")
    if data.channel == Channel.webpush:
        raise RuleViolation.on_field("channel", code="contact.webpush_phone")
    try:
        phone = normalize_phone(data.phone)
    except InvalidPhone as exc:
        raise RuleViolation.on_field("phone", code=exc.code) from None
    kind = SubjectKind(subject_kind).value
    existing = await session.scalar(
        select(ResidentContact).where(
            ResidentContact.subject_kind == kind, ResidentContact.subject_id == subject_id, ResidentContact.channel == data.channel.value
        )
    )
    if existing is not None and existing.erased_at is not None:
        raise Conflict(code="contact.erased")
    contact = existing or ResidentContact(subject_kind=kind, subject_id=subject_id, channel=data.channel.value)
    contact.phone, contact.phone_masked, contact.consent_at = phone, mask_phone(phone), _now()
    if existing is None:
        session.add(contact)
    await session.flush()
    return contact


async def add_push_contact(session: AsyncSession, *, subject_kind: SubjectKind | str, subject_id: int, data: PushSubscriptionIn) -> ResidentContact:
    """Keep a browser's push subscription for one request (asking for it is the browser's consent)."""
    try:
        check_url(data.endpoint, allow_private=get_settings().webhook_allow_private_targets)
    except TargetRefused as exc:
        raise RuleViolation.on_field("endpoint", code=exc.code, params=exc.params) from None
    kind = SubjectKind(subject_kind).value
    existing = await session.scalar(
        select(ResidentContact).where(
            ResidentContact.subject_kind == kind, ResidentContact.subject_id == subject_id, ResidentContact.channel == Channel.webpush.value
        )
    )
    if existing is not None and existing.erased_at is not None:
        raise Conflict(code="contact.erased")
    contact = existing or ResidentContact(subject_kind=kind, subject_id=subject_id, channel=Channel.webpush.value)
    contact.push_subscription = data.model_dump(mode="json", exclude_none=True)
    contact.consent_at = _now()
    if existing is None:
        session.add(contact)
    await session.flush()
    return contact


async def erase_contacts(session: AsyncSession, *, subject_kind: SubjectKind | str, subject_id: int) -> None:
    """The request closed: forget its residents' numbers and give up messages not yet sent. Two
    statements that need no answer: on PostgreSQL sent with a request's COMMIT (`last_statement`)."""
    live = _live(SubjectKind(subject_kind).value, subject_id)
    given_up = (
        update(ResidentMessage)
        .where(ResidentMessage.contact_id.in_(select(ResidentContact.id).where(*live)), ResidentMessage.status.in_(OPEN_DELIVERY))
        .values(status=DeliveryStatus.dead.value, body=None, last_error="The request closed; the number was erased.", claimed_until=None, claim_token=None)
    )
    await last_statement(session, given_up, {})  # first: it finds the messages by the contacts not yet erased
    await last_statement(session, update(ResidentContact).where(*live).values(phone=None, push_subscription=null(), erased_at=_now()), {})


async def subjects_with_live_contacts(session: AsyncSession, *, subject_kind: SubjectKind | str, limit: int = 1000) -> list[int]:
    """The ids of the requests of this kind that still hold a number (or a push subscription)."""
    kind = SubjectKind(subject_kind).value
    stmt = (
        select(ResidentContact.subject_id)
        .where(ResidentContact.subject_kind == kind, ResidentContact.erased_at.is_(None))
        .distinct()
        .order_by(ResidentContact.subject_id)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def send_code(session: AsyncSession, *, subject_kind: SubjectKind | str, subject_id: int, code: str, phone: str | None = None) -> int:
    """Queue the request's tracking code to its contacts' numbers (only `phone`'s when given); returns how many."""
    kind = SubjectKind(subject_kind).value
    now = _now()
    count = 0
    for contact in await _live_contacts(session, subject_kind=kind, subject_id=subject_id):
        if phone is not None and contact.phone != phone:
            continue
        if contact.channel != Channel.webpush.value:  # a code is never sent through a push service
            session.add(_message(contact, render_code(kind, code), now, event_id=None))
            count += 1
    await session.flush()
    return count


async def contacts_for_phone(session: AsyncSession, *, phone: str) -> list[ResidentContact]:
    """ "kirim ulang kode": the open requests this number was given for, rate limited per number.

    The caller (a flow that knows where each request's code lives) then calls `send_code` for each;
    the answer to the resident is the same whether or not the number was found.
    """
    from api import ratelimit

    try:
        normalized = normalize_phone(phone)
    except InvalidPhone as exc:
        raise RuleViolation.on_field("phone", code=exc.code) from None
    limit = RateLimit.parse(get_settings().code_resend_limit)
    await ratelimit.hit(session, bucket="code-resend", key=normalized, limit=limit)
    stmt = select(ResidentContact).where(ResidentContact.phone == normalized, ResidentContact.erased_at.is_(None)).order_by(ResidentContact.id)
    return list((await session.scalars(stmt)).all())


async def messages_for(session: AsyncSession, *, subject_kind: SubjectKind | str, subject_id: int) -> list[ResidentMessage]:
    stmt = (
        select(ResidentMessage)
        .join(ResidentContact, ResidentContact.id == ResidentMessage.contact_id)
        .where(ResidentContact.subject_kind == SubjectKind(subject_kind).value, ResidentContact.subject_id == subject_id)
        .order_by(ResidentMessage.id)
    )
    return list((await session.scalars(stmt)).all())
