"""Who may do what: the one policy layer every endpoint goes through.

Each endpoint declares the roles it admits with a dependency (`require(...)`); checks that depend
on the data (is this area inside the caller's subtree? is this the operator's service point?)
are the `ensure_*` functions below, called by services with the caller's `Principal`.

- admin: everything. viewer: reads staff views. handler: fee complaints.
- supervisor: writes inside one area subtree. operator: the queue and counter of one service point;
  an operator account linked to a petugas (`operator_id`) also reads the day plan of a mobile kit
  it is scheduled on and marks its own home visits visited or unreachable (api/visits/service.py).
- anonymous (the public): progress, schedules, queue boards, submitting and tracking requests;
  public writes (`PublicWriteLimit`) are limited per client address (REKAM_PUBLIC_WRITE_LIMIT),
  signed-in staff and API keys are not (a kiosk issues tickets for a whole office).
- An action outside the caller's scope is 403; a personal record outside it is 404.
"""

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request

from api import ratelimit
from api.areas.codes import is_within
from api.auth.models import Role
from api.config import get_settings
from api.db import SessionDep
from api.errors import Forbidden, NotFound, Unauthorized
from api.middleware import client_var


@dataclass(frozen=True)
class Principal:
    kind: Literal["anonymous", "user", "api_key", "system"]
    id: int | None = None
    name: str = "anonymous"
    role: Role | None = None
    area: str | None = None
    service_point_id: int | None = None
    # The petugas (api/devices Operator) this account is, when linked.
    operator_id: int | None = None
    token_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.role is not None

    def covers_area(self, code: str) -> bool:
        """May this caller act on records of area `code`?"""
        if self.role == Role.admin:
            return True
        if self.role == Role.supervisor and self.area:
            return is_within(code, self.area)
        return False

    def sees_area(self, code: str) -> bool:
        """May this caller read staff records of area `code`?"""
        if self.role in (Role.admin, Role.viewer):
            return True
        return self.covers_area(code)


ANONYMOUS = Principal(kind="anonymous")
SYSTEM = Principal(kind="system", name="system", role=Role.admin)


async def get_principal(request: Request, session: SessionDep) -> Principal:
    """The caller from `Authorization: Bearer` or `X-API-Key`; anonymous without credentials."""
    from api.auth import service

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


def require(*roles: Role):  # noqa: ANN201 - a FastAPI dependency factory
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


def ensure_area(principal: Principal, code: str, *, field: str = "area") -> None:
    """403 unless the caller may act on area `code`."""
    if not principal.covers_area(code):
        raise Forbidden(
            f"Area {code} is outside your scope.",
            errors=[{"location": "body", "field": field, "message": "outside your scope"}],
        )


def ensure_sees_personal(principal: Principal, code: str, *, what: str = "record") -> None:
    """404, not 403, for a personal record outside the caller's scope: don't confirm it exists."""
    if not principal.sees_area(code):
        raise NotFound(f"There is no such {what}.")


def ensure_service_point(principal: Principal, *, service_point_id: int, area_code: str) -> None:
    """Operators act only at their own service point; supervisors at points in their area."""
    if principal.role == Role.operator and principal.service_point_id == service_point_id:
        return
    if principal.covers_area(area_code):
        return
    raise Forbidden("This service point is outside your scope.")


__all__ = [
    "ANONYMOUS",
    "SYSTEM",
    "AdminDep",
    "CurrentPrincipal",
    "Principal",
    "PublicWriteLimit",
    "StaffDep",
    "WriterDep",
    "ensure_area",
    "ensure_sees_personal",
    "ensure_service_point",
    "get_principal",
    "require",
]
