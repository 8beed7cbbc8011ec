"""The access matrix: for every endpoint, who gets which status.

Each domain lists its cases in `tests/<domain>/access.py` as `CASES = [Case(...), ...]`;
`tests/test_access_matrix.py` runs every case for every caller and checks that every route of the
app has at least one case, so a new endpoint cannot skip the matrix.

Callers: "anonymous", "admin", "viewer", "handler", "supervisor_in" / "supervisor_out" (scoped to
the case's area / to an area outside it), "operator_in" / "operator_out" (scoped to the case's
service point / to another one; when the case names an operator (petugas), operator_in's account
is that operator and operator_out's another one).
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

CALLERS = ("anonymous", "admin", "viewer", "handler", "supervisor_in", "supervisor_out", "operator_in", "operator_out")


@dataclass
class Request:
    """What a case's setup made: the concrete request, and the scope "in" means."""

    path_params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    area: str = "36.74.01"
    service_point_id: int | None = None
    operator_id: int | None = None  # the petugas operator_in's account is (e.g. a kit's crew)


Setup = Callable[[AsyncSession], Awaitable[Request]]


async def no_setup(_: AsyncSession) -> Request:
    return Request()


@dataclass
class Case:
    method: str
    path: str  # the route's path template, e.g. "/api/v1/campaigns/{campaign_id}/snapshots"
    expect: dict[str, int]  # caller -> status; callers not named get `default`
    default: int = 403
    setup: Setup = no_setup
    note: str = ""

    def status_for(self, caller: str) -> int:
        return self.expect.get(caller, self.default)


def public_read(method: str, path: str, setup: Setup = no_setup, status: int = 200) -> Case:
    """Anyone, signed in or not, gets `status`."""
    return Case(method, path, expect=dict.fromkeys(CALLERS, status), setup=setup)


def admin_only(method: str, path: str, status: int, setup: Setup = no_setup, note: str = "") -> Case:
    """Only an admin gets `status`; anonymous 401, other staff 403."""
    return Case(method, path, expect={"anonymous": 401, "admin": status}, setup=setup, note=note)


def area_writer(method: str, path: str, status: int, setup: Setup = no_setup, note: str = "") -> Case:
    """An admin and a supervisor of the case's area get `status`; anonymous 401, everyone else 403."""
    return Case(method, path, expect={"anonymous": 401, "admin": status, "supervisor_in": status}, setup=setup, note=note)


def any_staff(method: str, path: str, status: int, setup: Setup = no_setup, note: str = "") -> Case:
    """Every signed-in caller gets `status`; anonymous 401."""
    return Case(method, path, expect={**dict.fromkeys(CALLERS, status), "anonymous": 401}, setup=setup, note=note)
