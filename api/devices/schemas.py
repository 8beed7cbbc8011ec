from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.deprecation import RenamedInput, document_renamed
from api.devices.models import DeviceKind, DeviceOwner, DeviceStatus, OperatorStatus
from api.types import BoundedDate

PHONE_PATTERN = r"^\+?[0-9][0-9 \-]{5,18}$"


class DeviceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    serial: str = Field(min_length=1, max_length=64, pattern=r"^\S(.*\S)?$")
    kind: DeviceKind
    owner: DeviceOwner
    lender: str | None = Field(default=None, min_length=1, max_length=200, description="Required for a loan, refused otherwise.")
    return_due: BoundedDate | None = Field(default=None, description="Required for a loan, refused otherwise.")
    daily_capacity: int = Field(ge=1, le=2000, description="Recordings per day with an operator on duty.")
    notes: str | None = Field(default=None, max_length=2000)


class DeviceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    serial: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^\S(.*\S)?$")
    kind: DeviceKind | None = None
    owner: DeviceOwner | None = None
    lender: str | None = Field(default=None, min_length=1, max_length=200)
    return_due: BoundedDate | None = None
    status: DeviceStatus | None = Field(default=None, description="active ⇄ faulty → in_repair → active; returned (loans) and retired are final.")
    daily_capacity: int | None = Field(default=None, ge=1, le=2000)
    notes: str | None = Field(default=None, max_length=2000)


class PlacementCreate(RenamedInput):
    """Where a device (or an operator) goes, from a day, until a day or until further notice."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_extra=document_renamed)
    RENAMED = {"service_point": "service_point_id"}

    service_point: int | None = Field(default=None, ge=1, validation_alias="service_point_id", description="A service point id; or give `area`.")
    area: str | None = Field(default=None, min_length=1, max_length=40, description="A kecamatan or an area below it (a mobile team's area).")
    starts_on: BoundedDate = Field(alias="from")
    ends_on: BoundedDate | None = Field(default=None, alias="to", description="Last day (inclusive); none: until further notice.")
    reason: str | None = Field(default=None, max_length=500)


class AllocationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True, serialize_by_alias=True)

    id: int
    device_id: int
    service_point_id: int | None
    area: str = Field(validation_alias="area_code")
    starts_on: date = Field(serialization_alias="from")
    ends_on: date | None = Field(serialization_alias="to")
    reason: str | None


class AssignmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True, serialize_by_alias=True)

    id: int
    operator_id: int
    service_point_id: int | None
    area: str = Field(validation_alias="area_code")
    starts_on: date = Field(serialization_alias="from")
    ends_on: date | None = Field(serialization_alias="to")
    reason: str | None


class DeviceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    serial: str
    kind: DeviceKind
    owner: DeviceOwner
    lender: str | None
    return_due: date | None
    status: DeviceStatus
    daily_capacity: int
    notes: str | None
    loan_overdue: bool = Field(description="A loan whose return date has passed and that is not returned yet.")
    placed: AllocationRead | None = Field(description="Where the device is on the day asked (today unless the request names a date).")


class OperatorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    staff_number: str = Field(min_length=1, max_length=64, pattern=r"^\S(.*\S)?$")
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN, description="Personal data.")
    added_for_campaign: bool = False


class OperatorUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    staff_number: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^\S(.*\S)?$")
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    status: OperatorStatus | None = Field(default=None, description="Suspension or leaving ends the operator's assignments from today.")
    reason: str | None = Field(default=None, max_length=500, description="Why the status changes.")
    added_for_campaign: bool | None = None


class OperatorRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    staff_number: str
    phone: str | None = Field(description="Masked (…1234) unless the caller may see it in full.")
    status: OperatorStatus
    added_for_campaign: bool
    assigned: AssignmentRead | None = Field(description="Where the operator is posted today.")


class KecamatanSummary(BaseModel):
    code: str
    name: str
    devices: int = Field(description="Devices allocated in the kecamatan on the day, whatever their status.")
    by_kind: dict[str, int]
    by_owner: dict[str, int]
    active_devices: int
    operators: int = Field(description="Active operators posted in the kecamatan on the day.")
    capacity_per_day: int = Field(description="Daily capacity of the active devices that have an operator.")


class AllocationSummary(BaseModel):
    date: date
    kecamatan: list[KecamatanSummary]
    unplaced_devices: int = Field(description="Active devices allocated nowhere on the day.")
    unassigned_operators: int = Field(description="Active operators posted nowhere on the day.")


class KecamatanCapacity(BaseModel):
    code: str
    name: str
    remaining: int = Field(description="Residents still to record (target - recorded).")
    service_days_left: int
    active_devices: int
    operators: int
    capacity_per_day: int
    required_per_day: int | None = Field(description="None when no service day is left.")
    feasible: bool
    shortfall_per_day: int = Field(description="How many recordings a day are missing (0 when feasible).")
    slack_per_day: int = Field(description="How many recordings a day are to spare (0 when not feasible).")
    projected_finish: date | None = Field(description="Last service day needed at this capacity; none if it never finishes.")


class CapacityRead(BaseModel):
    campaign_id: int
    as_of: date
    deadline: date
    service_days_left: int
    kecamatan: list[KecamatanCapacity]


class ExtraDevice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: DeviceKind = DeviceKind.static
    daily_capacity: int = Field(ge=1, le=2000)
    count: int = Field(default=1, ge=1, le=100)


class PlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    as_of: BoundedDate | None = Field(default=None, description="The day whose placements the plan starts from; today by default.")
    movable: list[int] | Literal["all"] = Field(default="all", description="Ids of devices that may move, or all active devices.")
    extra_devices: list[ExtraDevice] = Field(default_factory=list, max_length=20, description="Devices the city could add.")
    extra_operators: int = Field(default=0, ge=0, le=500, description="Operators the city could add.")


class PlanPlace(BaseModel):
    area: str
    service_point_id: int | None = None


class PlanMove(BaseModel):
    kind: Literal["device", "operator"]
    id: int | None = Field(description="None for a device or operator the city would add.")
    label: str = Field(description="What moves, in English (deprecated: word `label_code` with `label_params`).")
    label_code: str = Field(description="What moves, as a code of the Problem code list (`plan.label.device`...).", examples=["plan.label.device"])
    label_params: dict[str, Any] = Field(description="The values `label_code` names.", examples=[{"serial": "KIT-01", "kind": "static", "capacity": 80}])
    from_: PlanPlace | None = Field(serialization_alias="from")
    to: PlanPlace
    reason: str = Field(description="Why, in English (deprecated: word `reason_code` with `reason_params`).")
    reason_code: str = Field(description="Why, as a code of the Problem code list (`plan.device`, `plan.operator_from`...).", examples=["plan.device"])
    reason_params: dict[str, Any] = Field(
        description="The values `reason_code` names: kecamatan names, capacities per day, finish dates (YYYY-MM-DD, or `never`).",
        examples=[
            {"kecamatan": "Pondok Aren", "finish_before": "2027-02-11", "capacity_before": 560, "capacity_after": 640, "finish_after": "2027-02-01", "adds": 80}
        ],
    )

    model_config = ConfigDict(serialize_by_alias=True)


class PlanKecamatan(BaseModel):
    code: str
    name: str
    remaining: int
    capacity_before: int
    capacity_after: int
    finish_before: date | None
    finish_after: date | None
    feasible_before: bool
    feasible_after: bool


class PlanRead(BaseModel):
    campaign_id: int
    as_of: date
    deadline: date
    moves: list[PlanMove]
    kecamatan: list[PlanKecamatan]
    latest_finish_before: date | None
    latest_finish_after: date | None
    method: str


class PlanApplied(BaseModel):
    plan: PlanRead
    allocations: list[AllocationRead]
    assignments: list[AssignmentRead]
    not_applied: list[PlanMove] = Field(description="Moves of devices or operators the city does not have yet.")
