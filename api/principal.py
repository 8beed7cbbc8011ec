"""Who may do what: the caller (`Principal`, a plain value) and the checks of its scope.

Each endpoint declares the roles it admits with a dependency (`require(...)` in
`api/auth/dependencies.py`, which also reads the caller from the request); checks that depend on
the data (is this area inside the caller's subtree? is this the operator's service point?) are
the `ensure_*` functions below, called by services with the caller's `Principal`. Nothing here
knows about requests or sessions.

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
from enum import StrEnum
from typing import Literal

from api.area_codes import is_within
from api.errors import Forbidden, NotFound, field_problem
from api.types import Role


class PrincipalKind(StrEnum):
    """Who a caller is: nobody signed in, a user, an API key, or Rekam itself."""

    anonymous = "anonymous"
    user = "user"
    api_key = "api_key"
    system = "system"


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


def ensure_area(principal: Principal, code: str, *, field: str = "area") -> None:
    """403 unless the caller may act on area `code`."""
    if not principal.covers_area(code):
        raise Forbidden(code="scope.area", params={"code": code}, errors=[field_problem(field, code="scope.area", params={"code": code})])


def ensure_resource(principal: Principal, code: str | None, *, field: str, what: str) -> None:
    """403 unless the caller may book a device or operator posted in area `code` that day.

    Resource scope, next to place scope (issue #17, item 1): a supervisor books only the kits and
    petugas posted in their own subtree (at a point there or to an area there). `code` None: posted
    nowhere that day, in the central pool, which any planner may draw on."""
    if code is None or principal.role == Role.admin or principal.covers_area(code):
        return
    params = {"what": what, "code": code}
    raise Forbidden(code="scope.resource", params=params, errors=[field_problem(field, code="scope.resource", params=params)])


def ensure_sees_personal(principal: Principal, code: str, *, what: str = "record") -> None:
    """404, not 403, for a personal record outside the caller's scope: don't confirm it exists."""
    if not principal.sees_area(code):
        raise NotFound(code="not_found.such", params={"what": what})


def ensure_service_point(principal: Principal, *, service_point_id: int, area_code: str) -> None:
    """Operators act only at their own service point; supervisors at points in their area."""
    if principal.role == Role.operator and principal.service_point_id == service_point_id:
        return
    if principal.covers_area(area_code):
        return
    raise Forbidden(code="scope.point")


__all__ = ["ANONYMOUS", "SYSTEM", "Principal", "ensure_area", "ensure_resource", "ensure_sees_personal", "ensure_service_point"]
