"""Admission (api/admission.py): a process works on `limit` requests at once, the others wait their
turn in arrival order; a stream leaves its place when its answer starts."""

import asyncio

import httpx
from prometheus_client import REGISTRY
from starlette.types import Message, Receive, Scope, Send

from api.admission import HELD_AT_MOST, Admission


class Endpoint:
    """An ASGI app whose requests each wait for their own go-ahead, noting when they began."""

    def __init__(self) -> None:
        self.began: list[str] = []
        self.go: dict[str, asyncio.Event] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = scope["path"].strip("/")
        self.began.append(name)
        await self.go.setdefault(name, asyncio.Event()).wait()
        streams = name.startswith("stream")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": name.encode(), "more_body": streams})
        if streams:
            await self.go.setdefault(name + "-end", asyncio.Event()).wait()
            await send({"type": "http.response.body", "body": b""})

    def let(self, name: str) -> None:
        self.go.setdefault(name, asyncio.Event()).set()


async def settled() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def waits_seen() -> tuple[float, float]:
    """How many waits `/metrics` has seen, and how long they were in all."""
    count = REGISTRY.get_sample_value("rekam_admission_wait_seconds_count") or 0.0
    return count, REGISTRY.get_sample_value("rekam_admission_wait_seconds_sum") or 0.0


async def test_requests_past_the_limit_wait_their_turn_in_arrival_order() -> None:
    endpoint = Endpoint()
    count, seconds = waits_seen()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=Admission(endpoint, limit=2)), base_url="http://test")
    requests = {}
    for name in ("a", "b", "c", "d"):
        requests[name] = asyncio.create_task(client.get(f"/{name}"))
        await settled()
    assert endpoint.began == ["a", "b"]  # c and d wait
    endpoint.let("b")
    assert (await requests["b"]).text == "b"
    await settled()
    assert endpoint.began == ["a", "b", "c"]  # the first to wait is the first in
    endpoint.let("a")
    await settled()
    assert endpoint.began == ["a", "b", "c", "d"]
    endpoint.let("c")
    endpoint.let("d")
    assert [(await requests[name]).text for name in "acd"] == ["a", "c", "d"]
    await client.aclose()
    now_count, now_seconds = waits_seen()
    assert now_count == count + 4 and now_seconds > seconds  # c and d waited: their waits are at /metrics


async def test_a_stream_leaves_its_place_when_its_answer_starts() -> None:
    endpoint = Endpoint()
    app = Admission(endpoint, limit=1)
    started: list[bytes] = []

    async def receive() -> Message:
        await asyncio.Event().wait()  # no body, and the client never leaves
        return {}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            started.append(message.get("body", b""))

    scope: Scope = {"type": "http", "method": "GET", "path": "/stream", "headers": [], "query_string": b""}
    stream = asyncio.create_task(app(scope, receive, send))
    await settled()
    endpoint.let("stream")
    await settled()
    assert started == [b"stream"]  # still streaming
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    other = asyncio.create_task(client.get("/other"))
    await settled()
    assert endpoint.began == ["stream", "other"]  # let in while the stream goes on
    endpoint.let("other")
    assert (await other).text == "other"
    endpoint.let("stream-end")
    await stream
    await client.aclose()


async def test_a_request_that_takes_long_gives_up_its_place() -> None:
    """Waiting for a lock, a large import, a slow upload: past HELD_AT_MOST it goes on without
    its place, so the others do not wait for it."""
    endpoint = Endpoint()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=Admission(endpoint, limit=1)), base_url="http://test")
    slow = asyncio.create_task(client.get("/slow"))
    await settled()
    waits = asyncio.create_task(client.get("/waits"))
    await settled()
    assert endpoint.began == ["slow"]
    await asyncio.sleep(HELD_AT_MOST + 0.05)
    assert endpoint.began == ["slow", "waits"]
    endpoint.let("waits")
    assert (await waits).text == "waits"
    endpoint.let("slow")
    assert (await slow).text == "slow"
    await client.aclose()


async def test_no_limit_lets_everyone_in() -> None:
    endpoint = Endpoint()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=Admission(endpoint, limit=0)), base_url="http://test")
    requests = [asyncio.create_task(client.get(f"/{name}")) for name in "abc"]
    await settled()
    assert endpoint.began == ["a", "b", "c"]
    for name in "abc":
        endpoint.let(name)
    assert [r.text for r in await asyncio.gather(*requests)] == ["a", "b", "c"]
    await client.aclose()
