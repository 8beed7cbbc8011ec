from datetime import date, datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.deprecation import RenamedInput, document_renamed
from api.errors import field_rule
from api.types import BoundedDate, LocalTime
from api.visits.models import VisitPriority, VisitReason, VisitStatus


class HomeVisitCreate(BaseModel):
    """What a resident (or staff taking their call) sends. NIK and phone are checked by the service."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    # Loose here on purpose: the service gives each NIK and phone problem its own message.
    nik: str = Field(min_length=1, max_length=32, examples=["3674014507850003"])
    phone: str = Field(min_length=1, max_length=32, examples=["0812 3456 7890"])
    address: str = Field(min_length=5, max_length=500)
    area: str = Field(min_length=1, max_length=40, description="A kelurahan, or an RW/RT below it.", examples=["36.74.01.1001.003"])
    reason: VisitReason
    note: str | None = Field(default=None, max_length=1000)
    preferred_dates: list[BoundedDate] = Field(default_factory=list, max_length=5)
    consent: bool = Field(description="The resident agrees to be contacted to arrange the visit.")
    messages: Literal["whatsapp", "sms"] | None = Field(
        default=None,
        description="Send the tracking code and each change to this phone (WhatsApp or SMS, in Bahasa Indonesia); choosing it is the consent. The number is erased when the request closes.",
    )


class HomeVisitReceipt(BaseModel):
    tracking_code: str = Field(examples=["HV-7KQ4-M9TX"])
    status: VisitStatus


class HomeVisitTrack(BaseModel):
    """What anyone holding the tracking code may see: nothing personal."""

    tracking_code: str
    status: VisitStatus
    requested_on: date
    visit_date: date | None = None
    window_start: LocalTime | None = None
    window_end: LocalTime | None = None
    updated_at: datetime


class HomeVisitSummary(BaseModel):
    """A row of the dispatcher's board: personal fields masked to their last four digits."""

    id: int
    area: str
    reason: VisitReason
    status: VisitStatus
    priority: VisitPriority | None
    requested_on: date
    waiting_days: int | None = Field(description="Days since the request while it is open; null once closed.")
    overdue: bool
    nik_masked: str = Field(examples=["************0003"])
    phone_masked: str | None = Field(examples=["*******7890"], description="The phone's last 4 digits; null once the request closed (the phone is erased).")
    device_id: int | None
    operator_id: int | None
    visit_date: date | None
    window_start: LocalTime | None
    window_end: LocalTime | None


class HomeVisitEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor_name: str
    from_status: VisitStatus | None
    to_status: VisitStatus
    note: str | None


class MergedRequestRead(BaseModel):
    """A later request for the same resident, merged into this open one: another contact."""

    area: str
    name: str
    phone: str | None = Field(description="The phone; null once the request closed (the phone is erased then).")
    address: str
    reason: VisitReason
    note: str | None
    preferred_dates: list[date]
    consented_at: datetime
    requested_on: date


class HomeVisitRead(BaseModel):
    """The full record, personal fields included; every read is audited."""

    id: int
    tracking_code: str
    campaign_id: int
    area: str
    name: str
    nik: str
    phone: str | None = Field(description="The phone; null once the request closed (the phone is erased then).")
    address: str
    reason: VisitReason
    note: str | None
    preferred_dates: list[date]
    consented_at: datetime
    requested_on: date
    status: VisitStatus
    priority: VisitPriority | None
    device_id: int | None
    operator_id: int | None
    visit_date: date | None
    window_start: LocalTime | None
    window_end: LocalTime | None
    history: list[HomeVisitEventRead]
    # Later requests for the same resident (issue #17, item 11), oldest first.
    merged: list[MergedRequestRead] = []


class VisitWindow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: LocalTime = Field(examples=["09:00"])
    end: LocalTime = Field(examples=["10:30"])

    @model_validator(mode="after")
    def _end_after_start(self) -> Self:
        if self.end <= self.start:
            raise field_rule("window.order")
        return self


class ScheduleRequest(RenamedInput):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_extra=document_renamed)
    RENAMED = {"device": "device_id", "operator": "operator_id"}

    device: int = Field(ge=1, le=2**31 - 1, validation_alias="device_id", description="The mobile kit's device id.")
    operator: int = Field(ge=1, le=2**31 - 1, validation_alias="operator_id", description="The operator's (petugas') id.")
    date: BoundedDate
    window: VisitWindow
    note: str | None = Field(default=None, max_length=2000)


class StatusChange(BaseModel):
    """A move of the state machine other than scheduling (which has its own endpoint)."""

    model_config = ConfigDict(extra="forbid")

    status: VisitStatus
    note: str | None = Field(default=None, max_length=2000)


class DayPlanStop(BaseModel):
    """What the operator needs at the door."""

    order: int
    id: int
    area: str
    kelurahan: str
    kelurahan_name: str
    rw: str | None
    rt: str | None
    window_start: LocalTime
    window_end: LocalTime
    status: VisitStatus
    name: str
    address: str
    phone: str | None = Field(description="The phone; null once the request closed (the phone is erased then).")
    nik_masked: str
    reason: VisitReason
    note: str | None
    operator_id: int
    updated_at: datetime = Field(description="The record's version: it changes with every move, so an app that kept the plan offline can tell it changed.")


class DayPlan(BaseModel):
    device_id: int
    serial: str
    date: date
    daily_capacity: int
    booked: int
    stops: list[DayPlanStop]


class CrewKit(BaseModel):
    """A kit the calling operator account is scheduled on that day: where to find its day plan."""

    device_id: int
    serial: str
    date: date
    stops: int = Field(description="The caller's own visits on the kit that day.")


class StatusCount(BaseModel):
    status: VisitStatus
    count: int


class HomeVisitStats(BaseModel):
    area: str | None
    counts: list[StatusCount]
    visited: int
    median_days_to_visit: float | None
    p90_days_to_visit: int | None = Field(description="Nearest-rank 90th percentile of days from request to visit.")
    overdue_after_days: int
    overdue_count: int
    overdue: list[HomeVisitSummary] = Field(description="The longest-waiting overdue requests first (at most 100).")
