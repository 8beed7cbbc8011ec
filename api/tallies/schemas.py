import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class TallyMode(StrEnum):
    upsert = "upsert"
    replace = "replace"


class TallyIn(BaseModel):
    """One row of a posted tally (documentation of the JSON shape; rows are checked by plain code)."""

    model_config = ConfigDict(extra="forbid")

    area: str = Field(examples=["36.74.01"])
    date: dt.date
    count: int = Field(ge=0)
    service_point: int | None = None
    device: int | None = None
    source: str | None = Field(default=None, examples=["manual", "script"])


class TalliesPost(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tallies: list[TallyIn]


class ImportProblem(BaseModel):
    """One kind of problem and every row that has it (row 1 is the CSV header; JSON rows count from 1)."""

    rows: list[int]
    field: str | None
    code: str
    message: str


class ImportSummary(BaseModel):
    import_id: int | None = Field(description="None for a dry run or a request rejected as a whole.")
    status: str = Field(description="ok, warning or error")
    dry_run: bool
    mode: TallyMode
    atomic: bool
    rows: int
    imported: int
    updated: int
    unchanged: int
    deleted: int
    rejected: int
    conflicts: list[ImportProblem]
    warnings: list[ImportProblem]
    replayed: bool = Field(False, description="true: the answer of an earlier request with this Idempotency-Key; nothing was done now.")


class TallyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    id: int
    area: str = Field(validation_alias="area_code")
    date: dt.date = Field(validation_alias="day")
    count: int
    service_point: int | None = Field(validation_alias="service_point_id")
    device: int | None = Field(validation_alias="device_id")
    source: str
    import_id: int | None
    updated_at: dt.datetime


class TallyChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    id: int
    area: str = Field(validation_alias="area_code")
    date: dt.date = Field(validation_alias="day")
    service_point: int | None = Field(validation_alias="service_point_id")
    device: int | None = Field(validation_alias="device_id")
    old_count: int | None
    new_count: int | None
    source: str
    at: dt.datetime
    actor_kind: str
    actor_name: str
    import_id: int | None


class ImportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: dt.datetime
    actor_kind: str
    actor_name: str
    format: str
    mode: str
    atomic: bool
    rows: int
    summary: dict


class ReconciliationRow(BaseModel):
    area: str
    date: dt.date
    official: int | None = Field(description="The area's own official figure that day; null: none covers these counts yet.")
    queue: int = Field(description="Recordings counted by completed queue tickets in the area's subtree that day.")
    home_visit: int = Field(description="Recordings counted by completed home visits in the area's subtree that day.")
    counted: int = Field(description="queue + home_visit")
    difference: int | None = Field(description="official - counted; null without an official figure.")


class ReconciliationRead(BaseModel):
    area: str
    start: dt.date
    end: dt.date
    rows: list[ReconciliationRow] = Field(description="Largest differences first; counts without an official figure last.")


class PolicyRead(BaseModel):
    operational_counts_official: bool = Field(
        description="true: queue and home-visit counts are official (a city without a recording-system export); false (default): provisional until an official figure arrives."
    )


class PolicyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operational_counts_official: bool
