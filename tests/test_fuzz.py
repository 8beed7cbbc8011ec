"""Schemathesis against the live OpenAPI schema of a running server, on SQLite and PostgreSQL.

Every operation is called with generated input, as the admin (the widest access), and must
answer without a 500, with a status and a body its schema declares, errors as problem+json.
`make fuzz` runs many more examples per operation (REKAM_FUZZ_EXAMPLES).
"""

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from hypothesis import HealthCheck, given, settings

from tests.conftest import migrate
from tests.live import live_server

EXAMPLES = int(os.environ.get("REKAM_FUZZ_EXAMPLES", "12"))


def _prepare(url: str) -> str:
    """Migrate, load the demo and return an admin's bearer token."""
    script = (
        "import asyncio\n"
        "from api.demo.service import load_demo\n"
        "from api.db import get_sessionmaker, get_engine\n"
        "from api.auth import service\n"
        "from api.auth.models import Role\n"
        "from api.auth.policy import SYSTEM\n"
        "from api.auth.schemas import UserCreate\n"
        "async def main():\n"
        "    await load_demo()\n"
        "    async with get_sessionmaker()() as s, s.begin():\n"
        "        await service.create_user(s, data=UserCreate(username='fuzz-admin', display_name='Fuzz', password='fuzz-password-1', role=Role.admin), actor=SYSTEM)\n"
        "        token, _ = await service.sign_in(s, username='fuzz-admin', password='fuzz-password-1')\n"
        "    await get_engine().dispose()\n"
        "    print(token)\n"
        "asyncio.run(main())\n"
    )
    migrate(url)
    done = subprocess.run([sys.executable, "-c", script], env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def fuzz_server(database_url: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    if database_url.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    else:
        url = request.getfixturevalue("pg_cluster").create_database("fuzz")
    token = _prepare(url)
    with live_server(url, env={"REKAM_PUBLIC_WRITE_LIMIT": "100000/minute"}) as base:
        yield base, {"Authorization": f"Bearer {token}"}


def test_api_answers_within_its_contract(fuzz_server: tuple[str, dict[str, str]]) -> None:
    base, headers = fuzz_server
    # A well-formed request can still break a rule of the campaign (a date in the future, an area
    # outside the campaign): those are 422 by design, so they count as an accepted outcome.
    config = SchemathesisConfig.from_dict(
        {"checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", 401, 403, 404, 409, 422, 429]}}}
    )
    api = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json", config=config)
    failures: list[str] = []
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) > 10
    for operation in operations:
        if operation.path == "/api/v1/auth/logout":
            continue  # signing the fuzzer out would turn every later call into a 401

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
        def check(case) -> None:  # noqa: ANN001
            response = case.call_and_validate(headers=headers)
            if response.status_code >= 400:
                content_type = response.headers.get("content-type") or [""]
                assert content_type[0].startswith("application/problem+json"), response.text[:300]

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect every finding, then fail once
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
