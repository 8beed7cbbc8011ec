from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.notifications.models import Channel, DeliveryStatus, EventType, SubjectKind


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000, description="https:// address that receives the events.")
    events: list[EventType] = Field(min_length=1, max_length=len(EventType), description="The event types to receive.")
    description: str = Field(default="", max_length=500)

    @field_validator("events")
    @classmethod
    def _unique(cls, events: list[EventType]) -> list[EventType]:
        return list(dict.fromkeys(events))


class WebhookRead(BaseModel):
    """A subscription; never its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    events: list[EventType]
    description: str
    active: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    consecutive_failures: int
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="Signs every delivery (Standard Webhooks); shown only now.")


class DeliveryRead(BaseModel):
    id: int
    event_id: int
    event_uid: str
    event_type: EventType
    subscription_id: int
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class ContactCreate(BaseModel):
    """A resident's consent to be told about their request on this number."""

    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=8, max_length=24)
    channel: Channel = Channel.whatsapp
    consent: bool = Field(description="Must be true: the resident agrees to receive messages about this request.")


TICKET_CODE = Field(min_length=8, max_length=24, description="The ticket's code, issued with it: only its holder may subscribe to it.")


class TicketContactCreate(ContactCreate):
    """A resident's number for their own ticket: the ticket's code proves it is theirs."""

    code: str = TICKET_CODE


class ContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    subject_kind: SubjectKind
    subject_id: int
    channel: Channel
    phone_masked: str | None


class PushKeys(BaseModel):
    p256dh: str = Field(min_length=20, max_length=200, pattern=r"^[A-Za-z0-9_\-=]+$")
    auth: str = Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_\-=]+$")


class PushSubscriptionIn(BaseModel):
    """The browser's `PushSubscription.toJSON()`."""

    endpoint: str = Field(min_length=10, max_length=2000)
    keys: PushKeys
    expirationTime: float | None = None


class TicketPushIn(PushSubscriptionIn):
    """The browser's `PushSubscription.toJSON()` for a ticket, with the ticket's code (proof it is the holder's)."""

    code: str = TICKET_CODE


class PushKey(BaseModel):
    public_key: str = Field(description="The applicationServerKey for `pushManager.subscribe()` (base64url).")


class ResendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=8, max_length=24, description="The number given with the request.")


class ResendAnswer(BaseModel):
    detail: str = "Bila nomor ini terdaftar pada permintaan yang masih terbuka, kodenya sudah dikirim ulang ke nomor itu."
