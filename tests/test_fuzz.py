"""Schemathesis against the live OpenAPI schema of a running server, on SQLite and PostgreSQL.

Every operation is called with generated input, as the admin (the widest access), and must
answer without a 500, with a status and a body its schema declares, errors as problem+json.
`make fuzz` runs many more examples per operation (REKAM_FUZZ_EXAMPLES).
"""

import os
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.config import SchemathesisConfig

from tests.demo_db import prepare_demo_and_admin
from tests.live import live_server

EXAMPLES = int(os.environ.get("REKAM_FUZZ_EXAMPLES", "12"))


@pytest.fixture(scope="session")
def fuzz_server(database_url: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    if database_url.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    else:
        url = request.getfixturevalue("pg_cluster").create_database("fuzz")
    token = prepare_demo_and_admin(url)
    limits = {"REKAM_PUBLIC_WRITE_LIMIT": "100000/minute", "REKAM_BOOKING_LIMIT": "100000/minute", "REKAM_POINT_BOOKING_LIMIT": "100000/minute"}
    with live_server(url, env=limits) as base:
        yield base, {"Authorization": f"Bearer {token}"}


def streams_events(operation) -> bool:
    """Whether the operation's answer is a stream of Server-Sent Events (a queue board's), which
    stays open for as long as the client listens."""
    return any("text/event-stream" in (answer.get("content") or {}) for answer in operation.definition.raw.get("responses", {}).values())


def answer_of_a_stream(base: str, case, headers: dict[str, str]) -> None:
    """A stream's head only: schemathesis would read it to its end, which never comes (`make fuzz`
    hung there once an example named a real service point)."""
    with httpx.stream(case.method, base + case.formatted_path, params=case.query, headers=headers, timeout=30) as response:
        content_type = response.headers.get("content-type", "")
        assert response.status_code < 500, response.status_code
        if response.status_code >= 400:
            assert content_type.startswith("application/problem+json"), response.read()[:300]
        else:
            assert response.status_code == 200 and content_type.startswith("text/event-stream"), (response.status_code, content_type)


def contract_check(operation, base: str, headers: dict[str, str]):
    """The operation called with generated input: answers as its schema says, errors as problem+json."""
    streams = streams_events(operation)

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
    def check(case) -> None:
        if streams:
            answer_of_a_stream(base, case, headers)
            return
        response = case.call_and_validate(headers=headers)
        if response.status_code >= 400:
            content_type = response.headers.get("content-type") or [""]
            assert content_type[0].startswith("application/problem+json"), response.text[:300]

    return check


def test_api_answers_within_its_contract(fuzz_server: tuple[str, dict[str, str]]) -> None:
    base, headers = fuzz_server
    # A well-formed request can still break a rule of the campaign (a date in the future, an area
    # outside the campaign): those are 422 by design, so they count as an accepted outcome.
    config = SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", 401, 403, 404, 409, 422, 429]}}})
    api = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json", config=config)
    failures: list[str] = []
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) > 10
    for operation in operations:
        if operation.path == "/api/v1/auth/logout":
            continue  # signing the fuzzer out would turn every later call into a 401

        try:
            contract_check(operation, base, headers)()
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
