from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query

from api import flows
from api.area_codes import AreaQuery
from api.auth.dependencies import PublicWriteLimit, WriterDep, require
from api.db import WRITES, SessionDep
from api.errors import problem_responses
from api.idempotency import CreatingRoute
from api.pagination import Page, PageDep, page_of
from api.principal import Principal
from api.types import BoundedDate, Role
from api.visits import service
from api.visits.models import HomeVisit, HomeVisitMerge, VisitPriority, VisitReason, VisitStatus
from api.visits.schemas import (
    CrewKit,
    DayPlan,
    HomeVisitCreate,
    HomeVisitRead,
    HomeVisitReceipt,
    HomeVisitStats,
    HomeVisitSummary,
    HomeVisitTrack,
    ScheduleRequest,
    StatusChange,
)

router = APIRouter(tags=["home visits"], route_class=CreatingRoute)

# Masked boards and figures: viewers too. Personal records and changes: admins and supervisors.
BoardReader = Annotated[Principal, Depends(require(Role.admin, Role.supervisor, Role.viewer))]
# A kit's crew too, on what it is scheduled on (the service decides: its own stops and visits).
CrewDep = Annotated[Principal, Depends(require(Role.admin, Role.supervisor, Role.operator))]
VisitId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _receipt(request: HomeVisit | HomeVisitMerge) -> HomeVisitReceipt:
    # A new request and a merge into an open one are answered alike (issue #17, item 11).
    return HomeVisitReceipt(tracking_code=request.tracking_code, status=VisitStatus.submitted)


def _track(visit: HomeVisit) -> HomeVisitTrack:
    return HomeVisitTrack(
        tracking_code=visit.tracking_code,
        status=visit.status,
        requested_on=visit.requested_on,
        visit_date=visit.visit_date,
        window_start=visit.window_start,
        window_end=visit.window_end,
        updated_at=visit.updated_at,
    )


@router.post("/home-visits", response_model=HomeVisitReceipt, status_code=201, responses=problem_responses(422, 429))
async def submit_home_visit(
    data: HomeVisitCreate,
    principal: PublicWriteLimit,
    session: SessionDep,
) -> HomeVisitReceipt:
    """Ask for a mobile kit to come to a resident who cannot come; returns the tracking code."""
    return _receipt(await flows.submit_visit(session, data=data, actor=principal))


@router.get("/home-visits", response_model=Page[HomeVisitSummary], responses=problem_responses(401, 403, 422))
async def list_home_visits(
    principal: BoardReader,
    session: SessionDep,
    page: PageDep,
    area: AreaQuery = None,
    status: VisitStatus | None = None,
    reason: VisitReason | None = None,
    priority: VisitPriority | None = None,
    overdue: bool | None = None,
) -> Page[HomeVisitSummary]:
    """The dispatcher's board: requests with NIK and phone masked, filterable."""
    items, next_cursor = await service.list_visits(
        session, principal=principal, page=page, area=area, status=status, reason=reason, priority=priority, overdue=overdue
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/home-visits/stats", response_model=HomeVisitStats, responses=problem_responses(401, 403, 422))
async def home_visit_stats(principal: BoardReader, session: SessionDep, area: AreaQuery = None) -> HomeVisitStats:
    """Counts by status, days from request to visit (median, 90th percentile) and the overdue list."""
    return await service.stats(session, principal=principal, area=area)


@router.get("/home-visits/track/{code}", response_model=HomeVisitTrack, responses=problem_responses(404, 422, 429), dependencies=[WRITES])
async def track_home_visit(code: Annotated[str, Path(max_length=32)], session: SessionDep) -> HomeVisitTrack:
    """Status, date and time window of a request, by its tracking code; nothing personal."""
    return await service.track(session, code=code)


@router.get("/home-visits/{visit_id}", response_model=HomeVisitRead, responses=problem_responses(401, 403, 404, 422), dependencies=[WRITES])
async def read_home_visit(visit_id: VisitId, principal: WriterDep, session: SessionDep) -> HomeVisitRead:
    """The full record with personal fields and history; every read is audited."""
    return await service.get_personal(session, visit_id=visit_id, actor=principal)


@router.post("/home-visits/{visit_id}/schedule", response_model=HomeVisitTrack, responses=problem_responses(401, 403, 404, 409, 422))
async def schedule_home_visit(visit_id: VisitId, data: ScheduleRequest, principal: WriterDep, session: SessionDep) -> HomeVisitTrack:
    """Put a triaged request on a mobile kit's day (or move a scheduled one)."""
    return _track(await flows.schedule_visit(session, visit_id=visit_id, data=data, actor=principal))


@router.post("/home-visits/{visit_id}/status", response_model=HomeVisitTrack, responses=problem_responses(401, 403, 404, 409, 422))
async def change_home_visit_status(
    visit_id: VisitId,
    data: StatusChange,
    principal: CrewDep,
    session: SessionDep,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", max_length=200, description="Makes a retry safe: the same key and move give the first answer again.")
    ] = None,
) -> HomeVisitTrack:
    """Triage, mark visited or unreachable, or cancel, with an optional note (the kit's operator: visited or unreachable)."""
    answer = await flows.change_visit_status_once(
        session,
        visit_id=visit_id,
        data=data,
        actor=principal,
        idempotency_key=idempotency_key,
        target=f"/home-visits/{visit_id}/status",
        answer=lambda visit: _track(visit).model_dump(mode="json"),
    )
    return HomeVisitTrack.model_validate(answer)


@router.get("/mobile-kits/mine", response_model=Page[CrewKit], responses=problem_responses(401, 403, 422))
async def my_mobile_kits(
    principal: Annotated[Principal, Depends(require(Role.operator))],
    session: SessionDep,
    page: PageDep,
    day: Annotated[BoundedDate | None, Query(alias="date", description="The day (default: today, Asia/Jakarta).")] = None,
) -> Page[CrewKit]:
    """The kits the signed-in operator (a petugas) is scheduled on that day, to open their day plans."""
    return page_of(await service.crew_kits(session, day=day, actor=principal), page)


@router.get("/mobile-kits/{device_id}/day-plan", response_model=DayPlan, responses=problem_responses(401, 403, 404, 422), dependencies=[WRITES])
async def mobile_kit_day_plan(
    device_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    principal: CrewDep,
    session: SessionDep,
    day: Annotated[BoundedDate | None, Query(alias="date", description="The day (default: today, Asia/Jakarta).")] = None,
) -> DayPlan:
    """A mobile kit's visits of one day in route order, with what the operator needs at the door."""
    return await service.day_plan(session, device_id=device_id, day=day, actor=principal)
