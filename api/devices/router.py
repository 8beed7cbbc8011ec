from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api import flows
from api.area_codes import AreaQuery
from api.auth.dependencies import AdminDep, StaffDep, WriterDep, require
from api.campaigns import service as campaigns
from api.db import WRITES, IdPath, SessionDep
from api.deprecation import renamed
from api.devices import service
from api.devices.models import DeviceKind, DeviceOwner, DeviceStatus, OperatorStatus
from api.devices.schemas import (
    AllocationRead,
    AllocationSummary,
    AssignmentRead,
    CapacityRead,
    DeviceCreate,
    DeviceRead,
    DeviceUpdate,
    OperatorCreate,
    OperatorRead,
    OperatorUpdate,
    PlacementCreate,
    PlanApplied,
    PlanRead,
    PlanRequest,
)
from api.errors import problem_responses
from api.idempotency import CreatingRoute
from api.pagination import Page, PageDep
from api.principal import Principal
from api.types import BoundedDate, Role

router = APIRouter(tags=["devices"], route_class=CreatingRoute)

DateQuery = Annotated[BoundedDate | None, Query(alias="date", description="The day (Asia/Jakarta); today by default.")]
# Planning reads the whole city's placements: the city office, supervisors and viewers.
PlannerDep = Annotated[Principal, Depends(require(Role.admin, Role.supervisor, Role.viewer))]


@router.post("/devices", response_model=DeviceRead, status_code=201, responses=problem_responses(401, 403, 409, 422))
async def create_device(data: DeviceCreate, principal: AdminDep, session: SessionDep) -> DeviceRead:
    """Register a recording device (a loan names its lender and return date)."""
    return await service.create_device(session, data=data, actor=principal)


@router.get("/devices", response_model=Page[DeviceRead], responses=problem_responses(401, 403, 422))
async def list_devices(
    principal: StaffDep,
    session: SessionDep,
    page: PageDep,
    kind: DeviceKind | None = None,
    owner: DeviceOwner | None = None,
    status: DeviceStatus | None = None,
    area: AreaQuery = None,
    loan_due_before: BoundedDate | None = None,
    overdue: Annotated[bool | None, Query(description="Only loans past their return date (true) or none of them (false).")] = None,
) -> Page[DeviceRead]:
    """Devices with where each is today, filtered by kind, owner, status, area or loan due date."""
    items, next_cursor = await service.list_devices(
        session, page=page, kind=kind, owner=owner, status=status, area=area, loan_due_before=loan_due_before, overdue=overdue
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/devices/{device_id}", response_model=DeviceRead, responses=problem_responses(401, 403, 404, 422))
async def get_device(device_id: IdPath, principal: StaffDep, session: SessionDep) -> DeviceRead:
    """One device, where it is today, and whether its loan is overdue."""
    return await service.get_device(session, device_id=device_id)


@router.patch("/devices/{device_id}", response_model=DeviceRead, responses=problem_responses(401, 403, 404, 409, 422))
async def update_device(device_id: IdPath, data: DeviceUpdate, principal: WriterDep, session: SessionDep) -> DeviceRead:
    """Change a device's details or status (active ⇄ faulty → in_repair → active; returned, retired)."""
    return await service.update_device(session, device_id=device_id, data=data, actor=principal)


@router.post("/devices/{device_id}/allocations", response_model=AllocationRead, status_code=201, responses=problem_responses(401, 403, 404, 409, 422))
async def allocate_device(device_id: IdPath, data: PlacementCreate, principal: WriterDep, session: SessionDep) -> AllocationRead:
    """Move a device to a service point or an area from a day; its open allocation closes the day before."""
    return AllocationRead.model_validate(await flows.allocate_device(session, device_id=device_id, data=data, actor=principal))


@router.get("/devices/{device_id}/allocations", response_model=Page[AllocationRead], responses=problem_responses(401, 403, 404, 422))
async def device_history(device_id: IdPath, principal: StaffDep, session: SessionDep, page: PageDep) -> Page[AllocationRead]:
    """Where a device has been and will be, oldest first."""
    items, next_cursor = await service.device_history(session, device_id=device_id, page=page)
    return Page(items=[AllocationRead.model_validate(a) for a in items], next_cursor=next_cursor)


@router.get("/allocations", response_model=Page[DeviceRead], responses=problem_responses(401, 403, 422))
async def whereabouts(principal: StaffDep, session: SessionDep, page: PageDep, day: DateQuery = None, area: AreaQuery = None) -> Page[DeviceRead]:
    """Where every device is on a day (`placed`), or only those in an area's subtree."""
    items, next_cursor = await service.list_devices(session, page=page, day=day, area=area)
    return Page(items=items, next_cursor=next_cursor)


@router.get("/allocations/summary", response_model=AllocationSummary, responses=problem_responses(401, 403, 404, 422))
async def allocation_summary(principal: StaffDep, session: SessionDep, day: DateQuery = None, area: AreaQuery = None) -> AllocationSummary:
    """Per kecamatan on a day: devices by kind and owner, active devices, operators, capacity per day."""
    return await service.summary(session, day=day, area=area)


@router.post("/operators", response_model=OperatorRead, status_code=201, responses=problem_responses(401, 403, 409, 422))
async def create_operator(data: OperatorCreate, principal: AdminDep, session: SessionDep) -> OperatorRead:
    """Register an operator (petugas); the phone number is personal data."""
    return await service.create_operator(session, data=data, actor=principal)


@router.get("/operators", response_model=Page[OperatorRead], responses=problem_responses(401, 403, 422))
async def list_operators(
    principal: StaffDep,
    session: SessionDep,
    page: PageDep,
    status: OperatorStatus | None = None,
    area: AreaQuery = None,
    added_for_campaign: bool | None = None,
    point: Annotated[int | None, Query(alias="service_point_id", ge=1, le=2**31 - 1, description="Only the operators at this service point on `date`.")] = None,
    service_point: Annotated[int | None, Query(ge=1, le=2**31 - 1, deprecated=True, description="Deprecated: `service_point_id`.")] = None,
    day: Annotated[BoundedDate | None, Query(alias="date", description="With `service_point_id`: the day (Asia/Jakarta); today by default.")] = None,
) -> Page[OperatorRead]:
    """Operators with where each is posted today; phone numbers masked."""
    service_point = renamed(point, service_point, old="service_point", new="service_point_id")
    items, next_cursor = await service.list_operators(
        session, page=page, status=status, area=area, added_for_campaign=added_for_campaign, service_point=service_point, on=day
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/operators/{operator_id}", response_model=OperatorRead, responses=problem_responses(401, 403, 404, 422), dependencies=[WRITES])
async def get_operator(operator_id: IdPath, principal: StaffDep, session: SessionDep) -> OperatorRead:
    """One operator; the phone in full for the city office or the supervisor of their area (audited)."""
    return await service.get_operator(session, operator_id=operator_id, actor=principal)


@router.patch("/operators/{operator_id}", response_model=OperatorRead, responses=problem_responses(401, 403, 404, 409, 422))
async def update_operator(operator_id: IdPath, data: OperatorUpdate, principal: WriterDep, session: SessionDep) -> OperatorRead:
    """Change an operator's details or status (suspension and leaving end their postings from today)."""
    return await service.update_operator(session, operator_id=operator_id, data=data, actor=principal)


@router.post("/operators/{operator_id}/assignments", response_model=AssignmentRead, status_code=201, responses=problem_responses(401, 403, 404, 409, 422))
async def assign_operator(operator_id: IdPath, data: PlacementCreate, principal: WriterDep, session: SessionDep) -> AssignmentRead:
    """Post an operator to a service point or a kecamatan from a day; the open posting closes the day before."""
    return AssignmentRead.model_validate(await flows.assign_operator(session, operator_id=operator_id, data=data, actor=principal))


@router.get("/operators/{operator_id}/assignments", response_model=Page[AssignmentRead], responses=problem_responses(401, 403, 404, 422))
async def operator_history(operator_id: IdPath, principal: StaffDep, session: SessionDep, page: PageDep) -> Page[AssignmentRead]:
    """Where an operator has been and will be posted, oldest first."""
    items, next_cursor = await service.operator_history(session, operator_id=operator_id, page=page)
    return Page(items=[AssignmentRead.model_validate(a) for a in items], next_cursor=next_cursor)


@router.get("/campaigns/{campaign_id}/capacity", response_model=CapacityRead, responses=problem_responses(401, 403, 404, 422))
async def campaign_capacity(
    campaign_id: IdPath,
    principal: StaffDep,
    session: SessionDep,
    on: Annotated[BoundedDate | None, Query(alias="date", description="The day to weigh (today when left out).")] = None,
    as_of: Annotated[BoundedDate | None, Query(deprecated=True, description="Deprecated: `date`.")] = None,
) -> CapacityRead:
    """Per kecamatan: remaining, service days left, devices and operators, capacity against what is required."""
    as_of = renamed(on, as_of, old="as_of", new="date")
    campaign = await campaigns.get_campaign(session, campaign_id=campaign_id)
    return await flows.capacity(session, campaign=campaign, as_of=as_of)


@router.post("/campaigns/{campaign_id}/allocation-plan", response_model=PlanRead, responses=problem_responses(401, 403, 404, 422))
async def allocation_plan(campaign_id: IdPath, data: PlanRequest, principal: PlannerDep, session: SessionDep) -> PlanRead:
    """Recommended moves of devices and operators that make the latest projected finish earliest."""
    campaign = await campaigns.get_campaign(session, campaign_id=campaign_id)
    return await flows.plan(session, campaign=campaign, request=data)


@router.post("/campaigns/{campaign_id}/allocation-plan/apply", response_model=PlanApplied, responses=problem_responses(401, 403, 404, 409, 422))
async def apply_allocation_plan(campaign_id: IdPath, data: PlanRequest, principal: AdminDep, session: SessionDep) -> PlanApplied:
    """Create the allocations and postings of the plan for this request, in one transaction."""
    campaign = await campaigns.get_campaign(session, campaign_id=campaign_id)
    return await flows.apply_plan(session, campaign=campaign, request=data, actor=principal)
