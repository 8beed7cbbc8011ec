from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, Response

from api import calendar, idempotency
from api.auth.dependencies import AdminDep, WriterDep, require
from api.campaigns import service as campaigns
from api.config import API_PREFIX
from api.contract import CSV_FILE, schema_ref
from api.db import IdPath, SessionDep
from api.errors import PROBLEM_JSON, language_of, localize_problem, problem_responses
from api.idempotency import CreatingRoute
from api.pagination import Page, PageDep
from api.principal import Principal
from api.tallies import service
from api.tallies.schemas import (
    ImportRead,
    ImportSummary,
    PolicyRead,
    PolicyUpdate,
    ReconciliationRead,
    TalliesPost,
    TalliesRejected,
    TallyChangeRead,
    TallyMode,
    TallyRead,
)
from api.types import BoundedDate, Role

router = APIRouter(prefix="/campaigns/{campaign_id}", tags=["tallies"], route_class=CreatingRoute)

ReaderDep = Annotated[Principal, Depends(require(Role.admin, Role.supervisor, Role.viewer))]
AreaQuery = Annotated[str | None, Query(max_length=40, description="An area code: this area and its subtree.")]

TALLIES_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": schema_ref(TalliesPost)},
            "text/csv": {"schema": CSV_FILE, "example": "area,date,count\r\n36.74.01,2026-08-31,412\r\n"},
        },
    }
}


@router.post(
    "/tallies",
    response_model=ImportSummary,
    openapi_extra=TALLIES_BODY,
    responses={
        **problem_responses(401, 403, 404, 409, 413, 415),
        200: {
            "headers": {
                "Location": {"description": "The import (`GET .../imports/{import_id}`), when one was written.", "schema": {"type": "string"}},
                "Idempotent-Replayed": {
                    "description": "`true` when this is the stored answer to an earlier request with the same Idempotency-Key (kept 24 h).",
                    "schema": {"type": "string"},
                },
            }
        },
        422: {"description": "Rows rejected (atomic=true) or the request is invalid", "content": {PROBLEM_JSON: {"schema": schema_ref(TalliesRejected)}}},
    },
)
async def post_tallies(
    campaign_id: IdPath,
    request: Request,
    principal: WriterDep,
    session: SessionDep,
    dry_run: Annotated[bool, Query(description="Validate and report; write nothing.")] = False,
    mode: Annotated[
        TallyMode, Query(description="replace: delete this source's tallies of the posted areas and dates that are not in the request.")
    ] = TallyMode.upsert,
    atomic: Annotated[bool, Query(description="true: any rejected row rejects the whole request.")] = True,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> JSONResponse:
    """Post daily tallies as JSON or CSV; answers with the import summary."""
    campaign = await campaigns.get_campaign(session, campaign_id=campaign_id)
    target = request.url.path + ("?" + request.url.query if request.url.query else "")
    status, payload = await service.post_tallies(
        session,
        campaign=campaign,
        actor=principal,
        content_type=request.headers.get("content-type", ""),
        body=request.stream(),
        dry_run=dry_run,
        mode=mode,
        atomic=atomic,
        idempotency_key=idempotency_key,
        target=target,
    )
    headers = {"Location": f"{API_PREFIX}/campaigns/{campaign_id}/imports/{payload['import_id']}"} if status < 400 and payload.get("import_id") else {}
    if idempotency.replayed_var.get():
        headers["Idempotent-Replayed"] = "true"
    if status >= 400:
        payload = localize_problem(payload, language_of(request.headers))
        headers["Vary"] = "Accept-Language"
    return JSONResponse(payload, status_code=status, media_type=PROBLEM_JSON if status >= 400 else None, headers=headers)


@router.get("/tallies", response_model=Page[TallyRead], responses=problem_responses(401, 403, 404, 422))
async def list_tallies(
    campaign_id: IdPath,
    principal: ReaderDep,
    session: SessionDep,
    page: PageDep,
    area: AreaQuery = None,
    from_: Annotated[BoundedDate | None, Query(alias="from")] = None,
    to: BoundedDate | None = None,
) -> Page[TallyRead]:
    """Posted tallies, by area and date."""
    campaign = await campaigns.get_campaign(session, campaign_id=campaign_id)
    items, next_cursor = await service.list_tallies(session, campaign=campaign, actor=principal, page=page, area=area, since=from_, until=to)
    return Page(items=[TallyRead.model_validate(t) for t in items], next_cursor=next_cursor)


@router.get("/tallies/history", response_model=Page[TallyChangeRead], responses=problem_responses(401, 403, 404, 422))
async def tally_history(
    campaign_id: IdPath,
    principal: ReaderDep,
    session: SessionDep,
    page: PageDep,
    area: AreaQuery = None,
    date_: Annotated[BoundedDate | None, Query(alias="date")] = None,
) -> Page[TallyChangeRead]:
    """Every change of the tallies: old value, new value, who, when, which import."""
    campaign = await campaigns.get_campaign(session, campaign_id=campaign_id)
    items, next_cursor = await service.list_history(session, campaign=campaign, actor=principal, page=page, area=area, day=date_)
    return Page(items=[TallyChangeRead.model_validate(c) for c in items], next_cursor=next_cursor)


@router.get("/tallies/template.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}, **problem_responses(401, 403, 404)})
async def tally_template(campaign_id: IdPath, principal: ReaderDep, session: SessionDep) -> Response:
    """A CSV to fill in: header and one row per kecamatan for today."""
    campaign = await campaigns.get_campaign(session, campaign_id=campaign_id)
    body = await service.template_csv(session, campaign=campaign)
    return Response(body, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="tallies-{campaign_id}.csv"'})


@router.get("/imports", response_model=Page[ImportRead], responses=problem_responses(401, 403, 404, 422))
async def list_imports(campaign_id: IdPath, principal: ReaderDep, session: SessionDep, page: PageDep) -> Page[ImportRead]:
    """Each import of tallies, newest first: who, when, and its summary."""
    campaign = await campaigns.get_campaign(session, campaign_id=campaign_id)
    items, next_cursor = await service.list_imports(session, campaign=campaign, actor=principal, page=page)
    return Page(items=[ImportRead.model_validate(i) for i in items], next_cursor=next_cursor)


@router.get("/imports/{import_id}", response_model=ImportRead, responses=problem_responses(401, 403, 404, 422))
async def get_import(campaign_id: IdPath, import_id: IdPath, principal: ReaderDep, session: SessionDep) -> ImportRead:
    """One import of tallies: who, when, and its summary (the `Location` of a post of tallies)."""
    campaign = await campaigns.get_campaign(session, campaign_id=campaign_id)
    return ImportRead.model_validate(await service.get_import(session, campaign=campaign, actor=principal, import_id=import_id))


@router.get("/reconciliation", response_model=ReconciliationRead, responses=problem_responses(401, 403, 404, 422))
async def get_reconciliation(
    campaign_id: IdPath,
    principal: ReaderDep,
    session: SessionDep,
    area: AreaQuery = None,
    from_: Annotated[BoundedDate | None, Query(alias="from")] = None,
    to: BoundedDate | None = None,
) -> ReconciliationRead:
    """Per area and day: the official figure next to what the queues and home visits counted, largest differences first."""
    campaign = await campaigns.get_campaign(session, campaign_id=campaign_id)
    found = await service.reconciliation(session, campaign=campaign, actor=principal, area=area, since=from_, until=to, today=calendar.today(campaign.timezone))
    return ReconciliationRead.model_validate(found)


@router.get("/tallies/policy", response_model=PolicyRead, responses=problem_responses(401, 403, 404))
async def get_policy(campaign_id: IdPath, principal: ReaderDep, session: SessionDep) -> PolicyRead:
    """Whether the campaign counts queue and home-visit recordings as official."""
    campaign = await campaigns.get_campaign(session, campaign_id=campaign_id)
    return PolicyRead(operational_counts_official=await service.operational_official(session, campaign_id=campaign.id))


@router.put("/tallies/policy", response_model=PolicyRead, responses=problem_responses(401, 403, 404, 422))
async def put_policy(campaign_id: IdPath, data: PolicyUpdate, principal: AdminDep, session: SessionDep) -> PolicyRead:
    """Set whether queue and home-visit recordings are official (a city without a recording-system export); figures are recomputed."""
    campaign = await campaigns.get_campaign(session, campaign_id=campaign_id)
    await service.set_policy(session, campaign_id=campaign.id, root=campaign.root_area_code, operational_official=data.operational_counts_official)
    return PolicyRead(operational_counts_official=data.operational_counts_official)
