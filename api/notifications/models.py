"""The outbox and what is delivered from it.

- `NotificationEvent`: one row per notifiable change, written in the change's own transaction.
- `WebhookSubscription` / `WebhookDelivery`: integrations and one delivery per (event, subscription).
- `ResidentContact` / `ResidentMessage`: a resident's opted-in phone number (or Web Push endpoint)
  for one request, and one message per (event, contact). The number is erased when the request
  closes; messages keep only its masked form.
- `Outgoing`: the tries and the worker's lease, shared by deliveries and messages (a mixin; the
  migration that made both tables stays as it was applied).
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UtcDateTime


class EventType(StrEnum):
    ticket_called = "ticket.called"
    ticket_near = "ticket.near"
    appointment_reminder = "appointment.reminder"
    home_visit_scheduled = "home_visit.scheduled"
    home_visit_rescheduled = "home_visit.rescheduled"
    home_visit_visited = "home_visit.visited"
    complaint_replied = "complaint.replied"
    complaint_status_changed = "complaint.status_changed"
    tallies_imported = "tallies.imported"
    progress_milestone = "progress.milestone"


class DeliveryStatus(StrEnum):
    pending = "pending"  # not tried yet, or a manual redelivery asked for
    failed = "failed"  # the last try failed; another is due at next_attempt_at
    succeeded = "succeeded"
    dead = "dead"  # no more tries (retries exhausted, subscription disabled, contact erased)


class Channel(StrEnum):
    sms = "sms"
    whatsapp = "whatsapp"
    webpush = "webpush"


class SubjectKind(StrEnum):
    ticket = "ticket"
    appointment = "appointment"
    home_visit = "home_visit"
    complaint = "complaint"


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({','.join(repr(v.value) for v in values)})"


EVENT_TYPE_CHECK = _in("type", EventType)
DELIVERY_STATUS_CHECK = _in("status", DeliveryStatus)
CHANNEL_CHECK = _in("channel", Channel)
SUBJECT_KIND_CHECK = _in("subject_kind", SubjectKind)


class NotificationEvent(Base):
    """A notifiable change. Its payload carries ids and public fields only."""

    __tablename__ = "notification_events"
    __table_args__ = (
        CheckConstraint(EVENT_TYPE_CHECK, name="type"),
        CheckConstraint(f"subject_kind IS NULL OR {SUBJECT_KIND_CHECK}", name="subject_kind"),
        CheckConstraint("(subject_kind IS NULL) = (subject_id IS NULL)", name="subject_complete"),
        Index("ix_notification_events_subject", "subject_kind", "subject_id", "type"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The Standard Webhooks message id (`webhook-id`): the same for every try and every subscriber.
    uid: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40), index=True)
    # The resident-facing request the event is about, when there is one (its contacts get messages).
    subject_kind: Mapped[str | None] = mapped_column(String(16))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class WebhookSubscription(Base):
    """An integration's endpoint. The secret signs deliveries and is shown only when created."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (
        CheckConstraint("consecutive_failures >= 0", name="failures_not_negative"),
        CheckConstraint("active OR disabled_reason IS NOT NULL", name="disabled_has_reason"),
        CheckConstraint("url LIKE 'http://%' OR url LIKE 'https://%'", name="url_scheme"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(String(500), default="")
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str | None] = mapped_column(String(200))


class Outgoing:
    """What a webhook delivery and a resident message share: their tries, and the lease of the
    worker sending them (the worker claims and records both the same way, api/notifications/worker.py)."""

    status: Mapped[str] = mapped_column(String(12), default=DeliveryStatus.pending.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set while a worker holds it; a worker that dies lets it lapse and another picks the row up.
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(40))
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


def outgoing_checks(table: str) -> tuple[CheckConstraint | Index, ...]:
    """The `Outgoing` columns' constraints, and the worker's index for its claim (due rows, oldest first)."""
    return (
        CheckConstraint(DELIVERY_STATUS_CHECK, name="status"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("(status = 'succeeded') = (delivered_at IS NOT NULL)", name="delivered_when_succeeded"),
        Index(f"ix_{table}_due", "status", "next_attempt_at"),
    )


class WebhookDelivery(Outgoing, Base):
    """One event for one subscription: its tries, and the lease of the worker sending it."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("event_id", "subscription_id"), *outgoing_checks("webhook_deliveries"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("notification_events.id", ondelete="CASCADE"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True)


class ResidentContact(Base):
    """A resident's consent to be told about one request, on one channel.

    `phone` (or the Web Push subscription) is erased when the request closes; `phone_masked` stays
    so that staff and the log can say where messages went without saying the number.
    """

    __tablename__ = "resident_contacts"
    __table_args__ = (
        UniqueConstraint("subject_kind", "subject_id", "channel"),
        CheckConstraint(CHANNEL_CHECK, name="channel"),
        CheckConstraint(SUBJECT_KIND_CHECK, name="subject_kind"),
        # Erased, or holding the address its channel needs.
        CheckConstraint(
            "erased_at IS NOT NULL OR (channel = 'webpush' AND push_subscription IS NOT NULL) OR (channel <> 'webpush' AND phone IS NOT NULL)",
            name="address_given",
        ),
        CheckConstraint("erased_at IS NULL OR (phone IS NULL AND push_subscription IS NULL)", name="erased_is_empty"),
        Index("ix_resident_contacts_phone", "phone"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(12))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164 (+62...), until erased
    phone_masked: Mapped[str | None] = mapped_column(String(20))
    push_subscription: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    consent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ResidentMessage(Outgoing, Base):
    """One text to one contact: an event's message, or a (re)sent tracking code (no event)."""

    __tablename__ = "resident_messages"
    __table_args__ = (
        UniqueConstraint("event_id", "contact_id"),
        CheckConstraint(CHANNEL_CHECK, name="channel"),
        *outgoing_checks("resident_messages"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("notification_events.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("resident_contacts.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(12))
    # The text in Bahasa Indonesia; emptied once sent or given up (it may hold a tracking code).
    body: Mapped[str | None] = mapped_column(Text)


class NotificationKey(Base):
    """Keys Rekam makes for itself on first use, shared by every API process (the VAPID key pair)."""

    __tablename__ = "notification_keys"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_key: Mapped[str] = mapped_column(String(200))  # the browser's applicationServerKey (base64url)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
