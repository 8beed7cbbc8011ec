"""Issue 17, item 4: every endpoint refuses a body larger than it needs (413) before reading it whole."""

import httpx
import pytest

from tests.factories import assert_problem

API = "/api/v1"
KIB = 1024
PUBLIC_FORM, DEFAULT, TARGETS = 16 * KIB, 64 * KIB, 8 * 1024 * 1024


@pytest.mark.parametrize(
    ("method", "path", "limit"),
    [
        ("POST", f"{API}/home-visits", PUBLIC_FORM),
        ("POST", f"{API}/complaints", PUBLIC_FORM),
        ("POST", f"{API}/complaints/track/ABCD-1234/messages", PUBLIC_FORM),
        ("POST", f"{API}/service-points/3/tickets", PUBLIC_FORM),
        ("POST", f"{API}/auth/token", PUBLIC_FORM),
        ("POST", f"{API}/users", DEFAULT),
        ("PUT", f"{API}/campaigns/1/targets", TARGETS),
        ("POST", f"{API}/campaigns/1/tallies", None),
    ],
)
def test_each_route_has_a_limit_that_fits_it(method: str, path: str, limit: int | None) -> None:
    from api import bodylimit

    assert bodylimit.limit_for(method, path) == limit


async def test_a_declared_length_over_the_limit_is_refused_unread(client: httpx.AsyncClient) -> None:
    # Four 100 MB home-visit requests took the server from 110 MB to 2.1 GB.
    read = []

    async def body():
        read.append(1)
        yield b"{}"

    response = await client.post(f"{API}/home-visits", content=body(), headers={"content-length": str(100 * 1024 * 1024), "content-type": "application/json"})
    problem = assert_problem(response, 413)
    assert problem["code"] == "body.too_large" and problem["params"] == {"limit": PUBLIC_FORM} and response.headers["x-request-id"]
    assert f"{PUBLIC_FORM:,}".replace(",", ".") in problem["detail"]  # Indonesian by default: 16.384
    assert_problem(await client.post(f"{API}/home-visits", content=b"x" * (PUBLIC_FORM + 1), headers={"content-type": "application/json"}), 413)
    # Staff endpoints too, before authentication: nobody gets to send megabytes.
    assert_problem(await client.post(f"{API}/users", content=b"x" * (DEFAULT + 1), headers={"content-type": "application/json"}), 413)


async def test_a_chunked_body_is_counted_as_it_arrives(client: httpx.AsyncClient) -> None:
    sent = []

    async def chunks():
        for _ in range(1000):  # 64 MB if it were all read
            sent.append(1)
            yield b"x" * 65536

    response = await client.post(f"{API}/complaints", content=chunks(), headers={"content-type": "application/json"})
    assert_problem(response, 413)
    assert len(sent) < 5  # refused at the chunk that crossed 16 KiB, not after the whole body


async def test_bodies_within_the_limit_and_the_tally_upload_pass(client: httpx.AsyncClient) -> None:
    # An ordinary form goes on to validation; the tally upload is not held to 64 KiB (it streams).
    assert_problem(await client.post(f"{API}/home-visits", json={"nik": "x"}), 422)
    big_csv = b"area,date,recorded\n" + b"36.74.01,2026-01-01,1\n" * 10_000
    response = await client.post(f"{API}/campaigns/1/tallies", content=big_csv, headers={"content-type": "text/csv"})
    assert response.status_code == 401
