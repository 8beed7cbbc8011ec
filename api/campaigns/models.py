from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint, func, true
from sqlalchemy.orm import Mapped, mapped_column

from api.db import AreaCode, Base, UtcDateTime


class TargetSource(StrEnum):
    official = "official"
    apportioned = "apportioned"


WHAT_TO_BRING = "Bawa Kartu Keluarga (KK) asli atau fotokopi"


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("target >= 0", name="target_not_negative"),
        CheckConstraint("deadline >= start_date", name="deadline_after_start"),
        CheckConstraint("milestone >= 0 AND milestone <= 100", name="milestone_percent"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    root_area_code: Mapped[str] = mapped_column(AreaCode, ForeignKey("areas.code"))
    start_date: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    # Residents who must be recorded in the root area; mirrored by the root's official target.
    target: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Jakarta")
    opens_weekends: Mapped[bool] = mapped_column(Boolean, default=True)
    # What a resident brings to be recorded: shown with every service point.
    what_to_bring: Mapped[str] = mapped_column(String(500), default=WHAT_TO_BRING, server_default=WHAT_TO_BRING)
    # Caps on what one resident may take remotely (api/queues/service.py and appointments.py say
    # why): one active number per point and day per phone; one booking per NIK per day.
    cap_remote_numbers: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    cap_bookings_per_nik: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())
    # Change with every write that can alter progress, and with every change of a past day's
    # tallies (api/campaigns/versions.py): public progress answers are cached and validated per version.
    data_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    history_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Every move of history_version since the version history_since was a change of past days'
    # tallies of the areas in history_areas (codes, comma-separated; NULL: not known): a reader that
    # kept figures at one of those versions knows which to read again (api/campaigns/versions.py).
    history_since: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    history_areas: Mapped[str | None] = mapped_column(Text)
    # The highest tenth of progress (10, 20 ... 100 %) already told as `progress.milestone`: each
    # is told once, by whichever process moves this first (api/flows.py `tell_milestones`).
    milestone: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Target(Base):
    """Residents to record in one area; apportioned ones say so."""

    __tablename__ = "targets"
    __table_args__ = (
        UniqueConstraint("campaign_id", "area_code"),
        CheckConstraint("target >= 0", name="target_not_negative"),
        CheckConstraint("source IN ('official','apportioned')", name="source"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    area_code: Mapped[str] = mapped_column(AreaCode, ForeignKey("areas.code"))
    target: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(12))
    # How an apportioned target was made, e.g. "weights from BPS census 2010".
    basis: Mapped[str | None] = mapped_column(String(500))


class Snapshot(Base):
    """A cumulative figure reported for an area as of a date ("as of August: 56,458")."""

    __tablename__ = "snapshots"
    __table_args__ = (
        UniqueConstraint("campaign_id", "area_code", "as_of"),
        CheckConstraint("cumulative >= 0", name="cumulative_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    area_code: Mapped[str] = mapped_column(AreaCode, ForeignKey("areas.code"))
    as_of: Mapped[date] = mapped_column(Date)
    cumulative: Mapped[int] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())
