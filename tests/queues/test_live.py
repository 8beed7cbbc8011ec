"""Live boards end to end, through real uvicorn servers on 127.0.0.1.

SQLite: one server; a call made through it reaches its own subscribers after COMMIT.
PostgreSQL: two servers on one database; a call made through one reaches a subscriber of the other
(LISTEN/NOTIFY).
"""

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.areas import service as areas
from api.db import create_engine_for
from api.types import Role
from tests.factories import headers_for
from tests.live import live_server
from tests.services.factories import make_office

DEADLINE = 20.0
FAST_HEARTBEAT = {"REKAM_SSE_HEARTBEAT_SECONDS": "0.5"}


async def _seed(url: str) -> tuple[int, dict[str, str]]:
    engine = create_engine_for(url)
    try:
        async with engine.begin() as connection:
            await areas.load_official(connection, prefix="36.74.01")
        async with async_sessionmaker(engine, expire_on_commit=False)() as session, session.begin():
            point_id = (await make_office(session, counters=2)).id
            headers = await headers_for(session, role=Role.operator, service_point_id=point_id)
        return point_id, headers
    finally:
        await engine.dispose()


async def events(response: httpx.Response, ids: list[str] | None = None) -> AsyncIterator[tuple[str, object]]:
    """(event, data) pairs of an SSE stream; comment lines come out as ("comment", text).

    Each event's `id:` is appended to `ids` (None for an event without one)."""
    name, data, event_id = "message", [], None
    async for line in response.aiter_lines():
        if line.startswith(":"):
            yield "comment", line[1:].strip()
        elif line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and data:
            if ids is not None:
                ids.append(event_id)
            yield name, json.loads("\n".join(data))
            name, data, event_id = "message", [], None


async def _until(stream: AsyncIterator[tuple[str, object]], wanted: str) -> object:
    async for name, data in stream:
        if name == wanted:
            return data
    raise AssertionError(f"stream ended before {wanted}")


async def test_a_call_reaches_live_boards(migrated_database_url: str) -> None:
    point_id, operator = await _seed(migrated_database_url)
    two_processes = not migrated_database_url.startswith("sqlite")
    with (
        live_server(migrated_database_url, env=FAST_HEARTBEAT) as watched,
        live_server(migrated_database_url, env=FAST_HEARTBEAT) if two_processes else _same(watched) as acting,
    ):
        async with (
            httpx.AsyncClient(timeout=DEADLINE) as client,
            client.stream("GET", f"{watched}/api/v1/service-points/{point_id}/queue/events") as response,
            client.stream("GET", f"{watched}/api/v1/queues/events", params={"area": "36.74.01"}) as city,
        ):
            assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["cache-control"] == "no-cache" and response.headers["x-accel-buffering"] == "no"
            seen: list[str] = []
            stream, city_stream = events(response, seen), events(city)
            first = await asyncio.wait_for(_until(stream, "board"), DEADLINE)
            assert first["waiting"] == 0  # the current state comes first
            assert (await asyncio.wait_for(_until(city_stream, "boards"), DEADLINE))[0]["service_point_id"] == point_id
            assert (await asyncio.wait_for(_until(stream, "comment"), DEADLINE)) == "heartbeat"
            taken = await client.post(f"{acting}/api/v1/service-points/{point_id}/tickets", json={"name": "Rahasia"})
            assert taken.status_code == 201, taken.text
            board = await asyncio.wait_for(_until(stream, "board"), DEADLINE)
            assert board["waiting"] == 1 and "Rahasia" not in json.dumps(board)
            called = await client.post(f"{acting}/api/v1/service-points/{point_id}/call-next", json={"counter": 2}, headers=operator)
            assert called.status_code == 200, called.text
            call = await asyncio.wait_for(_until(stream, "call"), DEADLINE)
            assert call == {"service_point_id": point_id, "ticket_id": taken.json()["id"], "number": 1, "counter": 2, "recall": False}
            board = await asyncio.wait_for(_until(stream, "board"), DEADLINE)
            assert board["waiting"] == 0 and board["now_serving"] == [{"counter": 2, "number": 1, "status": "called"}]
            assert (await asyncio.wait_for(_until(city_stream, "call"), DEADLINE))["number"] == 1
            # A failed change announces nothing: the next board seen is the next real change.
            refused = await client.post(f"{acting}/api/v1/tickets/{taken.json()['id']}/complete", headers=operator)
            assert refused.status_code == 409
            await client.post(f"{acting}/api/v1/tickets/{taken.json()['id']}/start", headers=operator)
            board = await asyncio.wait_for(_until(stream, "board"), DEADLINE)
            assert board["now_serving"] == [{"counter": 2, "number": 1, "status": "serving"}]
            # Every event has an id, never the same twice on a stream.
            assert all(seen) and len(set(seen)) == len(seen) >= 4
            # A reconnect (EventSource sends Last-Event-ID) starts with the current snapshot.
            async with client.stream("GET", f"{watched}/api/v1/service-points/{point_id}/queue/events", headers={"Last-Event-ID": seen[-1]}) as again:
                assert again.status_code == 200
                again_ids: list[str] = []
                snapshot = await asyncio.wait_for(_until(events(again, again_ids), "board"), DEADLINE)
                assert snapshot["now_serving"] == [{"counter": 2, "number": 1, "status": "serving"}]
                assert again_ids[0] and again_ids[0] not in seen


@contextmanager
def _same(base: str) -> Iterator[str]:
    yield base


async def test_a_process_renders_only_changes_its_streams_may_show() -> None:
    from api.queues import live

    rendered: list[int] = []

    async def render(ids: dict) -> list[dict]:
        rendered.append(ids["p"])
        return [{"event": "board", "service_point_id": ids["p"], "area": "36.74.01", "data": {}}]

    listener = live.Listener("postgresql://unused", render)
    board = live.broker.subscribe(point_id=7)
    try:
        await listener._dispatch(json.dumps({"p": 8, "t": None, "c": "issued"}))
        await listener._dispatch(json.dumps({"p": 7, "t": None, "c": "issued"}))
        assert rendered == [7] and board.queue.qsize() == 1
        city = live.broker.subscribe(area="36.74")
        try:
            await listener._dispatch(json.dumps({"p": 8, "t": None, "c": "issued"}))
            assert rendered == [7, 8] and city.queue.qsize() == 1 and board.queue.qsize() == 1
        finally:
            live.broker.unsubscribe(city)
    finally:
        live.broker.unsubscribe(board)


async def test_streams_opening_together_share_one_snapshot_read() -> None:
    from api import fastpath
    from api.queues import live

    reads: list[int] = []

    async def read() -> dict:
        reads.append(1)
        await asyncio.sleep(0.01)
        return {"event": "board", "service_point_id": 99, "area": "36.74", "data": {"waiting": len(reads)}}

    first = await asyncio.gather(*(live.snapshot(("point", 99), read) for _ in range(20)))
    assert len(reads) == 1 and all(m is first[0] for m in first) and first[0]["id"]
    assert await live.snapshot(("point", 99), read) is first[0]  # kept while nothing was written
    fastpath.bump()  # a write in this process: the kept board may be old
    again = await live.snapshot(("point", 99), read)
    assert len(reads) == 2 and again["data"] == {"waiting": 2} and again["id"] != first[0]["id"]


async def test_board_reads_after_commit_coalesce_and_the_last_one_sees_every_change() -> None:
    from api.queues import live

    state = {"changes": 0}
    rendered: list[int] = []
    gate = asyncio.Event()

    async def render(point_id: int) -> list[dict]:
        seen = state["changes"]
        await gate.wait()
        rendered.append(seen)
        return [{"event": "board", "service_point_id": point_id, "area": "36.74", "data": {"changes": seen}}]

    board = live.broker.subscribe(point_id=98)
    try:
        for _ in range(5):  # five commits while the first read is under way
            state["changes"] += 1
            live.renders.request(98, render)
            await asyncio.sleep(0)
        gate.set()
        await live.renders.idle()
        assert rendered == [1, 5]  # one read, then one more for the four that came during it
        assert [board.queue.get_nowait()["data"]["changes"] for _ in range(2)] == [1, 5]
    finally:
        live.broker.unsubscribe(board)
