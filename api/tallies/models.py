from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.db import AreaCode, Base, UtcDateTime

SOURCES = ("manual", "script", "queue", "home_visit", "demo")
SOURCE_CHECK = "source IN ('manual','script','queue','home_visit','demo')"
# Recordings counted by Rekam itself never share a tally with posted figures (nor with each other):
# part of the natural key, derived from the source.
ORIGINS = {"queue": 1, "home_visit": 2}


def origin_sql(source: str) -> str:
    """The SQL expression of `origin_key` for a source expression."""
    return f"CASE {source} WHEN 'queue' THEN 1 WHEN 'home_visit' THEN 2 ELSE 0 END"


class TallyImport(Base):
    """One accepted POST of tallies: who sent it, when, and the summary they got back."""

    __tablename__ = "tally_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(8))
    mode: Mapped[str] = mapped_column(String(8))
    atomic: Mapped[bool]
    rows: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)


class Tally(Base):
    """Recordings on one day in one area, optionally at one service point and on one device.

    `point_key` and `device_key` are the nullable references with 0 for "none", because a unique
    constraint treats NULLs as distinct and the natural key must not. `origin_key` keeps the
    recordings Rekam counts itself apart from posted figures of the same area and day (0 posted,
    1 queue, 2 home visit): a home visit adds to its own tally, never to the office's total.
    """

    __tablename__ = "tallies"
    __table_args__ = (
        UniqueConstraint("campaign_id", "area_code", "day", "point_key", "device_key", "origin_key"),
        CheckConstraint("count >= 0", name="count_not_negative"),
        CheckConstraint(SOURCE_CHECK, name="source"),
        CheckConstraint("point_key = COALESCE(service_point_id, 0)", name="point_key"),
        CheckConstraint("device_key = COALESCE(device_id, 0)", name="device_key"),
        CheckConstraint(f"origin_key = {origin_sql('source')}", name="origin_key"),
        # The few tallies Rekam counts itself, for reconciliation and per-source figures (posted ones are not indexed here).
        Index(
            "ix_tallies_operational",
            "campaign_id",
            "day",
            "area_code",
            sqlite_where=text("origin_key > 0"),
            postgresql_where=text("origin_key > 0"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    area_code: Mapped[str] = mapped_column(AreaCode, ForeignKey("areas.code"))
    day: Mapped[date] = mapped_column(Date)
    service_point_id: Mapped[int | None] = mapped_column(ForeignKey("service_points.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    point_key: Mapped[int] = mapped_column(Integer, default=0)
    device_key: Mapped[int] = mapped_column(Integer, default=0)
    origin_key: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    count: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(12), default="manual")
    import_id: Mapped[int | None] = mapped_column(ForeignKey("tally_imports.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TallyChange(Base):
    """History: an accepted change of a tally (old value, new value, who, when, which import).

    A tally created by an import has no entry until it changes: its row (import id, time) and
    the import (who) record the creation meanwhile, and `list_history` shows it from there."""

    __tablename__ = "tally_changes"
    __table_args__ = (Index("ix_tally_changes_campaign_area_day", "campaign_id", "area_code", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    area_code: Mapped[str] = mapped_column(AreaCode)
    day: Mapped[date] = mapped_column(Date)
    service_point_id: Mapped[int | None] = mapped_column(Integer)
    device_id: Mapped[int | None] = mapped_column(Integer)
    # None before the first posting / after a deletion.
    old_count: Mapped[int | None] = mapped_column(Integer)
    new_count: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(200))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("tally_imports.id", ondelete="SET NULL"))


class TallyPolicy(Base):
    """How one campaign ranks the sources of its tallies (`api.tallies.precedence`): absent means
    the default, where queue and home-visit counts are operational (provisional until an official
    figure arrives). `operational_official`: a city without a recording-system export counts
    them as official instead."""

    __tablename__ = "tally_policies"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    operational_official: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class TallyRollup(Base):
    """The day's figure of an area's subtree, kept current with every tally change, in two parts
    (the rule: `api.tallies.precedence`).

    Official part: `own` sums the official tallies posted for exactly this area (`own_rows` of
    them); `below` sums the children's `total`. An official figure posted for an area stands for
    its whole subtree, like a snapshot, so `total` is `own` when the area has official tallies of
    its own and `below` otherwise: posting at two levels never double-counts, and a difference
    between `own` and `below` is a discrepancy.

    Provisional part: `op_own` sums the operational tallies (queue, home visit) of exactly this
    area; `op_below` sums the children's `provisional`. Operational counts are people, so they
    add up; an official figure of this area supersedes them all, so `provisional` is 0 when the
    area has official tallies of its own and `op_own + op_below` otherwise.
    The day's figure is `total + provisional`.
    """

    __tablename__ = "tally_rollups"
    __table_args__ = (
        CheckConstraint("own >= 0 AND own_rows >= 0 AND below >= 0", name="not_negative"),
        CheckConstraint("total = CASE WHEN own_rows > 0 THEN own ELSE below END", name="total"),
        CheckConstraint("op_own >= 0 AND op_below >= 0", name="operational_not_negative"),
        CheckConstraint("provisional = CASE WHEN own_rows > 0 THEN 0 ELSE op_own + op_below END", name="provisional"),
        {"sqlite_with_rowid": False},  # the primary key is the table: one search per day read
    )

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    area_code: Mapped[str] = mapped_column(AreaCode, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    own: Mapped[int] = mapped_column(Integer, default=0)
    own_rows: Mapped[int] = mapped_column(Integer, default=0)
    below: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    op_own: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    op_below: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    provisional: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class TallyTotal(Base):
    """An area's figure over the whole campaign: `total`, the sum of its daily rollups' figures
    (`total + provisional` of each), of which `provisional` is the provisional part, and the
    newest day whose figure is above zero. Kept in the same transaction
    as the rollups, so progress reads one row per area instead of one per day."""

    __tablename__ = "tally_totals"
    __table_args__ = (CheckConstraint("total >= provisional AND provisional >= 0", name="not_negative"), {"sqlite_with_rowid": False})

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    area_code: Mapped[str] = mapped_column(AreaCode, primary_key=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    provisional: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_day: Mapped[date | None] = mapped_column(Date)
