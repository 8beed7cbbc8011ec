"""Prometheus metrics: counted by route template, and shown only to the internal network."""

import re
from pathlib import Path

import httpx
import pytest

from api.config import get_settings

ROOT = Path(__file__).resolve().parent.parent


def _areas_by_code_200(body: str) -> float:
    """The counter of answered GET /api/v1/areas/{code} with 200 (0 before the first one)."""
    lines = [
        line
        for line in body.splitlines()
        if line.startswith("rekam_http_requests_total") and 'route="/api/v1/areas/{code}"' in line and 'status="200"' in line and 'method="GET"' in line
    ]
    return float(lines[0].rsplit(" ", 1)[1]) if lines else 0.0


async def test_metrics_count_requests_by_route_template(client) -> None:
    # The counter is process-wide: other tests (in any order) add to it, so count the difference.
    before = _areas_by_code_200((await client.get("/metrics")).text)
    assert (await client.get("/api/v1/areas/36.74.01")).status_code == 200
    assert (await client.get("/api/v1/areas/36.74.02")).status_code == 200
    body = (await client.get("/metrics")).text
    assert _areas_by_code_200(body) - before == 2
    assert "36.74.01" not in body


def client_at(app, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 5000)), base_url="http://test")


async def test_metrics_are_not_public_when_the_api_is_served_directly(app, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 17, item 14: nginx hides /metrics, but `rekam serve` on a public address showed it to anyone."""
    async with client_at(app, "203.0.113.50") as outsider:
        response = await outsider.get("/metrics")
        assert response.status_code == 404 and "rekam_http_requests_total" not in response.text
    async with client_at(app, "127.0.0.1") as local:
        assert (await local.get("/metrics")).status_code == 200
    monkeypatch.setenv("REKAM_METRICS_TOKEN", "scrape-token-0123456789")
    get_settings.cache_clear()
    try:
        async with client_at(app, "10.0.0.9") as prometheus:
            assert (await prometheus.get("/metrics")).status_code == 404
            assert (await prometheus.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 404
            scraped = await prometheus.get("/metrics", headers={"Authorization": "Bearer scrape-token-0123456789"})
            assert scraped.status_code == 200 and "rekam_http_requests_total" in scraped.text
        async with client_at(app, "127.0.0.1") as local:  # with a token, loopback needs it too
            assert (await local.get("/metrics")).status_code == 404
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def _location(conf: str, location: str) -> str:
    match = re.search(r"location\s+" + re.escape(location) + r"\s*\{(.*?)\n    \}", conf, re.S)
    assert match, f"no location {location}"
    return match.group(1)


def test_nginx_adds_security_headers_to_the_spa() -> None:
    """Issue 17, item 14: the SPA's files came from nginx without any security header."""
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    server = conf.split("server {", 1)[1]
    wanted = ["X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Security-Policy", "Permissions-Policy"]
    # add_header is inherited only by locations with none of their own: each such location repeats them.
    server_level = re.split(r"\n\s*location\s", server, maxsplit=1)[0]
    for header in wanted:
        assert re.search(rf"add_header\s+{header}\s+.+\balways;", server_level), f"server block lacks {header}"
    for location in ("= /index.html", "/"):
        block = _location(conf, location)
        if "add_header" in block:
            for header in wanted:
                assert f"add_header {header}" in block, f"location {location} drops {header}"
    assert "frame-ancestors 'none'" in conf and "script-src 'self'" in conf
