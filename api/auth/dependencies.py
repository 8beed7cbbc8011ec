"""The FastAPI side of the policy: who the caller is, and which roles an endpoint admits.

- `get_principal` reads `Authorization: Bearer` or `X-API-Key` (anonymous without either) and
  keeps the caller on `request.state.principal` for logging.
- Each endpoint declares the roles it admits with a dependency (`require(...)`, or the shorthands
  `AdminDep`, `WriterDep`, `StaffDep`): anonymous callers get 401, other roles 403. Checks that
  depend on the data are the `ensure_*` functions of `api.principal`, called by services.
- Public writes (`PublicWriteLimit`) are limited per client address (REKAM_PUBLIC_WRITE_LIMIT);
  signed-in staff and API keys are not (a kiosk issues tickets for a whole office).
- Public appointment bookings (`BookingLimit`) are also limited per client address
  (REKAM_BOOKING_LIMIT) and per service point from all addresses together
  (REKAM_POINT_BOOKING_LIMIT), so that a few addresses cannot take a day's seats in seconds
  (issue #17, item 10); staff and API keys again exempt.
"""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api import ratelimit
from api.auth import service
from api.config import get_settings
from api.db import IdPath, SessionDep
from api.errors import Forbidden, Unauthorized
from api.middleware import client_var
from api.principal import ANONYMOUS, Principal
from api.types import Role

# Declared so that the OpenAPI document has `securitySchemes` and each operation names them;
# `auto_error=False`: get_principal reads the headers itself and answers 401 on bad credentials.
bearer_scheme = HTTPBearer(auto_error=False, scheme_name="bearer", description="A token from `POST /api/v1/auth/login`, as `Authorization: Bearer <token>`.")
api_key_scheme = APIKeyHeader(
    name="X-API-Key", auto_error=False, scheme_name="apiKey", description="An API key created by an admin (`POST /api/v1/auth/api-keys`), for scripts."
)


async def get_principal(
    request: Request,
    session: SessionDep,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    _api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    """The caller from `Authorization: Bearer` or `X-API-Key`; anonymous without credentials.

    Credentials that are sent are checked on every endpoint, public ones included: an invalid,
    expired or revoked token or key is a 401, never silently anonymous."""
    authorization = request.headers.get("authorization")
    api_key = request.headers.get("x-api-key")
    principal = ANONYMOUS
    if api_key:
        principal = await service.principal_from_api_key(session, key=api_key)
    elif authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(code="auth.bearer_expected")
        principal = await service.principal_from_token(session, token=token.strip())
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(*roles: Role):
    """A dependency admitting signed-in callers with one of `roles` (401 anonymous, 403 others)."""
    allowed = frozenset(roles)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.is_staff:
            raise Unauthorized(code="auth.required")
        if principal.role not in allowed:
            raise Forbidden(code="auth.role", params={"role": str(principal.role)})
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

BOOKING_BUCKET = "booking"
POINT_BOOKING_BUCKET = "point-booking"


async def limit_bookings(point_id: IdPath, principal: PublicWriteLimit, session: SessionDep) -> Principal:
    """The caller of a public booking at `point_id`: the public write limit, then the booking
    limits per client address and per service point; 429 past any of them, staff exempt.

    A refused booking is not counted (its 429 rolls the request's counts back), so the point's
    budget is spent only by bookings that went through the address limit."""
    if not principal.is_staff:
        settings = get_settings()
        await ratelimit.hit(session, bucket=BOOKING_BUCKET, key=client_var.get() or "unknown", limit=settings.booking_rate)
        await ratelimit.hit(session, bucket=POINT_BOOKING_BUCKET, key=str(point_id), limit=settings.point_booking_rate)
    return principal


# The path parameter must be called `point_id`.
BookingLimit = Annotated[Principal, Depends(limit_bookings)]


__all__ = [
    "AdminDep",
    "BOOKING_BUCKET",
    "BookingLimit",
    "CurrentPrincipal",
    "POINT_BOOKING_BUCKET",
    "PUBLIC_WRITE_BUCKET",
    "PublicWriteLimit",
    "StaffDep",
    "WriterDep",
    "api_key_scheme",
    "bearer_scheme",
    "get_principal",
    "limit_bookings",
    "limit_public_writes",
    "require",
]
