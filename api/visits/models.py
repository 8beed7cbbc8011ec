from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, Time, func, text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import AreaCode, Base, UtcDateTime


class VisitReason(StrEnum):
    sick = "sick"
    disabled = "disabled"
    elderly = "elderly"
    other = "other"


class VisitStatus(StrEnum):
    submitted = "submitted"
    triaged = "triaged"
    scheduled = "scheduled"
    visited = "visited"
    unreachable = "unreachable"
    cancelled = "cancelled"


class VisitPriority(StrEnum):
    urgent = "urgent"
    high = "high"
    normal = "normal"
    low = "low"


OPEN_STATUSES = (VisitStatus.submitted, VisitStatus.triaged, VisitStatus.scheduled)
# On a kit's plan: these occupy the kit and the operator, and count against the kit's capacity.
PLANNED_STATUSES = (VisitStatus.scheduled, VisitStatus.visited)
_OPEN_SQL = "status IN ('submitted','triaged','scheduled')"


class HomeVisit(Base):
    """A resident's request for a mobile kit to come to them, and its dispatch.

    `name`, `nik`, `phone`, `address` and `note` are personal data: staff read them only through
    the audited full record or day plan, never in lists or public answers.
    """

    __tablename__ = "home_visits"
    __table_args__ = (
        CheckConstraint("status IN ('submitted','triaged','scheduled','visited','unreachable','cancelled')", name="status"),
        CheckConstraint("reason IN ('sick','disabled','elderly','other')", name="reason"),
        CheckConstraint("priority IS NULL OR priority IN ('urgent','high','normal','low')", name="priority"),
        CheckConstraint("length(nik) = 16", name="nik_length"),
        # A visit that is (or was) on a kit's plan says which kit, who, which day and when.
        CheckConstraint(
            "status NOT IN ('scheduled','visited') OR (device_id IS NOT NULL AND operator_id IS NOT NULL "
            "AND visit_date IS NOT NULL AND window_start IS NOT NULL AND window_end IS NOT NULL)",
            name="scheduled_has_plan",
        ),
        CheckConstraint("window_start IS NULL OR window_end > window_start", name="window_order"),
        # One open request per resident, even when two submissions race.
        Index("uq_home_visits_open_nik", "nik", unique=True, sqlite_where=text(_OPEN_SQL), postgresql_where=text(_OPEN_SQL)),
        Index("ix_home_visits_device_day", "device_id", "visit_date"),
        Index("ix_home_visits_operator_day", "operator_id", "visit_date"),
        Index("ix_home_visits_status_requested", "status", "requested_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tracking_code: Mapped[str] = mapped_column(String(16), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    area_code: Mapped[str] = mapped_column(AreaCode, ForeignKey("areas.code"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    nik: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(500))
    reason: Mapped[str] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(String(1000))
    preferred_dates: Mapped[list[Any]] = mapped_column(JSON, default=list)
    consented_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The day of the request in the campaign's time zone: waiting days count from it.
    requested_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default=VisitStatus.submitted.value)
    priority: Mapped[str | None] = mapped_column(String(8))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    visit_date: Mapped[date | None] = mapped_column(Date)
    window_start: Mapped[time | None] = mapped_column(Time)
    window_end: Mapped[time | None] = mapped_column(Time)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())


class HomeVisitEvent(Base):
    """One status change of a request, with the staff's note: the request's history."""

    __tablename__ = "home_visit_events"
    __table_args__ = (CheckConstraint("to_status IN ('submitted','triaged','scheduled','visited','unreachable','cancelled')", name="to_status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    home_visit_id: Mapped[int] = mapped_column(ForeignKey("home_visits.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_name: Mapped[str] = mapped_column(String(200))
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(Text)


class HomeVisitMerge(Base):
    """A second public request for a resident who already has an open one (issue #17, item 11).

    It is answered like a new request (its own tracking code), but does not open a second request:
    staff see its contact on the open one, and its tracking code shows that request's progress.
    `name`, `phone`, `address` and `note` are personal data, as on `HomeVisit`.
    """

    __tablename__ = "home_visit_merges"
    __table_args__ = (CheckConstraint("reason IN ('sick','disabled','elderly','other')", name="reason"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    home_visit_id: Mapped[int] = mapped_column(ForeignKey("home_visits.id", ondelete="CASCADE"), index=True)
    tracking_code: Mapped[str] = mapped_column(String(16), unique=True)
    area_code: Mapped[str] = mapped_column(AreaCode, ForeignKey("areas.code"))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(500))
    reason: Mapped[str] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(String(1000))
    preferred_dates: Mapped[list[Any]] = mapped_column(JSON, default=list)
    consented_at: Mapped[datetime] = mapped_column(UtcDateTime)
    requested_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())
