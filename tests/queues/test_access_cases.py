"""Runs this domain's access cases until the shared matrix runner (tests/test_access_matrix.py) lands."""

import pytest

from api.auth.models import Role
from tests.access import CALLERS
from api.auth import service as auth
from api.auth.policy import SYSTEM
from api.auth.schemas import ApiKeyCreate
from tests.services.factories import make_office
from tests.queues.access import CASES as QUEUE_CASES
from tests.services.access import CASES as SERVICE_CASES

ROLES = {"admin": Role.admin, "viewer": Role.viewer, "handler": Role.handler}


async def _headers(session, caller: str, request) -> dict[str, str]:  # noqa: ANN001
    """API keys rather than users: no password hashing, so the matrix stays fast."""
    if caller == "anonymous":
        return {}
    if caller in ROLES:
        data = ApiKeyCreate(name=caller, role=ROLES[caller])
    elif caller.startswith("supervisor"):
        data = ApiKeyCreate(name=caller, role=Role.supervisor, area=request.area if caller.endswith("_in") else "36.74.07")
    else:
        point = (request.service_point_id if caller.endswith("_in") else None) or (await make_office(session)).id
        data = ApiKeyCreate(name=caller, role=Role.operator, service_point_id=point)
    _, secret = await auth.create_api_key(session, data=data, actor=SYSTEM)
    return {"X-API-Key": secret}


@pytest.mark.parametrize("case", SERVICE_CASES + QUEUE_CASES, ids=lambda c: f"{c.method} {c.path}")
async def test_access(case, client, session) -> None:  # noqa: ANN001
    for caller in CALLERS:
        request = await case.setup(session)
        headers = {**request.headers, **await _headers(session, caller, request)}
        response = await client.request(
            case.method, case.path.format(**request.path_params), json=request.json, params=request.params, headers=headers,
        )
        assert response.status_code == case.status_for(caller), f"{caller}: {response.status_code} {response.text[:300]}"
