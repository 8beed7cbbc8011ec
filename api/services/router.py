from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import TypeAdapter

from api import flows
from api.area_codes import AreaQuery
from api.auth.dependencies import WriterDep, require
from api.caching import NOT_MODIFIED, hashed
from api.db import IdPath, SessionDep
from api.deprecation import renamed
from api.errors import problem_responses
from api.idempotency import CreatingRoute
from api.pagination import Page, PageDep, page_of
from api.principal import Principal
from api.services import service
from api.services.models import ServicePointKind
from api.services.schemas import (
    AssignmentsPut,
    AssignmentsRead,
    CancelledBooking,
    ClosureCreate,
    ClosureCreated,
    ClosureRead,
    ScheduleDay,
    ServicePointCreate,
    ServicePointRead,
    ServicePointUpdate,
    ServicePointUpdated,
    UncoveredArea,
    WeekendPlan,
)
from api.tallies.schemas import PointCountPut, PointCountRead
from api.types import AreaLevel, BoundedDate, Role

router = APIRouter(tags=["service points"], route_class=CreatingRoute)

# The public reads (where and when to go) carry an ETag that is a hash of the body, and a short
# public Cache-Control. Why not a data version as for progress: these answers are small and cheap
# (a few indexed queries over a city's points), and what they show depends on points, their hours,
# closures, areas and the dates asked for, written from several places; a hash of the body can never
# miss one of them, and a 304 still saves the transfer and the client's work, while the 15 s
# public cache in browsers and nginx (deploy/nginx.conf) takes the crowd off the database.
SCHEDULE = TypeAdapter(Page[ScheduleDay])

# Staff who may read staff views: everyone signed in except fee-complaint handlers and operators.
DryRunQuery = Annotated[bool, Query(description="Do nothing: answer with the bookings the change would cancel, for staff to confirm.")]
PlannerReadDep = Annotated[Principal, Depends(require(Role.admin, Role.supervisor, Role.viewer))]
# Whoever runs a point that day enters its count: its operator, or a supervisor or admin over it.
CounterDep = Annotated[Principal, Depends(require(Role.admin, Role.supervisor, Role.operator))]


@router.get("/service-points", response_model=Page[ServicePointRead], responses={**NOT_MODIFIED, **problem_responses(422)})
async def list_service_points(
    request: Request,
    session: SessionDep,
    page: PageDep,
    area: AreaQuery = None,
    kind: Annotated[ServicePointKind | None, Query()] = None,
    on: Annotated[BoundedDate | None, Query(alias="date", description="Only points open on this date, with that day's hours.")] = None,
    open_on: Annotated[BoundedDate | None, Query(deprecated=True, description="Deprecated: `date`.")] = None,
) -> Response:
    """Where residents can be recorded: offices and weekend services, by area, kind and open date."""
    on = renamed(on, open_on, old="open_on", new="date")
    items, next_cursor = await service.list_points(session, page=page, area=area, kind=kind, open_on=on)
    body: Page[ServicePointRead] = Page(
        items=[ServicePointRead.model_validate(p).model_copy(update={"hours": hours}) for p, hours in items], next_cursor=next_cursor
    )
    return hashed(request, body.model_dump_json().encode(), media_type="application/json")


@router.post("/service-points", response_model=ServicePointRead, status_code=201, responses=problem_responses(401, 403, 404, 422))
async def create_service_point(data: ServicePointCreate, principal: WriterDep, session: SessionDep) -> ServicePointRead:
    """Open a service point: an office with weekly hours or a weekend service at an RW/RT."""
    return ServicePointRead.model_validate(await service.create_point(session, data=data, actor=principal))


@router.get("/service-points/{point_id}", response_model=ServicePointRead, responses=problem_responses(404))
async def get_service_point(point_id: IdPath, session: SessionDep) -> ServicePointRead:
    """One service point with its weekly hours."""
    return ServicePointRead.model_validate(await service.get_point(session, point_id=point_id))


@router.patch("/service-points/{point_id}", response_model=ServicePointUpdated, responses=problem_responses(401, 403, 404, 409, 422))
async def update_service_point(
    point_id: IdPath, data: ServicePointUpdate, principal: WriterDep, session: SessionDep, dry_run: DryRunQuery = False
) -> ServicePointUpdated:
    """Change a point; bookings that no longer fit its hours or counters are cancelled and listed."""
    point, cancelled = await flows.update_service_point(session, point_id=point_id, data=data, actor=principal, dry_run=dry_run)
    return ServicePointUpdated(
        **ServicePointRead.model_validate(point).model_dump(),
        cancelled_appointments=[CancelledBooking.model_validate(a) for a in cancelled],
        dry_run=dry_run,
    )


@router.get("/service-points/{point_id}/closures", response_model=Page[ClosureRead], responses=problem_responses(404, 422))
async def list_closures(
    point_id: IdPath,
    session: SessionDep,
    page: PageDep,
    start: Annotated[BoundedDate | None, Query(alias="from", description="Only closures from this date.")] = None,
    since: Annotated[BoundedDate | None, Query(deprecated=True, description="Deprecated: `from`.")] = None,
) -> Page[ClosureRead]:
    """Holidays and days of reduced hours of one point."""
    since = renamed(start, since, old="since", new="from")
    items, next_cursor = await service.list_closures(session, point_id=point_id, page=page, since=since)
    return Page(items=[ClosureRead.model_validate(c) for c in items], next_cursor=next_cursor)


@router.post(
    "/service-points/{point_id}/closures",
    response_model=ClosureCreated,
    status_code=201,
    responses={
        200: {"model": ClosureCreated, "description": "dry_run=true: nothing was created; what it would cancel."},
        **problem_responses(401, 403, 404, 409, 422),
    },
)
async def add_closure(
    point_id: IdPath, data: ClosureCreate, principal: WriterDep, session: SessionDep, response: Response, dry_run: DryRunQuery = False
) -> ClosureCreated:
    """Close a point for a day or reduce its hours; the bookings this cancels are listed."""
    closure, cancelled = await flows.add_closure(session, point_id=point_id, data=data, actor=principal, dry_run=dry_run)
    if dry_run:
        response.status_code = 200  # nothing was created
    return ClosureCreated(
        **ClosureRead.model_validate(closure).model_dump(), cancelled_appointments=[CancelledBooking.model_validate(a) for a in cancelled], dry_run=dry_run
    )


@router.delete("/service-points/{point_id}/closures/{closure_id}", status_code=204, responses=problem_responses(401, 403, 404))
async def remove_closure(point_id: IdPath, closure_id: IdPath, principal: WriterDep, session: SessionDep) -> Response:
    """Remove a closure (the point's weekly hours apply again that day)."""
    await service.remove_closure(session, point_id=point_id, closure_id=closure_id, actor=principal)
    return Response(status_code=204)


@router.get("/service-points/{point_id}/assignments", response_model=AssignmentsRead, responses=problem_responses(401, 403, 404))
async def get_assignments(point_id: IdPath, _: PlannerReadDep, session: SessionDep) -> AssignmentsRead:
    """The devices and operators assigned to a weekend service."""
    return AssignmentsRead(**await service.get_assignments(session, point_id=point_id))


@router.put("/service-points/{point_id}/assignments", response_model=AssignmentsRead, responses=problem_responses(401, 403, 404, 409, 422))
async def set_assignments(point_id: IdPath, data: AssignmentsPut, principal: WriterDep, session: SessionDep) -> AssignmentsRead:
    """Assign devices and operators to a weekend service; one place per device and operator per day."""
    return AssignmentsRead(**await flows.set_event_crew(session, point_id=point_id, data=data, actor=principal))


@router.put("/service-points/{point_id}/counts/{day}", response_model=PointCountRead, responses=problem_responses(401, 403, 404, 422))
async def put_point_count(
    point_id: IdPath, day: Annotated[BoundedDate, Path(description="The day counted.")], data: PointCountPut, principal: CounterDep, session: SessionDep
) -> PointCountRead:
    """Enter a point's count of the day (a weekend service's operator at the end of the day); the
    count replaces the point's tally of that day, so an outbox may send it again safely."""
    return await flows.put_point_count(session, point_id=point_id, day=day, data=data, actor=principal)


@router.get("/schedule", response_model=Page[ScheduleDay], responses={**NOT_MODIFIED, **problem_responses(422)})
async def get_schedule(
    request: Request,
    session: SessionDep,
    page: PageDep,
    start: Annotated[BoundedDate, Query(alias="from", description="First date (YYYY-MM-DD).")],
    end: Annotated[BoundedDate, Query(alias="to", description=f"Last date; at most {service.MAX_SCHEDULE_DAYS} days after `from`.")],
    area: AreaQuery = None,
) -> Response:
    """Where recording is open on each date, with the hours."""
    days = [ScheduleDay.model_validate(day) for day in await service.schedule(session, area=area, start=start, end=end)]
    return hashed(request, SCHEDULE.dump_json(page_of(days, page)), media_type="application/json")


@router.get("/weekend-events/uncovered", response_model=Page[UncoveredArea], responses=problem_responses(401, 403, 422))
async def uncovered_areas(
    _: PlannerReadDep,
    session: SessionDep,
    page: PageDep,
    area: AreaQuery = None,
    level: Annotated[AreaLevel, Query()] = AreaLevel.rw,
    min_population: Annotated[int, Query(ge=0, le=1_000_000, description="Dense: at least this many residents.")] = 1000,
) -> Page[UncoveredArea]:
    """Dense RW/RT that have had no weekend service yet."""
    items, next_cursor = await service.uncovered_areas(session, page=page, area=area, level=level, min_population=min_population)
    return Page(items=[UncoveredArea(code=a.code, name=a.name, level=a.level, population=a.population) for a in items], next_cursor=next_cursor)


@router.get("/weekend-events/plan", response_model=WeekendPlan, responses=problem_responses(401, 403, 422))
async def weekend_plan(
    principal: PlannerReadDep,
    session: SessionDep,
    day: Annotated[BoundedDate, Query(alias="date", description="The Saturday or Sunday to plan.")],
    area: AreaQuery = None,
    level: Annotated[AreaLevel, Query()] = AreaLevel.rw,
    limit: Annotated[int, Query(ge=1, le=200, description="How many RW/RT to rank.")] = 20,
) -> WeekendPlan:
    """Where a weekend service would record the most residents (ranked RW/RT), and the devices and operators free that day."""
    return await flows.weekend_plan(session, area=area, day=day, level=level, limit=limit, actor=principal)
