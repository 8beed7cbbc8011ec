from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import AreaCode, Base, UtcDateTime


class ComplaintStatus(StrEnum):
    received = "received"
    investigating = "investigating"
    substantiated = "substantiated"
    unsubstantiated = "unsubstantiated"
    action_taken = "action_taken"
    closed = "closed"


class Finding(StrEnum):
    substantiated = "substantiated"
    unsubstantiated = "unsubstantiated"


class EntryKind(StrEnum):
    transition = "transition"  # a workflow step, with the handler's note (staff only)
    reply = "reply"  # the city's public reply, shown to the reporter
    message = "message"  # information the reporter added with the receipt
    assignment = "assignment"  # handler or accused operator changed (staff only)
    sanction = "sanction"  # a sanction recorded (staff only)
    note = "note"  # an internal note between handlers, no step taken (staff only)


class SanctionKind(StrEnum):
    warning = "warning"
    suspension = "suspension"
    removal = "removal"


STATUS_CHECK = "status IN ('received','investigating','substantiated','unsubstantiated','action_taken','closed')"


class Complaint(Base):
    """A report of an illegal fee (pungli). Who reported it lives in `ComplaintReporter`, not here."""

    __tablename__ = "complaints"
    __table_args__ = (
        CheckConstraint(STATUS_CHECK, name="status"),
        CheckConstraint("finding IS NULL OR finding IN ('substantiated','unsubstantiated')", name="finding"),
        CheckConstraint("amount > 0", name="amount_positive"),
        # Where: a service point, or a place described within an area.
        CheckConstraint("service_point_id IS NOT NULL OR place IS NOT NULL", name="where_given"),
        # A step past investigation carries its finding; one still open to investigation does not.
        CheckConstraint("(status IN ('received','investigating')) = (finding IS NULL)", name="finding_matches_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The reporter's key to tracking: random, never shown to staff, never logged or audited.
    receipt: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=ComplaintStatus.received.value, index=True)
    finding: Mapped[str | None] = mapped_column(String(16))
    service_point_id: Mapped[int | None] = mapped_column(ForeignKey("service_points.id"))
    # The service point's area when one is named, so that one column answers every area filter.
    area_code: Mapped[str] = mapped_column(AreaCode, ForeignKey("areas.code"), index=True)
    place: Mapped[str | None] = mapped_column(String(500))
    occurred_on: Mapped[date] = mapped_column(Date)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"), index=True)
    operator_description: Mapped[str | None] = mapped_column(String(500))
    amount: Mapped[int] = mapped_column(Integer)  # rupiah asked or paid
    description: Mapped[str] = mapped_column(Text)
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_on: Mapped[date] = mapped_column(Date, index=True)  # in Asia/Jakarta, for stats by month
    due_on: Mapped[date] = mapped_column(Date, index=True)  # the first public reply is due by this day
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ComplaintReporter(Base):
    """Who reported a complaint, kept apart so that no query of complaints can reach it by accident.

    A row exists only when the reporter gave a name or a contact; only the admins' explicit,
    audited disclosure reads it.
    """

    __tablename__ = "complaint_reporters"
    __table_args__ = (CheckConstraint("reporter_name IS NOT NULL OR reporter_contact IS NOT NULL", name="something_given"),)

    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), primary_key=True)
    reporter_name: Mapped[str | None] = mapped_column(String(200))
    reporter_contact: Mapped[str | None] = mapped_column(String(200))


class ComplaintEntry(Base):
    """One line of a complaint's log: a workflow step, a reply, a reporter's message, ..."""

    __tablename__ = "complaint_entries"
    __table_args__ = (
        CheckConstraint("kind IN ('transition','reply','message','assignment','sanction','note')", name="kind"),
        CheckConstraint("kind <> 'transition' OR (from_status IS NOT NULL AND to_status IS NOT NULL)", name="transition_states"),
        # The reporter is nobody's account: their messages have no author.
        CheckConstraint("kind <> 'message' OR author_id IS NULL", name="reporter_is_anonymous"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Sanction(Base):
    """What the city did to the operator a substantiated complaint was about (one per complaint)."""

    __tablename__ = "complaint_sanctions"
    __table_args__ = (CheckConstraint("kind IN ('warning','suspension','removal')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), unique=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    effective_from: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
