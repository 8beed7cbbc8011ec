from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from api.db import AreaCode, Base, UtcDateTime


class ServicePointKind(StrEnum):
    kecamatan_office = "kecamatan_office"
    kelurahan_office = "kelurahan_office"
    weekend_event = "weekend_event"
    mobile = "mobile"


class ServicePoint(Base):
    """A place where residents are recorded: an office, a weekend RT/RW event, a mobile kit's day."""

    __tablename__ = "service_points"
    __table_args__ = (
        CheckConstraint("kind IN ('kecamatan_office','kelurahan_office','weekend_event','mobile')", name="kind"),
        CheckConstraint("counters >= 0", name="counters_not_negative"),
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
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())
