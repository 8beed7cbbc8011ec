from typing import Annotated

from fastapi import APIRouter, Query

from api.audit import service
from api.audit.schemas import AuditEntryRead
from api.auth.dependencies import AdminDep
from api.db import SessionDep
from api.errors import problem_responses
from api.idempotency import CreatingRoute
from api.pagination import Page, PageDep
from api.types import BoundedDate

router = APIRouter(prefix="/audit", tags=["audit"], route_class=CreatingRoute)


@router.get("", response_model=Page[AuditEntryRead], responses=problem_responses(401, 403, 422))
async def list_audit_entries(
    principal: AdminDep,
    session: SessionDep,
    page: PageDep,
    entity: Annotated[str | None, Query(max_length=64, description="e.g. `snapshot`, `user`.")] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=200, description="A username, or `key:<name>` for an API key.")] = None,
    action: Annotated[str | None, Query(max_length=64, description="e.g. `auth.login_failed`.")] = None,
    since: Annotated[BoundedDate | None, Query(alias="from", description="First day (YYYY-MM-DD, Asia/Jakarta), included.")] = None,
    until: Annotated[BoundedDate | None, Query(alias="to", description="Last day (YYYY-MM-DD, Asia/Jakarta), included.")] = None,
) -> Page[AuditEntryRead]:
    """Who changed what and when, newest first."""
    items, next_cursor = await service.list_entries(
        session, page=page, entity=entity, entity_id=entity_id, actor=actor, action=action, since=since, until=until
    )
    return Page(items=[AuditEntryRead.model_validate(e) for e in items], next_cursor=next_cursor)
