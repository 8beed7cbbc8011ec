from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from api.area_codes import AreaQuery
from api.auth.dependencies import AdminDep, StaffDep, WriterDep
from api.caching import NOT_MODIFIED, BodyCache, ReadCacheDep, versioned
from api.campaigns import service
from api.campaigns.schemas import (
    ApportionRequest,
    CampaignCreate,
    CampaignRead,
    CampaignUpdate,
    SnapshotCreate,
    SnapshotRead,
    TargetRead,
    TargetsPut,
    TargetsRead,
)
from api.contract import CSV_FILE, schema_ref
from api.db import IdPath, SessionDep
from api.errors import PayloadTooLarge, RuleViolation, UnsupportedMediaType, problem_responses
from api.idempotency import CreatingRoute
from api.pagination import Page, PageDep, page_of
from api.progress import service as progress
from api.progress.schemas import DailySeries, Discrepancy, ProgressNode
from api.types import BoundedDate

router = APIRouter(prefix="/campaigns", tags=["campaigns"], route_class=CreatingRoute)

MAX_TARGETS_BODY = 8 * 1024 * 1024

TARGETS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": schema_ref(TargetsPut)},
            "text/csv": {"schema": CSV_FILE, "example": "area,target\n36.74.01,80828\n"},
        },
    }
}


@router.post("", response_model=CampaignRead, status_code=201, responses=problem_responses(401, 403, 404, 422))
async def create_campaign(data: CampaignCreate, principal: AdminDep, session: SessionDep) -> CampaignRead:
    """Start a campaign: root area, dates and the number of residents to record."""
    return CampaignRead.model_validate(await service.create_campaign(session, data=data, actor=principal))


@router.get("", response_model=Page[CampaignRead], responses=problem_responses(422))
async def list_campaigns(session: SessionDep, page: PageDep) -> Page[CampaignRead]:
    """All campaigns."""
    items, next_cursor = await service.list_campaigns(session, page=page)
    return Page(items=[CampaignRead.model_validate(c) for c in items], next_cursor=next_cursor)


@router.get("/{campaign_id}", response_model=CampaignRead, responses=problem_responses(404, 422))
async def get_campaign(campaign_id: IdPath, session: SessionDep) -> CampaignRead:
    """One campaign."""
    return CampaignRead.model_validate(await service.get_campaign(session, campaign_id=campaign_id))


@router.patch("/{campaign_id}", response_model=CampaignRead, responses=problem_responses(401, 403, 404, 422))
async def update_campaign(campaign_id: IdPath, data: CampaignUpdate, principal: WriterDep, session: SessionDep) -> CampaignRead:
    """Change what residents are told to bring and the caps on remote numbers and bookings (audited)."""
    return CampaignRead.model_validate(await service.update_campaign(session, campaign_id=campaign_id, data=data, actor=principal))


@router.put("/{campaign_id}/targets", response_model=TargetsRead, openapi_extra=TARGETS_BODY, responses=problem_responses(401, 403, 404, 413, 415, 422))
async def put_targets(campaign_id: IdPath, request: Request, principal: WriterDep, session: SessionDep) -> TargetsRead:
    """Enter official targets per area, as JSON `{"targets": [...]}` or CSV `area,target`."""
    items = await _read_targets(request)
    campaign = await service.get_campaign(session, campaign_id=campaign_id)
    await service.put_targets(session, campaign=campaign, items=items, actor=principal)
    targets, inconsistencies = await service.get_targets(session, campaign=campaign)
    return TargetsRead(items=[TargetRead.model_validate(t) for t in targets], inconsistencies=inconsistencies)


async def _read_targets(request: Request):
    body = await request.body()
    if len(body) > MAX_TARGETS_BODY:
        raise PayloadTooLarge(code="body.too_large", params={"limit": MAX_TARGETS_BODY})
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if content_type in ("text/csv", "application/csv"):
        try:
            return service.parse_targets_csv(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise RuleViolation(code="csv.not_utf8") from None
    if content_type != "application/json":
        raise UnsupportedMediaType(code="body.json_or_csv")
    try:
        return TargetsPut.model_validate_json(body).targets
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_input=False, include_url=False)]) from None


@router.get("/{campaign_id}/targets", response_model=TargetsRead, responses=problem_responses(404, 422))
async def get_targets(campaign_id: IdPath, session: SessionDep, area: AreaQuery = None) -> TargetsRead:
    """Targets per area, and every parent whose target differs from its children's sum."""
    campaign = await service.get_campaign(session, campaign_id=campaign_id)
    targets, inconsistencies = await service.get_targets(session, campaign=campaign, area=area)
    return TargetsRead(items=[TargetRead.model_validate(t) for t in targets], inconsistencies=inconsistencies)


@router.post("/{campaign_id}/targets/apportion", response_model=list[TargetRead], responses=problem_responses(401, 403, 404, 422))
async def apportion_targets(campaign_id: IdPath, data: ApportionRequest, principal: WriterDep, session: SessionDep) -> list[TargetRead]:
    """Share a parent's target among the areas of one level below it (largest remainder)."""
    campaign = await service.get_campaign(session, campaign_id=campaign_id)
    return [TargetRead.model_validate(t) for t in await service.apportion(session, campaign=campaign, request=data, actor=principal)]


@router.post("/{campaign_id}/snapshots", response_model=SnapshotRead, status_code=201, responses=problem_responses(401, 403, 404, 422))
async def record_snapshot(campaign_id: IdPath, data: SnapshotCreate, principal: WriterDep, session: SessionDep, response: Response) -> SnapshotRead:
    """Record a cumulative figure as of a date (the same area and date again replaces it: 200)."""
    campaign = await service.get_campaign(session, campaign_id=campaign_id)
    snapshot, created = await service.record_snapshot(session, campaign=campaign, data=data, actor=principal)
    if not created:
        response.status_code = 200
    return SnapshotRead.model_validate(snapshot)


@router.get("/{campaign_id}/snapshots", response_model=Page[SnapshotRead], responses=problem_responses(404, 422))
async def list_snapshots(campaign_id: IdPath, session: SessionDep, page: PageDep, area: AreaQuery = None) -> Page[SnapshotRead]:
    """Reported cumulative figures."""
    campaign = await service.get_campaign(session, campaign_id=campaign_id)
    items, next_cursor = await service.list_snapshots(session, campaign=campaign, page=page, area=area)
    return Page(items=[SnapshotRead.model_validate(s) for s in items], next_cursor=next_cursor)


# Progress answers are public and read by every dashboard: each carries an ETag derived from the
# campaign's data version, the query and the campaign's date (api/campaigns/versions.py), a matching
# If-None-Match gets 304 after reading only the campaign row, and bodies are kept per key
# (api/caching.py) so that a version is computed once per process.


@router.get("/{campaign_id}/progress", response_model=ProgressNode, responses={**NOT_MODIFIED, **problem_responses(404, 422)})
async def get_progress(
    campaign_id: IdPath,
    request: Request,
    session: SessionDep,
    area: AreaQuery = None,
    depth: Annotated[int, Query(ge=0, le=3, description="Levels of children to include.")] = 1,
    cache: BodyCache = ReadCacheDep,
) -> Response:
    """Recorded against target for an area and its children."""
    campaign = await service.get_campaign(session, campaign_id=campaign_id)
    return await versioned(
        request,
        cache,
        key=progress.read_key(campaign, "progress", area=area or campaign.root_area_code, depth=depth),
        build=lambda: progress.progress_json(session, campaign=campaign, area=area, depth=depth, cache=cache),
        media_type="application/json",
    )


@router.get("/{campaign_id}/progress/daily", response_model=DailySeries, responses={**NOT_MODIFIED, **problem_responses(404, 422)})
async def get_daily_progress(
    campaign_id: IdPath,
    request: Request,
    session: SessionDep,
    area: AreaQuery = None,
    from_: Annotated[BoundedDate | None, Query(alias="from", description="First day (default: the campaign's start).")] = None,
    to: Annotated[BoundedDate | None, Query(description="Last day (default: today).")] = None,
    cache: BodyCache = ReadCacheDep,
) -> Response:
    """Recordings per day and the cumulative figure, for an area."""
    campaign = await service.get_campaign(session, campaign_id=campaign_id)

    async def build() -> bytes:
        return (await progress.daily(session, campaign=campaign, area=area, since=from_, until=to, cache=cache)).model_dump_json().encode()

    key = progress.read_key(campaign, "daily", area=area or campaign.root_area_code, since=from_, until=to)
    return await versioned(request, cache, key=key, build=build, media_type="application/json")


@router.get(
    "/{campaign_id}/progress.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}, **NOT_MODIFIED, **problem_responses(404, 422)}
)
async def get_progress_csv(
    campaign_id: IdPath,
    request: Request,
    session: SessionDep,
    area: AreaQuery = None,
    depth: Annotated[int, Query(ge=0, le=3, description="Levels of children to include.")] = 1,
    cache: BodyCache = ReadCacheDep,
) -> Response:
    """The progress table with forecasts, as CSV for spreadsheets."""
    campaign = await service.get_campaign(session, campaign_id=campaign_id)

    async def build() -> bytes:
        return (await progress.progress_csv(session, campaign=campaign, area=area, depth=depth, cache=cache)).encode()

    return await versioned(
        request,
        cache,
        key=progress.read_key(campaign, "progress.csv", area=area or campaign.root_area_code, depth=depth),
        build=build,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="progress-{campaign_id}.csv"'},
    )


@router.get("/{campaign_id}/discrepancies", response_model=Page[Discrepancy], responses=problem_responses(404, 422))
async def get_discrepancies(campaign_id: IdPath, session: SessionDep, page: PageDep, area: AreaQuery = None) -> Page[Discrepancy]:
    """Where the campaign area's own reported total disagrees with the sum of its parts (the public note)."""
    campaign = await service.get_campaign(session, campaign_id=campaign_id)
    return page_of(await progress.discrepancies(session, campaign=campaign, area=area, public=True), page)


@router.get("/{campaign_id}/discrepancies/all", response_model=Page[Discrepancy], responses=problem_responses(401, 403, 404, 422))
async def get_all_discrepancies(campaign_id: IdPath, principal: StaffDep, session: SessionDep, page: PageDep, area: AreaQuery = None) -> Page[Discrepancy]:
    """Every reported figure (snapshot or daily tally) that disagrees with the sum of its parts: the staff's data-quality notes."""
    campaign = await service.get_campaign(session, campaign_id=campaign_id)
    return page_of(await progress.discrepancies(session, campaign=campaign, area=area), page)
