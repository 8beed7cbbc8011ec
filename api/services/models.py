from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.db import AreaCode, Base, UtcDateTime


class ServicePointKind(StrEnum):
    kecamatan_office = "kecamatan_office"
    kelurahan_office = "kelurahan_office"
    weekend_event = "weekend_event"
    mobile = "mobile"


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ServicePoint(Base):
    """A place where residents are recorded: an office, a weekend RT/RW event, a mobile kit's day."""

    __tablename__ = "service_points"
    __table_args__ = (
        CheckConstraint("kind IN ('kecamatan_office','kelurahan_office','weekend_event','mobile')", name="kind"),
        CheckConstraint("counters >= 0", name="counters_not_negative"),
        CheckConstraint("service_minutes BETWEEN 1 AND 240", name="service_minutes_range"),
        CheckConstraint("open_days BETWEEN 0 AND 127", name="open_days_range"),
        # A weekend service is one date and one time window; other kinds have weekly hours instead.
        CheckConstraint(
            "(kind = 'weekend_event') = (event_date IS NOT NULL AND event_start IS NOT NULL AND event_end IS NOT NULL)",
            name="event_fields",
        ),
        CheckConstraint("event_start IS NULL OR event_start < event_end", name="event_window_order"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    name: Mapped[str] = mapped_column(String(200))
    area_code: Mapped[str] = mapped_column(AreaCode, ForeignKey("areas.code"), index=True)
    address: Mapped[str | None] = mapped_column(String(500))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    counters: Mapped[int] = mapped_column(Integer, default=1)
    # {"mon": [["08:00", "15:00"]], ..., "sun": []}: hours per weekday, Saturday and Sunday included.
    opening_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Bit i set when weekday i (Monday = 0) has hours: lets "open on DATE" be filtered in SQL.
    open_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Minutes one recording takes at a counter: the length of an appointment slot.
    service_minutes: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    event_date: Mapped[date | None] = mapped_column(Date, index=True)
    event_start: Mapped[str | None] = mapped_column(String(5))
    event_end: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())


class Closure(Base):
    """A day a point is closed (holiday) or open for reduced hours only."""

    __tablename__ = "service_point_closures"
    __table_args__ = (UniqueConstraint("service_point_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    # Empty: closed all day; otherwise the reduced hours that replace the weekday's hours.
    hours: Mapped[list[Any]] = mapped_column(JSON, default=list)
    closed: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())


class EventAssignment(Base):
    """A device or an operator assigned to a weekend service for its date.

    The day is copied from the event so that the database itself refuses a device (or an
    operator) at two weekend services on the same day.
    """

    __tablename__ = "event_assignments"
    __table_args__ = (
        CheckConstraint("(device_id IS NULL) <> (operator_id IS NULL)", name="device_or_operator"),
        UniqueConstraint("device_id", "day"),
        UniqueConstraint("operator_id", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
