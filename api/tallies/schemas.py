import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class TallyMode(StrEnum):
    upsert = "upsert"
    replace = "replace"  # type: ignore[assignment]  # mypy takes the member for an override of str.replace; renaming it would change the API


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
