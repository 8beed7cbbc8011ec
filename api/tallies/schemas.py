import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.deprecation import DEPRECATED
from api.errors import ProblemItem
from api.types import BoundedDate


class TallyMode(StrEnum):
    upsert = "upsert"
    replace = "replace"  # type: ignore[assignment]  # mypy takes the member for an override of str.replace; renaming it would change the API


class TallySource(StrEnum):
    """Who produced a posted tally: typed in by hand, posted by a script, or demo data."""

    manual = "manual"
    script = "script"
    demo = "demo"


class StoredTallySource(StrEnum):
    """The source of a stored tally: the posted ones and those Rekam derives (queues, home visits)."""

    manual = "manual"
    script = "script"
    queue = "queue"
    home_visit = "home_visit"
    demo = "demo"


class ActorKind(StrEnum):
    """Who did it: a signed-in user, an API key, or Rekam itself."""

    user = "user"
    api_key = "api_key"
    system = "system"
    anonymous = "anonymous"


class ImportStatus(StrEnum):
    """ok; warning: written, with warnings; partial: some rows written, others rejected (atomic=false); error: nothing written."""

    ok = "ok"
    warning = "warning"
    partial = "partial"
    error = "error"


class TallyIn(BaseModel):
    """One row of a posted tally (documentation of the JSON shape; rows are checked by plain code)."""

    model_config = ConfigDict(extra="forbid")

    area: str = Field(description="The area's code (a kecamatan or below, inside the campaign).", examples=["36.74.01"])
    date: BoundedDate = Field(description="The day counted, in the campaign's time zone.", examples=["2026-08-31"])
    count: int = Field(ge=0, description="Residents recorded that day.", examples=[412])
    service_point_id: int | None = Field(default=None, description="The service point's id, when the count is one point's.", examples=[None])
    device_id: int | None = Field(default=None, description="The recording device's id, when the count is one device's.", examples=[None])
    service_point: int | None = Field(
        default=None, description="Deprecated: `service_point_id` (accepted until the sunset, docs/api.md).", json_schema_extra=DEPRECATED
    )
    device: int | None = Field(default=None, description="Deprecated: `device_id` (accepted until the sunset, docs/api.md).", json_schema_extra=DEPRECATED)
    source: TallySource | None = Field(default=None, description="Who produced the figure; `manual` when left out.", examples=["script"])


class TalliesPost(BaseModel):
    """Daily tallies as JSON (the same rows as the CSV columns `area,date,count,service_point_id,device_id,source`)."""

    model_config = ConfigDict(extra="forbid")

    tallies: list[TallyIn] = Field(description="The rows; at most the body size limit.")


class ImportProblemCode(StrEnum):
    """Why a row of a post of tallies was refused, or what looks wrong in an accepted one (a warning)."""

    invalid_row = "invalid_row"
    wrong_columns = "wrong_columns"
    unknown_field = "unknown_field"
    invalid_area = "invalid_area"
    above_kecamatan = "above_kecamatan"
    outside_campaign = "outside_campaign"
    outside_scope = "outside_scope"
    unknown_area = "unknown_area"
    invalid_date = "invalid_date"
    impossible_date = "impossible_date"
    mixed_date_format = "mixed_date_format"
    before_start = "before_start"
    in_future = "in_future"
    not_integer = "not_integer"
    negative = "negative"
    too_large = "too_large"
    invalid_reference = "invalid_reference"
    unknown_service_point = "unknown_service_point"
    not_in_area = "not_in_area"
    unknown_device = "unknown_device"
    renamed_conflict = "renamed_conflict"
    unknown_source = "unknown_source"
    duplicate_key = "duplicate_key"
    after_deadline = "after_deadline"
    above_capacity = "above_capacity"
    gap = "gap"


class ImportProblem(BaseModel):
    """One kind of problem and every row that has it (row 1 is the CSV header; JSON rows count from 1)."""

    rows: list[int] = Field(description="The rows that have this problem.", examples=[[2, 5]])
    field: str | None = Field(description="The column at fault, if one is.", examples=["area"])
    code: ImportProblemCode = Field(
        description="A stable code (enum `ImportProblemCode`); `after_deadline`, `above_capacity` and `gap` are warnings.",
        examples=["outside_scope"],
    )
    params: dict[str, Any] | None = Field(
        default=None,
        description="The values the code's words name (dates as YYYY-MM-DD); the words are `api/messages.py`'s `import.<code>`.",
        examples=[{"max": 1000000}],
    )
    message: str = Field(description="What is wrong, in English (deprecated: translate `code` with `params`).", examples=["outside your scope"])


class ImportSummary(BaseModel):
    """What a post of tallies did (or, for a dry run, would do)."""

    import_id: int | None = Field(
        description="The import's id (`GET .../imports/{import_id}`); null for a dry run or a request rejected as a whole.", examples=[17]
    )
    status: ImportStatus = Field(description=ImportStatus.__doc__, examples=["ok"])
    dry_run: bool = Field(description="Validated only; nothing was written.", examples=[False])
    mode: TallyMode = Field(
        description="upsert, or replace (deletes this source's tallies of the posted areas and dates not in the request).", examples=["upsert"]
    )
    atomic: bool = Field(description="Whether any rejected row rejects the whole request.", examples=[True])
    rows: int = Field(description="Rows in the request.", examples=[12])
    imported: int = Field(description="Rows that created a tally.", examples=[10])
    updated: int = Field(description="Rows that changed a tally's count.", examples=[1])
    unchanged: int = Field(description="Rows equal to the stored tally.", examples=[1])
    deleted: int = Field(description="Tallies deleted by mode=replace.", examples=[0])
    rejected: int = Field(description="Rows refused (see conflicts).", examples=[0])
    conflicts: list[ImportProblem] = Field(description="Why rows were refused, grouped by problem.")
    warnings: list[ImportProblem] = Field(description="Accepted rows that look wrong (a gap, a count above capacity).")


class TallyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    id: int
    area: str = Field(validation_alias="area_code")
    date: dt.date = Field(validation_alias="day")
    count: int
    service_point_id: int | None = Field(description="The service point counted, if the count is one point's.")
    device_id: int | None = Field(description="The device counted, if the count is one device's.")
    service_point: int | None = Field(validation_alias="service_point_id", description="Deprecated: `service_point_id`.", json_schema_extra=DEPRECATED)
    device: int | None = Field(validation_alias="device_id", description="Deprecated: `device_id`.", json_schema_extra=DEPRECATED)
    source: StoredTallySource
    import_id: int | None
    updated_at: dt.datetime


class TallyChangeRead(BaseModel):
    """One entry of a tally's history: a creation, a change or a deletion."""

    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    id: str = Field(
        description="The entry's id: opaque, never changes and is never given to another entry (`c<n>` for an entry stored when it happened, "
        "`i<import>-<area>-<date>-p<point>-d<device>` for the creation of a tally by an import).",
        examples=["c214", "i17-36.74.01-2026-08-31-p0-d0"],
    )
    area: str = Field(validation_alias="area_code")
    date: dt.date = Field(validation_alias="day")
    service_point_id: int | None = Field(description="The service point counted, if the count is one point's.")
    device_id: int | None = Field(description="The device counted, if the count is one device's.")
    service_point: int | None = Field(validation_alias="service_point_id", description="Deprecated: `service_point_id`.", json_schema_extra=DEPRECATED)
    device: int | None = Field(validation_alias="device_id", description="Deprecated: `device_id`.", json_schema_extra=DEPRECATED)
    old_count: int | None
    new_count: int | None
    source: StoredTallySource
    at: dt.datetime
    actor_kind: ActorKind
    actor_name: str
    import_id: int | None


class ImportRead(BaseModel):
    """One import of tallies: who, when, how, and what it did."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="The import's id.", examples=[17])
    at: dt.datetime = Field(description="When it was posted.")
    actor_kind: ActorKind = Field(description="Who posted it: a user or an API key.", examples=["api_key"])
    actor_name: str = Field(description="The user's name or `key:<name>`.", examples=["key:siak-sync"])
    format: str = Field(description="`json` or `csv`.", examples=["csv"])
    mode: TallyMode = Field(description="upsert or replace.", examples=["upsert"])
    atomic: bool = Field(description="Whether any rejected row rejected the whole request.", examples=[True])
    rows: int = Field(description="Rows in the request.", examples=[12])
    summary: ImportSummary = Field(description="What the import did.")


class TalliesRejected(BaseModel):
    """A 422 problem+json of a tally post. When rows were rejected (atomic=true) it carries the
    import summary as an extension; a malformed request (no rows, a wrong field) has none."""

    type: str = Field(description="`urn:rekam:problem:validation`.", examples=["urn:rekam:problem:validation"])
    title: str = Field(examples=["Invalid request"])
    status: int = Field(examples=[422])
    detail: str | None = Field(default=None, examples=["2 row(s) rejected; nothing was saved (atomic=true)."])
    instance: str | None = Field(default=None, description="The request id (X-Request-ID).")
    code: str = Field(description="`tallies.rejected`.", examples=["tallies.rejected"])
    errors: list[ProblemItem] | None = Field(default=None, description="One item per rejected row: row, field, code, message.")
    summary: ImportSummary | None = Field(default=None, description="The extension, when rows were rejected: what the import would have done.")


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


class PointCountPut(BaseModel):
    """A service point's count of one day, as its staff enter it; sending it again changes nothing."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=0, le=1_000_000, description="Residents recorded at the point that day.", examples=[45])


class PointCountRead(BaseModel):
    """The count stored for a service point and day: the point's tally in its campaign."""

    campaign_id: int = Field(description="The campaign the count belongs to.")
    service_point_id: int = Field(description="The service point counted.")
    area: str = Field(description="The point's area, where the count is tallied.", examples=["36.74.01.1001.005"])
    date: dt.date = Field(description="The day counted, in the campaign's time zone.")
    count: int = Field(description="Residents recorded at the point that day.")
