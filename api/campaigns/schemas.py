from datetime import date
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.area_codes import AreaCodeStr
from api.campaigns.models import WHAT_TO_BRING, TargetSource
from api.errors import field_rule
from api.types import AreaLevel, BoundedDate

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
    cap_remote_numbers: bool = Field(
        default=True, description="One active number per service point and day per phone for numbers taken remotely (a kiosk or staff are not capped)."
    )
    cap_bookings_per_nik: bool = Field(default=True, description="Public appointment bookings need a NIK, and one NIK books at most one appointment per day.")

    @model_validator(mode="after")
    def _deadline_after_start(self) -> Self:
        if self.deadline < self.start_date:
            raise field_rule("campaign.deadline_order")
        return self


class CampaignUpdate(BaseModel):
    """What may change while a campaign runs (issue #23): the text residents read with every service
    point, and the caps on numbers and bookings taken remotely. Its area, dates and target stay as
    they were set (targets change through PUT /targets)."""

    model_config = ConfigDict(extra="forbid")

    what_to_bring: str | None = Field(
        default=None, min_length=1, max_length=500, description="What a resident brings to be recorded, shown with every service point."
    )
    cap_remote_numbers: bool | None = Field(
        default=None, description="One active number per service point and day per phone for numbers taken remotely (a kiosk or staff are not capped)."
    )
    cap_bookings_per_nik: bool | None = Field(
        default=None, description="Public appointment bookings need a NIK, and one NIK books at most one appointment per day."
    )


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
    cap_remote_numbers: bool = Field(description="One active number per service point and day per phone for numbers taken remotely.")
    cap_bookings_per_nik: bool = Field(description="Public appointment bookings need a NIK; one NIK books at most one appointment per day.")
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
