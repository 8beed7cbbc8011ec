from datetime import date
from datetime import date as Day
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from api.deprecation import DEPRECATED, DayAsDate, OptionalDayAsDate, RenamedInput, deprecated_day, document_renamed
from api.services.models import ServicePointKind
from api.types import AreaLevel, BoundedDate

HHMM = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$", examples=["08:00"])]
# One opening window: ["08:00", "12:00"].
Window = tuple[HHMM, HHMM]


class Weekday(StrEnum):
    mon = "mon"
    tue = "tue"
    wed = "wed"
    thu = "thu"
    fri = "fri"
    sat = "sat"
    sun = "sun"


OpeningHours = dict[Weekday, Annotated[list[Window], Field(max_length=6)]]


class ServicePointCreate(BaseModel):
    """An office (weekly hours) or a weekend service (one date, one time window, at an RW or RT)."""

    model_config = ConfigDict(extra="forbid")

    kind: ServicePointKind
    name: str = Field(min_length=1, max_length=200)
    area: str = Field(min_length=1, max_length=40, description="Area code, down to RW/RT.")
    address: str | None = Field(default=None, max_length=500)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    counters: int = Field(default=1, ge=0, le=50)
    opening_hours: OpeningHours = Field(default_factory=dict, examples=[{"mon": [["08:00", "15:00"]], "sat": [["08:00", "12:00"]]}])
    service_minutes: int = Field(default=10, ge=1, le=240, description="Minutes one recording takes: the appointment slot length.")
    event_date: BoundedDate | None = Field(default=None, description="Weekend services only: the Saturday or Sunday.")
    event_start: HHMM | None = None
    event_end: HHMM | None = None
    active: bool = True


class ServicePointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    area: str | None = Field(default=None, min_length=1, max_length=40)
    address: str | None = Field(default=None, max_length=500)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    counters: int | None = Field(default=None, ge=0, le=50)
    opening_hours: OpeningHours | None = None
    service_minutes: int | None = Field(default=None, ge=1, le=240)
    event_date: BoundedDate | None = None
    event_start: HHMM | None = None
    event_end: HHMM | None = None
    active: bool | None = None


class ServicePointRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    id: int
    kind: ServicePointKind
    name: str
    area: str = Field(validation_alias="area_code")
    address: str | None
    latitude: float | None
    longitude: float | None
    counters: int
    opening_hours: dict[str, list[list[str]]]
    service_minutes: int
    event_date: date | None
    event_start: str | None
    event_end: str | None
    active: bool
    hours: list[list[str]] | None = Field(default=None, description="Hours on the `open_on` date, when asked.")


class CancelledBooking(DayAsDate):
    """A booking cancelled because the point closed or shortened its hours."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    service_point_id: int
    day: date = deprecated_day()
    slot_start: str
    slot_end: str


class ServicePointUpdated(ServicePointRead):
    cancelled_appointments: list[CancelledBooking] = []
    dry_run: bool = Field(default=False, description="A preview: nothing was changed and no booking was cancelled.")


class ClosureCreate(RenamedInput):
    """A holiday (no hours) or a day of reduced hours."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_extra=document_renamed)
    RENAMED = {"day": "date"}

    day: BoundedDate = Field(validation_alias="date", description="The day closed or with reduced hours.")
    hours: Annotated[list[Window], Field(max_length=6)] = Field(default_factory=list, description="Empty: closed all day.")
    reason: str = Field(min_length=1, max_length=200, examples=["Libur nasional"])


class ClosureRead(DayAsDate):
    model_config = ConfigDict(from_attributes=True)

    id: int
    service_point_id: int
    day: date = deprecated_day()
    hours: list[list[str]]
    closed: bool
    reason: str


class ClosureCreated(ClosureRead):
    cancelled_appointments: list[CancelledBooking]
    dry_run: bool = Field(default=False, description="A preview: the closure was not saved and no booking was cancelled.")


class AssignmentsPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_ids: list[int] = Field(default_factory=list, max_length=50)
    operator_ids: list[int] = Field(default_factory=list, max_length=50)


class AssignmentsRead(OptionalDayAsDate):
    service_point_id: int
    day: date | None = Field(description="Deprecated: `date`, the weekend service's date; null for other kinds of point.", json_schema_extra=DEPRECATED)
    device_ids: list[int]
    operator_ids: list[int]


class SchedulePoint(BaseModel):
    id: int
    name: str
    kind: ServicePointKind
    area: str
    hours: list[list[str]]
    note: str | None = Field(default=None, description="A closure's reason on a day of reduced hours.")
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    places: dict[str, str] = Field(default_factory=dict, description="Names by level: kecamatan, kelurahan, rw, rt (those above the point, and its own).")


class ScheduleDay(BaseModel):
    date: date
    points: list[SchedulePoint]


class UncoveredArea(BaseModel):
    """A dense RW/RT that has had no weekend service yet."""

    code: str
    name: str
    level: AreaLevel
    population: int | None


class PlannedUnit(BaseModel):
    """An RW/RT ranked by the weekend-service planner (the rule: api/services/planner.py)."""

    code: str = Field(description="The RW or RT.")
    name: str = Field(description="Its name.")
    level: AreaLevel = Field(description="rw or rt.")
    kelurahan: str = Field(description="Its kelurahan's code.")
    kelurahan_name: str = Field(description="Its kelurahan's name.")
    population: int = Field(description="Residents of the RW/RT (area list).")
    still_to_record: int = Field(description="Estimated: the kelurahan's remaining (target minus recorded) shared out by population.")
    last_service_nearby: Day | None = Field(description="The last weekend service in the same kelurahan on or before the date; null: none.")
    weight: float = Field(description="Whole weeks since that service / 4, at most 1 (1 without one).")
    expected_yield: int = Field(description="still_to_record x weight, rounded down: the ranking figure.")


class FreeDevice(BaseModel):
    """A device free on the planned day (not at a point, an event or home visits)."""

    id: int = Field(description="The device's id.")
    serial: str = Field(description="Its serial number.")
    kind: str = Field(description="static or mobile.")


class FreeOperator(BaseModel):
    """An operator free on the planned day."""

    id: int = Field(description="The operator's id.")
    name: str = Field(description="The operator's name.")
    staff_number: str = Field(description="The operator's staff number.")


class WeekendPlan(BaseModel):
    """Where a weekend service on `date` would record the most residents, and who is free to staff it."""

    date: Day = Field(description="The Saturday or Sunday planned.")
    area: str = Field(description="The area ranked (the caller's scope by default).")
    rule: str = Field(description="The ranking rule, in words.")
    items: list[PlannedUnit] = Field(description="RW/RT by expected yield, highest first; those with their own service on or after the date are left out.")
    free_devices: list[FreeDevice] = Field(description="Devices free that day that the caller may book.")
    free_operators: list[FreeOperator] = Field(description="Operators free that day that the caller may book.")
