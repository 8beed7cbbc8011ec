from typing import Annotated

from fastapi import APIRouter, Path, Query

from api import flows
from api.area_codes import AREA_CODE_PATTERN
from api.areas import service
from api.areas.schemas import AreaCreate, AreaDetail, AreaRead, AreaUpdate
from api.auth.dependencies import WriterDep
from api.db import SessionDep
from api.errors import problem_responses
from api.idempotency import CreatingRoute
from api.pagination import Page, PageDep
from api.types import AreaLevel

router = APIRouter(prefix="/areas", tags=["areas"], route_class=CreatingRoute)

CodePath = Annotated[str, Path(pattern=AREA_CODE_PATTERN, max_length=40, description="An area code.")]


@router.get("", response_model=Page[AreaRead], responses=problem_responses(404, 422))
async def list_areas(
    session: SessionDep,
    page: PageDep,
    parent: Annotated[str | None, Query(pattern=AREA_CODE_PATTERN, max_length=40, description="Only the direct children of this code.")] = None,
    level: Annotated[AreaLevel | None, Query()] = None,
    area: Annotated[str | None, Query(pattern=AREA_CODE_PATTERN, max_length=40, description="Only this code and its subtree.")] = None,
    q: Annotated[str | None, Query(max_length=100, description="Part of the name, any case.")] = None,
) -> Page[AreaRead]:
    """Areas by parent, level, subtree or name."""
    items, next_cursor = await service.list_areas(session, page=page, parent=parent, level=level, within=area, q=q)
    return Page(items=[AreaRead.model_validate(a) for a in items], next_cursor=next_cursor)


@router.post("", response_model=AreaRead, status_code=201, responses=problem_responses(401, 403, 404, 409, 422))
async def create_area(data: AreaCreate, principal: WriterDep, session: SessionDep) -> AreaRead:
    """Add an RW below a kelurahan or an RT below an RW."""
    return AreaRead.model_validate(await flows.add_area_unit(session, data=data, actor=principal))


@router.get("/{code}", response_model=AreaDetail, responses=problem_responses(404, 422))
async def get_area(code: CodePath, session: SessionDep) -> AreaDetail:
    """One area with its ancestors."""
    area, ancestors = await service.get_with_ancestors(session, code=code)
    return AreaDetail(**AreaRead.model_validate(area).model_dump(), ancestors=[AreaRead.model_validate(a) for a in ancestors])


@router.patch("/{code}", response_model=AreaRead, responses=problem_responses(401, 403, 404, 422))
async def update_area(code: CodePath, data: AreaUpdate, principal: WriterDep, session: SessionDep) -> AreaRead:
    """Rename an area or set its population."""
    return AreaRead.model_validate(await flows.update_area_unit(session, code=code, data=data, actor=principal))


@router.get("/{code}/children", response_model=Page[AreaRead], responses=problem_responses(404, 422))
async def list_children(code: CodePath, session: SessionDep, page: PageDep) -> Page[AreaRead]:
    """The areas directly below one area."""
    items, next_cursor = await service.children(session, code=code, page=page)
    return Page(items=[AreaRead.model_validate(a) for a in items], next_cursor=next_cursor)
