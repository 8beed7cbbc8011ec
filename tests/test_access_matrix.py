"""The access matrix runner: every case of every `tests/<domain>/access.py`, for every caller.

For each case, its setup makes the data and says what "in scope" means (an area, a service
point); the runner then makes one account per caller (scoped in or out), sends the request as
each caller and compares the statuses. Each caller's request runs in a savepoint that is rolled
back afterwards, so that what the admin created does not turn the supervisor's request into a
conflict. A second test fails for any route of the app that has no case.
"""

import importlib
import importlib.util
import pkgutil
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

import tests
from api.area_codes import is_within, level_of, parent_of
from api.areas.models import Area
from api.auth import service as auth
from api.auth.models import User
from api.config import Settings
from api.devices.models import Operator
from api.main import API_PREFIX, create_app
from api.types import Role
from tests.access import CALLERS, Case, Request
from tests.factories import make_service_point

EXCLUDED_ROUTES = {("GET", f"{API_PREFIX}/openapi.json")}
# Areas a "supervisor_out" may be scoped to: the first that neither contains the case's area nor
# lies inside it. The last two are made on demand (the tests load only 36.74 and its ancestors).
OUTSIDE_CANDIDATES = ("36.74.07", "36.74.01", "36.71", "31")


def collect_cases() -> list[Case]:
    cases: list[Case] = []
    for module in sorted(pkgutil.iter_modules([str(Path(tests.__file__).parent)]), key=lambda m: m.name):
        name = f"tests.{module.name}.access"
        if module.ispkg and importlib.util.find_spec(name) is not None:
            cases.extend(importlib.import_module(name).CASES)
    return cases


CASES = collect_cases()


def case_id(case: Case) -> str:
    return f"{case.method} {case.path}" + (f" [{case.note}]" if case.note else "")


def outside_of(area: str) -> str:
    for candidate in OUTSIDE_CANDIDATES:
        if not is_within(candidate, area) and not is_within(area, candidate):
            return candidate
    raise AssertionError(f"no area outside {area} to scope supervisor_out to")


async def ensure_area_exists(session: AsyncSession, code: str) -> None:
    if await session.get(Area, code) is None:
        level = level_of(code)
        assert level is not None
        session.add(Area(code=code, name=f"Outside {code}", level=level.value, parent_code=parent_of(code)))
        await session.flush()


async def caller_headers(session: AsyncSession, request: Request) -> dict[str, dict[str, str]]:
    """One account and bearer token per caller, scoped for this request.

    Accounts are inserted directly with an unusable password hash: argon2 per caller per case
    would make the matrix slow, and sign-in itself has its own tests.
    """
    outside = outside_of(request.area)
    await ensure_area_exists(session, outside)
    point_in = request.service_point_id or (await make_service_point(session, area=request.area)).id
    point_out = (await make_service_point(session, area=outside)).id
    scopes: dict[str, tuple[Role, str | None, int | None]] = {
        "admin": (Role.admin, None, None),
        "viewer": (Role.viewer, None, None),
        "handler": (Role.handler, None, None),
        "supervisor_in": (Role.supervisor, request.area, None),
        "supervisor_out": (Role.supervisor, outside, None),
        "operator_in": (Role.operator, None, point_in),
        "operator_out": (Role.operator, None, point_out),
    }
    users = {
        caller: User(
            username=f"matrix.{caller}",
            display_name=f"Matrix {caller}",
            password_hash="!",
            role=role.value,
            scope_area_code=area,
            scope_service_point_id=point,
            active=True,
        )
        for caller, (role, area, point) in scopes.items()
    }
    if request.operator_id is not None:
        stranger = Operator(name="Matrix other petugas", staff_number="MATRIX-OUT", status="active")
        session.add(stranger)
        await session.flush()
        users["operator_in"].operator_id, users["operator_out"].operator_id = request.operator_id, stranger.id
    session.add_all(users.values())
    await session.flush()
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for caller, user in users.items():
        token, _ = await auth.issue_token(session, user=user)
        headers[caller] = {"Authorization": f"Bearer {token}"}
    return headers


async def send(client: httpx.AsyncClient, case: Case, request: Request, headers: dict[str, str]) -> httpx.Response:
    return await client.request(
        case.method,
        case.path.format(**request.path_params),
        json=request.json,
        content=request.content,
        params=request.params,
        headers={**request.headers, **headers},
    )


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
async def test_access(case: Case, client: httpx.AsyncClient, session: AsyncSession) -> None:
    request = await case.setup(session)
    headers = await caller_headers(session, request)
    # Anchor the setup in the outer transaction: a failed request rolls back only its own work.
    await session.commit()
    connection = session.bind
    failures = []
    for caller in CALLERS:
        savepoint = await connection.begin_nested()
        try:
            response = await send(client, case, request, headers[caller])
        finally:
            if session.in_transaction():
                await session.rollback()
            await savepoint.rollback()
            # What this request loaded or changed must not be seen by the next one.
            session.expunge_all()
        expected = case.status_for(caller)
        if response.status_code != expected:
            failures.append(f"  {caller}: expected {expected}, got {response.status_code}: {response.text[:300]}")
        elif response.status_code >= 400 and not response.headers.get("content-type", "").startswith("application/problem+json"):
            failures.append(f"  {caller}: {response.status_code} is not problem+json")
    assert not failures, f"{case_id(case)}\n" + "\n".join(failures)


def app_routes() -> set[tuple[str, str]]:
    """(method, path template) of every endpoint under /api/v1.

    Read from the OpenAPI document, because FastAPI keeps included routers as nested objects
    rather than flat routes; routes hidden from the schema are listed by `include_in_schema=False`
    routes of the app itself as well.
    """
    app = create_app(Settings(serve_frontend=False))
    methods = {"get", "put", "post", "delete", "patch", "options", "trace"}
    routes = {(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item if method in methods}
    routes |= {
        (method, route.path)
        for route in app.routes
        if getattr(route, "path", "").startswith(API_PREFIX)
        for method in (getattr(route, "methods", None) or ())
        if method != "HEAD"
    }
    return {route for route in routes if route[1].startswith(API_PREFIX)} - EXCLUDED_ROUTES


def test_every_route_has_a_case() -> None:
    routes = app_routes()
    covered = {(case.method.upper(), case.path) for case in CASES}
    missing = sorted(routes - covered)
    assert not missing, "routes without an access case (add them to tests/<domain>/access.py):\n" + "\n".join(f"  {m} {p}" for m, p in missing)
    stale = sorted(covered - routes)
    assert not stale, "access cases for routes that do not exist:\n" + "\n".join(f"  {m} {p}" for m, p in stale)


def test_cases_name_only_known_callers() -> None:
    unknown = [(case_id(case), caller) for case in CASES for caller in case.expect if caller not in CALLERS]
    assert not unknown, unknown
    assert len(CASES) >= 27  # the foundation's endpoints alone; a broken collector finds none
