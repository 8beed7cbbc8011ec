from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from api.auth import service
from api.auth.dependencies import AdminDep, CurrentPrincipal, StaffDep
from api.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead, Me, TokenRead, UserCreate, UserRead, UserUpdate
from api.db import IdPath, SessionDep
from api.errors import problem_responses
from api.idempotency import CreatingRoute
from api.pagination import Page, PageDep

router = APIRouter(tags=["auth"], route_class=CreatingRoute)


@router.post("/auth/token", response_model=TokenRead, responses=problem_responses(401, 422, 429))
async def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep) -> TokenRead:
    """Sign in with username and password (OAuth2 password flow) and get a bearer token."""
    access_token, expires_in = await service.sign_in(session, username=form.username, password=form.password)
    return TokenRead(access_token=access_token, expires_in=expires_in)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(401, 422))
async def logout(principal: StaffDep, session: SessionDep) -> Response:
    """Revoke the bearer token this request was made with."""
    await service.sign_out(session, principal=principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/auth/me", response_model=Me, responses=problem_responses(401))
async def me(principal: CurrentPrincipal, session: SessionDep) -> Me:
    """The caller as the server sees it (anonymous without credentials), with a signed-in
    account's recent failed sign-ins and the expiry of the API keys it is answerable for."""
    signed_in = principal.kind == "user" and principal.id is not None
    failures = await service.recent_failed_sign_ins(session, user_id=principal.id) if signed_in and principal.id else []
    keys = await service.own_api_keys(session, user_id=principal.id) if signed_in and principal.id else []
    return Me(
        recent_failed_sign_ins=failures,
        api_keys=[ApiKeyRead.model_validate(k) for k in keys],
        kind=principal.kind,
        id=principal.id,
        name=principal.name,
        role=principal.role,
        area=principal.area,
        service_point_id=principal.service_point_id,
        operator_id=principal.operator_id,
    )


@router.get("/users", response_model=Page[UserRead], responses=problem_responses(401, 403))
async def list_users(principal: AdminDep, session: SessionDep, page: PageDep) -> Page[UserRead]:
    """Staff accounts."""
    items, next_cursor = await service.list_users(session, page=page)
    return Page(items=[UserRead.model_validate(u) for u in items], next_cursor=next_cursor)


@router.post("/users", response_model=UserRead, status_code=201, responses=problem_responses(401, 403, 404, 409, 422))
async def create_user(data: UserCreate, principal: AdminDep, session: SessionDep) -> UserRead:
    """Create a staff account with a role and its scope."""
    return UserRead.model_validate(await service.create_user(session, data=data, actor=principal))


@router.get("/users/{user_id}", response_model=UserRead, responses=problem_responses(401, 403, 404))
async def get_user(user_id: IdPath, principal: AdminDep, session: SessionDep) -> UserRead:
    """One staff account."""
    return UserRead.model_validate(await service.get_user(session, user_id=user_id))


@router.patch("/users/{user_id}", response_model=UserRead, responses=problem_responses(401, 403, 404, 409, 422))
async def update_user(user_id: IdPath, data: UserUpdate, principal: AdminDep, session: SessionDep) -> UserRead:
    """Change a staff account's name, password, role or scope, or (de)activate it."""
    return UserRead.model_validate(await service.update_user(session, user_id=user_id, data=data, actor=principal))


@router.get("/api-keys", response_model=Page[ApiKeyRead], responses=problem_responses(401, 403, 422))
async def list_api_keys(
    principal: AdminDep,
    session: SessionDep,
    page: PageDep,
    expiring_within: Annotated[str | None, Query(pattern=r"^[0-9]{1,4}d?$", description="e.g. `30d`: only live keys that expire within 30 days.")] = None,
) -> Page[ApiKeyRead]:
    """API keys for integrations (the keys themselves are never shown again)."""
    items, next_cursor = await service.list_api_keys(session, page=page, expiring_within_days=service.parse_days(expiring_within))
    return Page(items=[ApiKeyRead.model_validate(k) for k in items], next_cursor=next_cursor)


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=201, responses=problem_responses(401, 403, 404, 422))
async def create_api_key(data: ApiKeyCreate, principal: AdminDep, session: SessionDep) -> ApiKeyCreated:
    """Create an API key for a script; the key is in this answer only."""
    key, secret = await service.create_api_key(session, data=data, actor=principal)
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), key=secret)


@router.delete("/api-keys/{key_id}", status_code=204, responses=problem_responses(401, 403, 404))
async def revoke_api_key(key_id: IdPath, principal: AdminDep, session: SessionDep) -> Response:
    """Revoke an API key; requests with it get 401 from now on."""
    await service.revoke_api_key(session, key_id=key_id, actor=principal)
    return Response(status_code=204)
