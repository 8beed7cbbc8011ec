from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.complaints.models import ComplaintStatus, EntryKind, Finding, SanctionKind
from api.deprecation import RenamedInput, document_renamed
from api.types import BoundedDate

MAX_AMOUNT = 100_000_000  # rupiah; anything above is a typo

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Identity = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class ComplaintCreate(RenamedInput):
    """A resident's report. Name and contact only if the reporter wants to be contacted."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_extra=document_renamed)
    RENAMED = {"service_point": "service_point_id", "operator": "operator_id"}

    service_point: int | None = Field(default=None, validation_alias="service_point_id", description="Where it happened: a service point's id ...")
    area: str | None = Field(default=None, max_length=40, description="... or an area code (kecamatan or below) with a `place`.")
    place: ShortText | None = Field(default=None, description="The place, in words (required with `area`).")
    occurred_on: BoundedDate
    operator: int | None = Field(default=None, validation_alias="operator_id", description="The operator's id, if known ...")
    operator_description: ShortText | None = Field(default=None, description="... or what they looked like, their counter, ...")
    amount: int = Field(ge=1, le=MAX_AMOUNT, description="Rupiah asked or paid.")
    description: Text = Field(description="What happened.")
    reporter_name: Identity | None = Field(default=None, description="Optional; kept confidential, see the admins' disclosure.")
    reporter_contact: Identity | None = Field(default=None, description="Optional phone or e-mail, for the city to call back.")
    notify_phone: str | None = Field(
        default=None,
        min_length=8,
        max_length=24,
        description="Optional: a mobile number that gets the receipt and each reply or step by WhatsApp or SMS; kept apart from the complaint, erased when it closes.",
    )
    notify_by: Literal["whatsapp", "sms"] = "whatsapp"


class ComplaintReceipt(BaseModel):
    receipt: str = Field(description="Keep it: the only way to follow the complaint. It is not shown again.", examples=["PGL-7K3M-Q9TX-2HVA-PD4N"])
    status: ComplaintStatus


class ConversationLine(BaseModel):
    at: datetime
    author: Literal["city", "reporter"]
    text: str


class ComplaintTracking(BaseModel):
    """What a receipt shows: the status and the conversation with the city, nothing else."""

    status: ComplaintStatus
    received_on: date
    reply_due_on: date = Field(description="The city's first reply is due by this day.")
    conversation: list[ConversationLine]


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text


class ComplaintRead(BaseModel):
    """A complaint as staff see it: never the reporter's identity, never the receipt."""

    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    id: int
    status: ComplaintStatus
    finding: Finding | None
    service_point_id: int | None
    area: str = Field(validation_alias="area_code")
    place: str | None
    occurred_on: date
    operator_id: int | None
    operator_description: str | None
    amount: int
    description: str
    handler_id: int | None
    received_at: datetime
    due_on: date
    first_response_at: datetime | None
    closed_at: datetime | None
    overdue: bool = Field(description="No public reply yet, not closed, and past `due_on`.")
    reporter_contactable: bool = Field(description="The reporter left a name or contact (admins can open it).")


class ComplaintUpdate(BaseModel):
    """Assign a handler, or name the operator the complaint is about (null clears)."""

    model_config = ConfigDict(extra="forbid")

    handler_id: int | None = None
    operator_id: int | None = None


class EntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    kind: EntryKind
    from_status: ComplaintStatus | None
    to_status: ComplaintStatus | None
    text: str = Field(
        description="What was written: the note of a step or a sanction, a reply, a message; for an assignment, what changed (deprecated: read `code` and `params`)."
    )
    author_id: int | None = Field(description="The staff member; null for the reporter's messages and for steps taken with an API key or by Rekam itself.")
    code: str | None = Field(
        default=None,
        description="For an entry Rekam words (an assignment, a sanction, a workflow step): a code of the Problem code list (`history.assigned_handler`...); null for a reply, a message or a note.",
        examples=["history.assigned_handler"],
    )
    params: dict[str, Any] | None = Field(
        default=None, description="The values `code` names: people by name (never ids), statuses, dates (YYYY-MM-DD).", examples=[{"handler": "Siti Handayani"}]
    )


class SanctionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: SanctionKind = Field(description="warning (no status change), suspension or removal.")
    effective_from: BoundedDate
    note: Note


class SanctionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    complaint_id: int
    operator_id: int
    kind: SanctionKind
    effective_from: date
    note: str
    recorded_by_id: int | None
    recorded_at: datetime


class ComplaintDetail(ComplaintRead):
    entries: list[EntryRead]
    sanction: SanctionRead | None


class TransitionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ComplaintStatus = Field(description="The next status; see the workflow in the service's rules.")
    note: Note


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text = Field(description="For the handlers only; never shown to the reporter.")


class ReplyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text = Field(description="Shown to the reporter on the tracking page.")


class ReporterDisclosure(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=500)] = Field(
        description="Why the identity is needed; kept in the audit trail."
    )


class ReporterRead(BaseModel):
    reporter_name: str | None
    reporter_contact: str | None


# A count, or "<3" when it is 1 or 2: small counts could point at a single report.
SmallCount = Annotated[
    int | Literal["<3"],
    Field(description='A number, or the string "<3" for 1 or 2 (0 and 3 or more are exact).'),
]


class CountByArea(BaseModel):
    area: str
    name: str
    count: SmallCount


class CountByStatus(BaseModel):
    status: ComplaintStatus
    count: SmallCount


class CountByMonth(BaseModel):
    month: str = Field(examples=["2025-08"])
    count: SmallCount


class ComplaintStats(BaseModel):
    """Public figures about fee complaints received in the period (dates in Asia/Jakarta)."""

    area: str | None
    period_from: date | None = Field(serialization_alias="from")
    period_to: date | None = Field(serialization_alias="to")
    total: SmallCount
    by_kecamatan: list[CountByArea] = Field(description="Kecamatan with at least one complaint.")
    by_status: list[CountByStatus] = Field(description="Every status, by the complaints' current status.")
    by_month: list[CountByMonth] = Field(description="Months (of receipt) with at least one complaint.")
    median_days_to_first_response: float | None = Field(description="Days from receipt to the city's first public reply; null below 3 replied complaints.")
    share_substantiated: float | None = Field(description="Substantiated among complaints with a finding (0..1); null below 3 such complaints.")
