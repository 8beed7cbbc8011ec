"""Idempotency-Key on every POST that creates something (#24): a retry creates nothing new.

For every POST route of the app that answers 201, the access matrix's case (tests/<domain>/access.py)
gives a valid request and a caller allowed to make it. The request is sent twice with the same
key: the second answer is the first one, flagged `Idempotent-Replayed: true`, and no table gained
a row. The same key with another body is a 409 naming the header. The OpenAPI document declares the
header parameter and the response header on each such operation.
"""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.config import Settings
from api.db import Base
from api.idempotency import EXPIRY, IdempotencyRecord
from api.main import API_PREFIX, create_app
from tests.access import Case
from tests.factories import assert_problem
from tests.test_access_matrix import CASES, caller_headers, send


def creating_operations() -> set[tuple[str, str]]:
    document = create_app(Settings(serve_frontend=False)).openapi()
    return {("POST", path) for path, item in document["paths"].items() if "201" in item.get("post", {}).get("responses", {})}


def creating_case(case: Case) -> str | None:
    """The first caller for whom the case answers 201, when it is a creating POST."""
    if case.method != "POST":
        return None
    return next((caller for caller, status in case.expect.items() if status == 201), None)


CREATING = [(case, caller) for case in CASES if (caller := creating_case(case)) is not None]


async def row_counts(session: AsyncSession) -> dict[str, int]:
    counts = {}
    for table in Base.metadata.sorted_tables:
        counts[table.name] = await session.scalar(select(func.count()).select_from(table)) or 0
    return counts


def test_every_creating_post_declares_the_key_and_the_replay_header() -> None:
    document = create_app(Settings(serve_frontend=False)).openapi()
    operations = creating_operations()
    assert len(operations) >= 15
    for _, path in sorted(operations):
        operation = document["paths"][path]["post"]
        headers = [p for p in operation.get("parameters", []) if p["in"] == "header" and p["name"] == "Idempotency-Key"]
        assert headers and headers[0]["required"] is False and headers[0].get("description"), path
        assert "Idempotent-Replayed" in operation["responses"]["201"].get("headers", {}), path


def test_every_creating_post_has_a_case_here() -> None:
    covered = {("POST", case.path) for case, _ in CREATING}
    assert creating_operations() <= covered, sorted(creating_operations() - covered)


@pytest.mark.parametrize(("case", "caller"), CREATING, ids=[f"{c.method} {c.path.removeprefix(API_PREFIX)}" for c, _ in CREATING])
async def test_a_replayed_create_creates_nothing_and_is_flagged(case: Case, caller: str, client: httpx.AsyncClient, session: AsyncSession) -> None:
    request = await case.setup(session)
    headers = {**(await caller_headers(session, request))[caller], "Idempotency-Key": f"create-{case.path}"}
    await session.commit()
    first = await send(client, case, request, headers)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    before = await row_counts(session)
    again = await send(client, case, request, headers)
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    if "location" in first.headers:
        assert again.headers["location"] == first.headers["location"]
    assert await row_counts(session) == before
    other = await client.request(
        case.method, case.path.format(**request.path_params), json={"another": "request"}, params=request.params, headers={**request.headers, **headers}
    )
    problem = assert_problem(other, 409)
    assert any(error["field"] == "Idempotency-Key" for error in problem["errors"])


async def test_a_rejected_create_is_not_stored(client: httpx.AsyncClient, session: AsyncSession) -> None:
    from tests.services.access import CASES as POINT_CASES

    case = next(c for c in POINT_CASES if c.method == "POST" and c.path == f"{API_PREFIX}/service-points")
    request = await case.setup(session)
    headers = {**(await caller_headers(session, request))["admin"], "Idempotency-Key": "point-1"}
    await session.commit()
    rejected = await client.post(case.path, json={**request.json, "area": "not-an-area"}, headers=headers)
    assert rejected.status_code == 422, rejected.text
    created = await send(client, case, request, headers)
    assert created.status_code == 201, created.text
    assert "Idempotent-Replayed" not in created.headers


async def test_a_key_is_replayed_for_24_hours_then_starts_afresh(client: httpx.AsyncClient, session: AsyncSession) -> None:
    from tests.services.access import CASES as POINT_CASES

    case = next(c for c in POINT_CASES if c.method == "POST" and c.path == f"{API_PREFIX}/service-points")
    request = await case.setup(session)
    headers = {**(await caller_headers(session, request))["admin"], "Idempotency-Key": "point-day"}
    await session.commit()
    first = await send(client, case, request, headers)
    assert first.status_code == 201, first.text
    assert (await send(client, case, request, headers)).headers.get("Idempotent-Replayed") == "true"
    await session.execute(update(IdempotencyRecord).values(created_at=datetime.now(UTC) - EXPIRY - timedelta(minutes=1)))
    again = await client.post(case.path, json={**request.json, "name": "Pos baru"}, headers=headers)  # another body: no 409 any more
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers, again.text
    assert again.json()["id"] != first.json()["id"]
    assert await session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1


async def test_public_callers_are_keyed_by_their_address(app, session: AsyncSession) -> None:
    from tests.complaints.access import new_report

    request = await new_report(session)
    await session.commit()
    ids = []
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.1"):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answer = await client.post(f"{API_PREFIX}/complaints", json=request.json, headers={"Idempotency-Key": "report-1"})
        assert answer.status_code == 201, answer.text
        ids.append((answer.json()["receipt"], answer.headers.get("Idempotent-Replayed")))
    assert ids[0][0] != ids[1][0]  # two residents, the same key: two complaints
    assert ids[2] == (ids[0][0], "true")  # the first resident's retry
