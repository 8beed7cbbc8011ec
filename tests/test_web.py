"""Web hygiene: CORS, security headers, request ids, and logs free of secrets and personal data."""

import json

import httpx

from api.config import Settings
from api.main import create_app
from api.middleware import SECURITY_HEADERS
from api.types import Role
from tests.factories import PASSWORD, headers_for, make_user


async def test_security_headers_on_every_response(client, session) -> None:
    await session.commit()
    responses = [
        await client.get("/api/v1/health"),  # 200
        await client.get("/api/v1/users"),  # 401
        await client.get("/api/v1/areas/99.99"),  # 404 from a service
        await client.get("/api/v1/no-such-thing"),  # 404 from routing
        await client.get("/api/v1/areas", params={"limit": 0}),  # 422
        await client.post("/api/v1/auth/token", data={"username": "x", "password": "y"}),  # 401, audited
    ]
    assert [r.status_code for r in responses] == [200, 401, 404, 404, 422, 401]
    for response in responses:
        for name, _ in SECURITY_HEADERS:
            assert name.decode() in response.headers, (response.request.url, name)
        assert response.headers["x-content-type-options"] == "nosniff" and response.headers["x-frame-options"] == "DENY"


async def test_request_id_is_echoed_or_made(client) -> None:
    given = await client.get("/api/v1/no-such-thing", headers={"X-Request-ID": "kiosk-7.abc_1"})
    assert given.headers["x-request-id"] == "kiosk-7.abc_1"
    made = await client.get("/api/v1/no-such-thing")
    unsafe = await client.get("/api/v1/no-such-thing", headers={"X-Request-ID": "a b<script>" + "x" * 80})
    assert len(made.headers["x-request-id"]) == 16 and len(unsafe.headers["x-request-id"]) == 16
    assert made.headers["x-request-id"] != unsafe.headers["x-request-id"]


async def test_cors_allows_configured_origins_only() -> None:
    app = create_app(Settings(serve_frontend=False, cors_origins=["https://rekam.tangerangselatankota.go.id"]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
        allowed = await client.options("/api/v1/campaigns", headers={"Origin": "https://rekam.tangerangselatankota.go.id", **preflight})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://rekam.tangerangselatankota.go.id"
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
        refused = await client.options("/api/v1/campaigns", headers={"Origin": "https://evil.example", **preflight})
        assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
        simple = await client.get("/api/v1/no-such-thing", headers={"Origin": "https://rekam.tangerangselatankota.go.id"})
        assert simple.headers["access-control-allow-origin"] == "https://rekam.tangerangselatankota.go.id"
        assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()
    # Without configured origins no CORS headers at all.
    app = create_app(Settings(serve_frontend=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        response = await client.get("/api/v1/no-such-thing", headers={"Origin": "https://rekam.tangerangselatankota.go.id"})
        assert "access-control-allow-origin" not in response.headers


async def test_logs_carry_request_ids_but_never_passwords_tokens_or_codes(client, session, log_output) -> None:
    username = (await make_user(session, role=Role.viewer)).username
    admin = await headers_for(session, role=Role.admin)
    token = admin["Authorization"].removeprefix("Bearer ")
    await session.commit()
    wrong_password = "Wrong-Pa55word-Serpong"
    failed = await client.post("/api/v1/auth/token", data={"username": username, "password": wrong_password}, headers={"X-Request-ID": "login-attempt-1"})
    assert failed.status_code == 401
    signed_in = await client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    new_token = signed_in.json()["access_token"]
    assert (await client.get("/api/v1/users", headers=admin)).status_code == 200
    # An undeclared query parameter is refused (422), and neither its value nor the path is logged.
    assert (await client.get("/api/v1/areas/36.74.01.1001", params={"secret": "tracking-code-xyz"})).status_code == 422
    text = log_output.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) >= 4
    for secret in (wrong_password, PASSWORD, token, new_token, "tracking-code-xyz", "36.74.01.1001"):
        assert secret not in text
    login = next(line for line in lines if line.get("request_id") == "login-attempt-1")
    assert login == {**login, "event": "request", "method": "POST", "path": "/api/v1/auth/token", "status": 401}
    assert {"method": "GET", "path": "/api/v1/areas/{code}", "status": 422}.items() <= next(
        line for line in lines if line.get("path") == "/api/v1/areas/{code}"
    ).items()
    assert all(line.get("request_id") for line in lines if line.get("event") == "request")


def test_secret_and_personal_keys_are_redacted(log_output) -> None:
    import structlog

    structlog.get_logger("test").info("oops", password="hunter2-secret", token="rkt_abc", nik="3674010101900001", phone="081298765432")
    text = log_output.getvalue()
    assert "hunter2-secret" not in text and "rkt_abc" not in text and "3674010101900001" not in text and "081298765432" not in text
    assert json.loads(text)["password"] == "***"


async def test_answers_of_a_kilobyte_or_more_are_gzipped_for_clients_that_accept_it(client) -> None:
    """Issue #23: residents on Slow 3G; the API compresses by itself, not only behind the compose nginx."""
    big = await client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert big.status_code == 200 and big.headers["content-encoding"] == "gzip" and "accept-encoding" in big.headers["vary"].lower()
    assert int(big.headers["content-length"]) < len(big.content) / 3 and big.json()["openapi"]  # httpx decoded it
    plain = await client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.json() == big.json()
    small = await client.get("/api/v1/health", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers  # under a kilobyte: not worth the work


async def test_a_kept_public_answer_is_gzipped_afresh_each_time(client, session) -> None:
    """The public read cache replays what it kept; the compressor must not have edited it."""
    from tests.factories import make_campaign

    campaign = await make_campaign(session)
    await session.commit()
    url = f"/api/v1/campaigns/{campaign.id}/progress"
    answers = [await client.get(url, params={"depth": 1}, headers={"Accept-Encoding": encoding}) for encoding in ("gzip", "gzip", "identity", "gzip")]
    assert all(a.status_code == 200 for a in answers) and len({a.content for a in answers}) == 1
    assert [a.headers.get("content-encoding") for a in answers] == ["gzip", "gzip", None, "gzip"]
