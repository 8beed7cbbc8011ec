import datetime as dt
from datetime import date
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.area_codes import AreaCodeStr
from api.areas.models import AreaLevel
from api.campaigns.models import WHAT_TO_BRING, TargetSource
from api.errors import field_rule
from api.types import BoundedDate

MAX_COUNT = 400_000_000  # more than Indonesia's population: anything above is a typo


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    root_area: AreaCodeStr = Field(examples=["36.74"])
    start_date: BoundedDate
    deadline: BoundedDate
    target: int = Field(ge=0, le=MAX_COUNT)
    opens_weekends: bool = True
    what_to_bring: str = Field(
        default=WHAT_TO_BRING, min_length=1, max_length=500, description="What a resident brings to be recorded, shown with every service point."
    )

    @model_validator(mode="after")
    def _deadline_after_start(self) -> Self:
        if self.deadline < self.start_date:
            raise field_rule("campaign.deadline_order")
        return self


class CampaignRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    id: int
    name: str
    description: str | None
    root_area: str = Field(validation_alias="root_area_code")
    start_date: date
    deadline: date
    target: int
    timezone: str
    opens_weekends: bool
    what_to_bring: str
    is_demo: bool


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    area: AreaCodeStr
    target: int = Field(ge=0, le=MAX_COUNT)


class TargetsPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    targets: list[TargetIn] = Field(min_length=1, max_length=100_000)


class TargetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    area: str = Field(validation_alias="area_code")
    target: int
    source: TargetSource
    basis: str | None = None


class TargetInconsistency(BaseModel):
    """A parent whose target differs from the sum of its children's (one level down)."""

    area: str
    target: int
    children_sum: int
    difference: int = Field(description="target - children_sum")


class TargetsRead(BaseModel):
    items: list[TargetRead]
    inconsistencies: list[TargetInconsistency]


class ApportionMethod(StrEnum):
    equal = "equal"
    weights = "weights"
    population = "population"


class ApportionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parent: AreaCodeStr = Field(examples=["36.74"])
    level: AreaLevel = Field(description="Level of the children that share the parent's target.")
    method: ApportionMethod
    weights: dict[str, float] | None = Field(default=None, description="Weight per child code, for method=weights.")
    basis: str | None = Field(default=None, max_length=500, description="Where the weights come from.")


class SnapshotCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    area: AreaCodeStr
    as_of: BoundedDate
    cumulative: int = Field(ge=0, le=MAX_COUNT)
    source: str | None = Field(default=None, max_length=200)


class SnapshotRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    id: int
    area: str = Field(validation_alias="area_code")
    as_of: date
    cumulative: int
    source: str | None


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
