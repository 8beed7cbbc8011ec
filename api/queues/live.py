"""Live queue boards: an in-process broker of Server-Sent Events, fed only after COMMIT.

How a committed change reaches the boards:
- SQLite (one process): only when a stream of this process watches the point (its board or a city
  board): the service makes the `call` message inside its transaction (no query) and parks it on
  `session.info` with the point to re-render; the session's `after_commit` hook hands the call to
  the broker and asks `renders` for the point's board, and a rollback drops both, so a change
  that never happened is never announced. The board is read after COMMIT, in a session of its
  own, outside the write lock (8 counters calling at once do not wait for board reads), and once
  for the changes that come while it is being read: a change committed during a read is followed
  by one more read, so the last board sent always shows every committed change.
- PostgreSQL (any number of processes): the service issues `pg_notify(CHANNEL, ids)` inside its
  transaction (`notice`; a call or a move returns it from the UPDATE that makes the change, a
  round trip fewer). PostgreSQL delivers a notification only when that transaction commits, once per
  change. Each process LISTENs on one dedicated psycopg connection (`Listener`), renders the
  point's board once from the ids and feeds its own broker, whatever the number of subscribers.

Snapshot on connect (`snapshot`): the board (or city board) a new stream starts with is read once
and kept for the streams that open after it, for at most REKAM_PUBLIC_READ_CACHE_SECONDS (another
process's change of a point's hours is not announced) and while the process's write generation
of boards (api/fastpath.py: writes of what a board reads) is the one it was read under; streams that open while it is being read wait for
that read (when the generation has not moved since it began). 5,000 residents opening one board
cost one read, not 5,000. A stream subscribes before it asks for the snapshot, so a change
committed after the snapshot was read reaches it as an event.

A subscriber too slow to keep up (its queue full), or any subscriber after the listener lost its
connection (notifications may have been missed), is closed: browsers' EventSource reconnects on
its own, and every stream starts with the current state.

Events and their ids (documented for integrators in docs/api.md and on the stream operations):
- `board` (one point's board, schema `Board`), `boards` (the city board: a list of `Board`) and
  `call` (a ticket called or recalled: `service_point_id`, `ticket_id`, `number`, `counter`,
  `recall`). Comment lines (`: heartbeat`) keep the connection open.
- Every event has an `id:` (`<process>-<n>`, increasing within a process). Snapshot on connect:
  every connection, a reconnect with `Last-Event-ID` included, starts with the current snapshot
  (`board` or `boards`) before any change; missed changes are not replayed one by one, the
  snapshot replaces them.
"""

import asyncio
import contextlib
import itertools
import json
import math
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import ColumnElement, SQLColumnExpression, Text, cast, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from api import fastpath
from api.area_codes import is_within
from api.config import get_settings
from api.db import async_url, last_statement

log = structlog.get_logger("api.queues.live")

CHANNEL = "rekam_queue"
SUBSCRIBER_QUEUE = 256
PENDING = "rekam_live_pending"
PENDING_RENDERS = "rekam_live_renders"
SNAPSHOTS_KEPT = 1024
BOARDS = "boards"  # the kind of public read a board is (api/fastpath.py)
BOARD_INTERVAL = 0.25  # seconds between two reads of one point's board after changes
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"}

Message = dict[str, Any]  # {"event": "board" | "boards" | "call", "service_point_id": int, "area": str, "data": {...}, "id": str}
EVENT_TYPES = {
    "board": "One service point's board (schema `Board`): the snapshot on connect, then after every change.",
    "boards": "The city board (a list of `Board`): the snapshot on connect of `/queues/events`.",
    "call": "A ticket called or recalled: `service_point_id`, `ticket_id`, `number`, `counter`, `recall`.",
}
# Event ids: unique per process run, increasing; a reconnect gets a snapshot, so they are never looked up.
_BOOT = secrets.token_hex(4)
_SEQUENCE = itertools.count(1)


def stamp(message: Message) -> Message:
    """Gives a message its event id (once: a message published to many streams keeps one id)."""
    if "id" not in message:
        message["id"] = f"{_BOOT}-{next(_SEQUENCE)}"
    return message


@dataclass(eq=False)
class Subscriber:
    point_id: int | None = None
    area: str | None = None
    queue: asyncio.Queue[Message | None] = field(default_factory=lambda: asyncio.Queue(SUBSCRIBER_QUEUE))

    def wants(self, message: Message) -> bool:
        if self.point_id is not None:
            return message["service_point_id"] == self.point_id
        return self.area is None or is_within(message["area"], self.area)


class Broker:
    def __init__(self) -> None:
        self._subscribers: set[Subscriber] = set()

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def subscribe(self, *, point_id: int | None = None, area: str | None = None) -> Subscriber:
        subscriber = Subscriber(point_id=point_id, area=area)
        self._subscribers.add(subscriber)
        return subscriber

    def watches(self, point_id: int) -> bool:
        """Whether a subscriber of this process may want a change of the point (its board, or a city board)."""
        return any(s.point_id is None or s.point_id == point_id for s in self._subscribers)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    def publish(self, messages: list[Message]) -> None:
        for message in messages:
            stamp(message)
        for subscriber in list(self._subscribers):
            for message in messages:
                if not subscriber.wants(message):
                    continue
                try:
                    subscriber.queue.put_nowait(message)
                except asyncio.QueueFull:
                    self.close(subscriber)
                    break

    def close(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        while not subscriber.queue.empty():
            subscriber.queue.get_nowait()
        subscriber.queue.put_nowait(None)

    def close_all(self) -> None:
        for subscriber in list(self._subscribers):
            self.close(subscriber)


broker = Broker()


# --- from a transaction to the broker ------------------------------------------------------


def publish_after_commit(session: AsyncSession, messages: list[Message]) -> None:
    """Publish `messages` when (and only if) the session's transaction commits."""
    session.sync_session.info.setdefault(PENDING, []).extend(messages)


def notice(*, point_id: int, ticket_id: int | SQLColumnExpression[int] | None, change: str) -> ColumnElement[Any]:
    """One NOTIFY per change, ids only; PostgreSQL sends it at COMMIT and drops it on ROLLBACK.

    An expression: a change made by an UPDATE ... RETURNING returns it, one round trip fewer than
    `notify` (and `ticket_id` may then be the updated row's column)."""
    return func.pg_notify(CHANNEL, cast(func.json_build_object("p", point_id, "t", ticket_id, "c", change), Text))


async def notify(session: AsyncSession, *, point_id: int, ticket_id: int | None, change: str) -> None:
    """`notice`, sent by a statement of its own: with the COMMIT where the session holds its last
    statements (`last_statement`; PostgreSQL delivers a NOTIFY at COMMIT anyway)."""
    await last_statement(session, select(notice(point_id=point_id, ticket_id=ticket_id, change=change)), {})


PointRenderer = Callable[[int], Awaitable[list[Message]]]


def render_after_commit(session: AsyncSession, point_id: int, render: PointRenderer) -> None:
    """Ask `renders` for the point's messages (its board) once the session's transaction commits."""
    session.sync_session.info.setdefault(PENDING_RENDERS, {})[point_id] = render


class Renders:
    """Reads and publishes a point's board after committed changes: one read at a time per point,
    and one more after it when changes came during it (they share it); reads of one point start at
    least `interval` apart (a busy office's board is thousands of rows: 8 counters calling many
    times a second must not spend the process on boards). A change waits at most `interval` plus
    one read for its board; the call itself goes out at COMMIT."""

    def __init__(self, interval: float = BOARD_INTERVAL) -> None:
        self.interval = interval
        self._running: dict[int, asyncio.Task[None]] = {}
        self._again: set[int] = set()
        self._last: dict[int, float] = {}

    def request(self, point_id: int, render: PointRenderer) -> None:
        if point_id in self._running:
            self._again.add(point_id)
            return
        self._running[point_id] = asyncio.get_running_loop().create_task(self._run(point_id, render), name=f"rekam-board-{point_id}")

    async def _run(self, point_id: int, render: PointRenderer) -> None:
        try:
            while True:
                pause = self._last.get(point_id, -math.inf) + self.interval - time.monotonic()
                if pause > 0:
                    await asyncio.sleep(pause)
                self._again.discard(point_id)
                self._last[point_id] = time.monotonic()
                try:
                    broker.publish(await render(point_id))
                except Exception as exc:
                    log.warning("queue_board_render_failed", error_class=type(exc).__name__)
                if point_id not in self._again:
                    return
        finally:
            self._running.pop(point_id, None)

    async def idle(self) -> None:
        """Wait until every requested read is published (tests)."""
        while self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)


renders = Renders()


@event.listens_for(Session, "after_commit")
def _publish_pending(session: Session) -> None:
    messages = session.info.pop(PENDING, None)
    if messages:
        broker.publish(messages)
    for point_id, render in (session.info.pop(PENDING_RENDERS, None) or {}).items():
        renders.request(point_id, render)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(PENDING, None)
    session.info.pop(PENDING_RENDERS, None)


# --- snapshot on connect ---------------------------------------------------------------------

_snapshots: dict[Any, tuple[int, float, Message]] = {}
_reading: dict[Any, tuple[int, asyncio.Future[Message | None]]] = {}


async def snapshot(key: Any, read: Callable[[], Awaitable[Message]]) -> Message:
    """The snapshot message for `key` (a board), read once per write generation (see the module's docstring).

    Call it after subscribing: what changes after the read reaches the subscriber as an event."""
    current, now = fastpath.generation.of_reads[BOARDS], time.monotonic()
    kept = _snapshots.get(key)
    if kept is not None and kept[0] == current and kept[1] > now:
        return kept[2]
    pending = _reading.get(key)
    if pending is not None and pending[0] == current:
        shared = await asyncio.shield(pending[1])
        if shared is not None:
            return shared  # read under this generation: nothing written since this stream subscribed
    future: asyncio.Future[Message | None] = asyncio.get_running_loop().create_future()
    _reading[key] = (current, future)
    message: Message | None = None
    try:
        message = stamp(await read())
    finally:
        if _reading.get(key, (0, None))[1] is future:
            del _reading[key]
        future.set_result(message)  # None on failure: whoever waits reads for itself
    if fastpath.generation.of_reads[BOARDS] == current:
        if len(_snapshots) >= SNAPSHOTS_KEPT:
            _snapshots.clear()
        _snapshots[key] = (current, now + get_settings().public_read_cache_seconds, message)
    return message


# --- PostgreSQL: one listener per process ---------------------------------------------------

Renderer = Callable[[dict[str, Any]], Awaitable[list[Message]]]


class Listener:
    """LISTENs on CHANNEL over a dedicated connection and feeds the broker; reconnects on failure."""

    def __init__(self, libpq_url: str, render: Renderer) -> None:
        self.url = libpq_url
        self.render = render
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="rekam-queue-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        import psycopg

        connected_before = False
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    if connected_before:
                        # Changes may have gone by while we were away: make every board reload.
                        broker.close_all()
                    connected_before = True
                    self.ready.set()
                    async for notice in connection.notifies():
                        await self._dispatch(notice.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.ready.clear()
                log.warning("queue_listener_reconnect", error_class=type(exc).__name__)
                await asyncio.sleep(1.0)

    async def _dispatch(self, payload: str) -> None:
        try:
            ids = json.loads(payload)
            # Another process changed a queue: the boards this process keeps (api/fastpath.py) are old.
            fastpath.bump(fastpath.QUEUES)
            # Every process hears every change; rendering a board nobody here watches would cost a
            # few queries per change per process for nothing. A stream opened after this skip
            # reads the board itself, after subscribing, so it misses nothing.
            if broker.watches(int(ids["p"])):
                broker.publish(await self.render(ids))
        except Exception as exc:
            log.warning("queue_notice_failed", error_class=type(exc).__name__)


# --- Server-Sent Events ---------------------------------------------------------------------


# The last few messages' text: one published message goes to every stream of the process (5,000
# residents watching one board), so it is serialized once, not once per stream.
_FORMATTED: dict[int, tuple[Message, str]] = {}


def format_event(message: Message) -> str:
    kept = _FORMATTED.get(id(message))
    if kept is not None and kept[0] is message:
        return kept[1]
    data = json.dumps(message["data"], default=str, separators=(",", ":"))
    text = f"id: {stamp(message)['id']}\nevent: {message['event']}\ndata: {data}\n\n"
    if len(_FORMATTED) >= 256:
        _FORMATTED.clear()
    _FORMATTED[id(message)] = (message, text)
    return text


async def stream(subscriber: Subscriber, initial: list[Message]) -> AsyncIterator[str]:
    """The current state first (on every connection, a reconnect with Last-Event-ID included), then
    every change, with a comment line as heartbeat."""
    heartbeat = get_settings().sse_heartbeat_seconds
    try:
        yield "retry: 3000\n\n"
        for first in initial:
            yield format_event(first)
        while True:
            try:
                if subscriber.queue.empty():
                    # asyncio.timeout, not wait_for: no task per wait (thousands of streams wait at once).
                    async with asyncio.timeout(heartbeat):
                        message = await subscriber.queue.get()
                else:
                    message = subscriber.queue.get_nowait()
            except TimeoutError:
                yield ": heartbeat\n\n"
                continue
            if message is None:
                return
            # What else is already queued goes out in the same chunk: one write through the ASGI
            # stack per stream instead of one per event (a call and its board, 5,000 streams).
            text = format_event(message)
            while not subscriber.queue.empty():
                more = subscriber.queue.get_nowait()
                if more is None:
                    yield text
                    return
                text += format_event(more)
            yield text
    finally:
        broker.unsubscribe(subscriber)


def start_listener(database_url: str, render: Renderer) -> Listener | None:
    """A running listener when the database is PostgreSQL; None otherwise (one process, no need)."""
    url = async_url(database_url)
    if url.get_backend_name() != "postgresql":
        return None
    listener = Listener(url.set(drivername="postgresql").render_as_string(hide_password=False), render)
    listener.start()
    return listener
