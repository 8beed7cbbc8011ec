"""The FastAPI side of the policy: who the caller is, and which roles an endpoint admits.

- `get_principal` reads `Authorization: Bearer` or `X-API-Key` (anonymous without either) and
  keeps the caller on `request.state.principal` for logging.
- Each endpoint declares the roles it admits with a dependency (`require(...)`, or the shorthands
  `AdminDep`, `WriterDep`, `StaffDep`): anonymous callers get 401, other roles 403. Checks that
  depend on the data are the `ensure_*` functions of `api.principal`, called by services.
- Public writes (`PublicWriteLimit`) are limited per client address (REKAM_PUBLIC_WRITE_LIMIT);
  signed-in staff and API keys are not (a kiosk issues tickets for a whole office).
"""

from typing import Annotated

from fastapi import Depends, Request

from api import ratelimit
from api.auth import service
from api.auth.models import Role
from api.config import get_settings
from api.db import SessionDep
from api.errors import Forbidden, Unauthorized
from api.middleware import client_var
from api.principal import ANONYMOUS, Principal


async def get_principal(request: Request, session: SessionDep) -> Principal:
    """The caller from `Authorization: Bearer` or `X-API-Key`; anonymous without credentials."""
    authorization = request.headers.get("authorization")
    api_key = request.headers.get("x-api-key")
    principal = ANONYMOUS
    if api_key:
        principal = await service.principal_from_api_key(session, key=api_key)
    elif authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Use 'Authorization: Bearer <token>'.")
        principal = await service.principal_from_token(session, token=token.strip())
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(*roles: Role):
    """A dependency admitting signed-in callers with one of `roles` (401 anonymous, 403 others)."""
    allowed = frozenset(roles)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.is_staff:
            raise Unauthorized()
        if principal.role not in allowed:
            raise Forbidden(f"The {principal.role} role may not do this.")
        return principal

    dependency.__name__ = "require_" + "_or_".join(sorted(allowed))
    return dependency


AdminDep = Annotated[Principal, Depends(require(Role.admin))]
# Staff who write campaign figures (tallies, snapshots, schedules) inside their scope.
WriterDep = Annotated[Principal, Depends(require(Role.admin, Role.supervisor))]
StaffDep = Annotated[Principal, Depends(require(Role.admin, Role.supervisor, Role.viewer, Role.operator, Role.handler))]


PUBLIC_WRITE_BUCKET = "public-write"


async def limit_public_writes(principal: CurrentPrincipal, session: SessionDep) -> Principal:
    """The caller of a public write endpoint; 429 past the public write limit, staff exempt."""
    if not principal.is_staff:
        await ratelimit.hit(session, bucket=PUBLIC_WRITE_BUCKET, key=client_var.get() or "unknown", limit=get_settings().public_write_rate)
    return principal


# Add to public POST endpoints (home visits, complaints, walk-in tickets, tracking messages) and
# declare 429 in their `responses=`; the endpoint gets the caller (anonymous or staff).
PublicWriteLimit = Annotated[Principal, Depends(limit_public_writes)]


__all__ = [
    "AdminDep",
    "CurrentPrincipal",
    "PUBLIC_WRITE_BUCKET",
    "PublicWriteLimit",
    "StaffDep",
    "WriterDep",
    "get_principal",
    "limit_public_writes",
    "require",
]
