"""What progress answers: a node of the area tree, a daily series, a discrepancy."""

import datetime as dt
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field

from api.campaigns.models import TargetSource
from api.types import AreaLevel


class ProgressNode(BaseModel):
    code: str
    name: str
    level: AreaLevel
    target: int | None
    target_source: TargetSource | None
    recorded: int
    as_of: date | None = Field(description="Date of the newest figure counted.")
    official: int = Field(0, description="The official part of recorded: snapshots and official tallies (recording system, staff).")
    provisional: int = Field(0, description="The provisional part of recorded: queue and home-visit counts no official figure covers yet.")
    reported: bool = Field(False, description="Whether any figure has been reported for the area; false: not reported yet (belum melapor), not behind.")
    by_source: dict[str, int] = Field(
        default_factory=dict,
        description="official (as in recorded), and what the queues (queue) and home visits (home_visit) counted in the area, superseded counts included.",
    )
    percent: float | None = Field(
        description="recorded / target × 100, rounded half up to one decimal (api/rounding.py); shown as given. Null without a target."
    )
    remaining: int | None
    recorded_last_7_days: int = Field(0, description="Tallies of the 7 days that ended yesterday.")
    rate_7d: float = Field(0, description="Recordings per service day over those 7 days, rounded half up to one decimal (api/rounding.py).")
    service_days_left: int = Field(0, description="Days from tomorrow to the deadline on which recording is open.")
    required_per_day: int | None = Field(None, description="remaining / service_days_left, rounded up.")
    projected_completion_date: date | None = Field(None, description="When the target is reached at rate_7d; null when the rate is zero.")
    on_track: bool | None = Field(None, description="Whether the projected date is on or before the deadline.")
    children: list["ProgressNode"] = []


class DailyPoint(BaseModel):
    date: dt.date
    recorded: int = Field(description="Recordings that day (tallies of the area's subtree): official + provisional.")
    official: int = Field(0, description="Official figures of that day.")
    provisional: int = Field(0, description="Queue and home-visit counts of that day no official figure covers yet.")
    cumulative: int = Field(description="Recorded by the end of that day, snapshots included.")


class DailySeries(BaseModel):
    area: str
    start: date
    end: date
    days: list[DailyPoint]


class DiscrepancyKind(StrEnum):
    """snapshot: a reported snapshot differs from its children's; tally: daily totals posted at two levels differ."""

    snapshot = "snapshot"
    tally = "tally"


class Discrepancy(BaseModel):
    area: str
    as_of: date
    reported: int
    children_sum: int
    difference: int = Field(description="reported - children_sum")
    children_reporting: int
    children_total: int
    kind: DiscrepancyKind = Field(DiscrepancyKind.snapshot, description="snapshot, or tally for daily totals posted at two levels.")
