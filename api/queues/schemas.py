from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from api.deprecation import DayAsDate, deprecated_day
from api.queues.models import AppointmentStatus, Priority, TicketStatus
from api.services.schemas import HHMM
from api.types import BoundedDate


class WalkIn(BaseModel):
    """A resident taking a number. The name is optional and never shown publicly."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200, description="Called out at the counter; personal.")
    priority: Priority = Field(default=Priority.none, description="`elderly` or `disabled` go before walk-ins; `appointment` comes from check-in.")


class TicketIssued(DayAsDate):
    id: int
    number: int
    day: date = deprecated_day()
    position: int = Field(description="1 = next to be called.")
    estimated_wait_minutes: int
    code: str = Field(description="The resident's key to reading this ticket later (GET /tickets/{id}/status/{code}); keep it private.")


class TicketStatusRead(DayAsDate):
    """A resident's own ticket: no name, the live place in line."""

    id: int
    service_point_id: int
    point_name: str
    number: int
    day: date = deprecated_day()
    status: TicketStatus
    counter: int | None
    position: int | None = Field(description="1 = next to be called; null once called (or on another day).")
    estimated_wait_minutes: int


class CallNext(BaseModel):
    model_config = ConfigDict(extra="forbid")

    counter: int = Field(ge=1, le=50)


class TicketRead(DayAsDate):
    """A ticket as staff see it; `name_on_ticket` only in the single-ticket view (audited)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    service_point_id: int
    day: date = deprecated_day()
    number: int
    status: TicketStatus
    priority: Priority
    counter: int | None
    due_at: datetime | None
    booked_at: datetime | None
    arrived_at: datetime
    called_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    recalls: int


class TicketDetail(TicketRead):
    name_on_ticket: str | None


class NextOpening(BaseModel):
    date: date
    time: str = Field(examples=["08:00"])


class CounterNow(BaseModel):
    counter: int
    number: int
    status: TicketStatus


class Board(DayAsDate):
    """A point's queue today, as the public board shows it."""

    service_point_id: int
    name: str
    area: str
    day: date = deprecated_day()
    open_now: bool
    next_opening: NextOpening | None = Field(default=None, description="When closed now: the next window start (local), within 31 days.")
    waiting: int
    now_serving: list[CounterNow] = Field(description="Empty while the point is closed.")
    estimated_wait_minutes: int = Field(description="The last in line's wait: what a ticket taken now shows; 0 when nobody waits.")
    served: int
    no_shows: int
    median_wait_minutes: float | None
    p90_wait_minutes: float | None
    median_service_minutes: float
    active_counters: int


class Slot(BaseModel):
    start: str
    end: str
    capacity: int
    booked: int
    available: int


class BookingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: BoundedDate
    start: HHMM
    name: str | None = Field(default=None, min_length=1, max_length=200, description="Personal; shown to counter staff only.")
    nik: str | None = Field(
        default=None,
        pattern=r"^[0-9]{16}$",
        examples=["3674014507850003"],
        description="The resident's NIK (16 digits). Needed for a public booking where the campaign caps bookings per NIK (one a day); kept only as a keyed hash.",
    )


class AppointmentRead(DayAsDate):
    """What the resident sees with their booking code."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    service_point_id: int
    day: date = deprecated_day()
    slot_start: str
    slot_end: str
    status: AppointmentStatus
    cancel_reason: str | None
    ticket_id: int | None
