from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UtcDateTime


class TicketStatus(StrEnum):
    waiting = "waiting"
    called = "called"
    serving = "serving"
    done = "done"
    no_show = "no_show"
    cancelled = "cancelled"


class Priority(StrEnum):
    none = "none"
    elderly = "elderly"
    disabled = "disabled"
    appointment = "appointment"


class QueueDay(Base):
    """The last ticket number given out at a point on a day: numbers restart every day."""

    __tablename__ = "queue_days"

    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


# Literal SQL (no parameters), so that the planner can use the partial indexes below.
FLAGGED_SQL = "priority IN ('elderly','disabled')"
DUE_SQL = "due_at IS NOT NULL"


class Ticket(Base):
    """A place in a service point's queue for one day. `name_on_ticket` is personal data."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("service_point_id", "day", "number"),
        CheckConstraint("status IN ('waiting','called','serving','done','no_show','cancelled')", name="status"),
        CheckConstraint("priority IN ('none','elderly','disabled','appointment')", name="priority"),
        CheckConstraint("number > 0", name="number_positive"),
        CheckConstraint("counter IS NULL OR counter > 0", name="counter_positive"),
        CheckConstraint("status IN ('waiting','cancelled') OR (counter IS NOT NULL AND called_at IS NOT NULL)", name="called_has_counter"),
        # The next in line is one seek (service.py, call_next): by number, the due appointments, the flagged.
        Index("ix_tickets_queue", "service_point_id", "day", "status", "number"),
        Index("ix_tickets_due", "service_point_id", "day", "status", "due_at", sqlite_where=text(DUE_SQL), postgresql_where=text(DUE_SQL)),
        Index("ix_tickets_flagged", "service_point_id", "day", "status", "number", sqlite_where=text(FLAGGED_SQL), postgresql_where=text(FLAGGED_SQL)),
        # One active remote number per point and day per phone (service.py, "Caps"): the holder is
        # cleared when the ticket ends, and NULLs (kiosk, staff, no cap) never collide.
        Index("ux_tickets_holder", "service_point_id", "day", "holder_hash", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default=TicketStatus.waiting.value)
    priority: Mapped[str] = mapped_column(String(12), default=Priority.none.value)
    name_on_ticket: Mapped[str | None] = mapped_column(String(200))
    # The resident's key to reading this ticket (its own address on their phone); never audited.
    code: Mapped[str | None] = mapped_column(String(24), unique=True, index=True)
    counter: Mapped[int | None] = mapped_column(Integer)
    # An appointment's slot start: from then on the ticket goes before the walk-ins.
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    booked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    arrived_at: Mapped[datetime] = mapped_column(UtcDateTime)
    called_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    recalls: Mapped[int] = mapped_column(Integer, default=0)
    # A keyed hash (HMAC, the server's hash key) of the phone's address while a remotely taken
    # number is active; NULL once it ends and for numbers issued on site.
    holder_hash: Mapped[str | None] = mapped_column(String(64))


class AppointmentStatus(StrEnum):
    booked = "booked"
    cancelled = "cancelled"
    checked_in = "checked_in"


class Appointment(Base):
    """A booked slot. The code is the resident's only handle on it (to cancel or check in)."""

    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("status IN ('booked','cancelled','checked_in')", name="status"),
        # One seat per counter in each slot; a cancelled booking gives its seat back (NULL).
        UniqueConstraint("service_point_id", "day", "slot_start", "seat"),
        CheckConstraint("(status = 'cancelled') = (seat IS NULL)", name="seat_unless_cancelled"),
        Index("ix_appointments_point_day", "service_point_id", "day"),
        # One booking per NIK per day (appointments.py, "Caps"); cleared on cancel, NULL when not capped.
        Index("ux_appointments_nik_day", "day", "nik_hash", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    slot_start: Mapped[str] = mapped_column(String(5))
    slot_end: Mapped[str] = mapped_column(String(5))
    seat: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default=AppointmentStatus.booked.value)
    name_on_ticket: Mapped[str | None] = mapped_column(String(200))
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # A keyed hash (HMAC, the server's hash key) of the booker's NIK, never the NIK itself.
    nik_hash: Mapped[str | None] = mapped_column(String(64))
