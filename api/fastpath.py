"""The fast path of public reads: answers kept for a moment per process, served without routing,
dependencies or a database round trip, as long as the process knows nothing changed.

Why: a request that reaches an endpoint costs several round trips to the database driver's thread
(aiosqlite: connect, cursor, execute, fetch, close, commit), each a hand-over of the GIL, and the
full FastAPI stack; a public dashboard asks the same question thousands of times a minute.

What is kept: the 200 answers of a few public GET endpoints (PUBLIC_READS: health, progress,
schedule, service points, queue boards), by path, query and whether the client accepts gzip, for at most `seconds` (1 s), and only
while the process's write generation is the one they were computed under. The generation changes
before every statement that may write, when a transaction that wrote commits, and when its
connection goes back to the pool (after COMMIT), in any engine of the process (SQLAlchemy events
below), and when the queue listener hears of another process's change (PostgreSQL NOTIFY). So in
one process (SQLite, or one worker) a read after a write always sees the write; with several
processes an answer may lag another process's write by at most `seconds` (queue boards: not even
that on PostgreSQL). Progress is public for 15 s anyway (api/caching.py).

Never kept or served from here: requests with credentials (Authorization, X-API-Key, Cookie),
requests asking to revalidate (`Cache-Control: no-cache`, as the SPA does for signed-in staff),
anything but GET, any answer but a whole 200. A matching If-None-Match gets 304 from the kept ETag.
"""

import re
import time
from collections import OrderedDict
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.caching import matches
from api.config import API_PREFIX

PUBLIC_READS = re.compile(
    "^" + re.escape(API_PREFIX) + r"/(health|schedule|service-points|queues|campaigns/\d+/progress(/daily|\.csv)?|service-points/\d+/queue)$"
)
_BYPASS = (b"authorization", b"x-api-key", b"cookie")
_DML = re.compile(r"\b(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
_READS = ("SELECT", "BEGIN", "COMMIT", "PRAGMA", "SAVEPOINT", "RELEASE", "SHOW", "SET ")


class _Generation:
    value = 0


generation = _Generation()
WROTE = "rekam_wrote"


def bump() -> None:
    generation.value += 1


def _is_write(statement: str) -> bool:
    """Whether a statement may change data (a false yes only costs a cache miss)."""
    head = statement.lstrip()[:10].upper()
    if head.startswith(_READS):
        return "pg_notify" in statement
    if head.startswith("WITH"):
        return _DML.search(statement) is not None
    return True


@event.listens_for(Engine, "before_cursor_execute")
def _before_execute(conn: Any, _cursor: Any, statement: str, _parameters: Any, _context: Any, _executemany: bool) -> None:
    if _is_write(statement):
        conn.info[WROTE] = True
        bump()


@event.listens_for(Engine, "commit")
def _on_commit(conn: Any) -> None:
    if conn.info.get(WROTE):
        bump()


@event.listens_for(Engine, "rollback")
def _on_rollback(conn: Any) -> None:
    if conn.info.get(WROTE):
        bump()


@event.listens_for(Engine, "rollback_savepoint")
def _on_rollback_savepoint(_conn: Any, _name: Any, _context: Any) -> None:
    bump()


@event.listens_for(Pool, "checkin")
def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
    if record is not None and record.info.pop(WROTE, None):
        bump()


class PublicReadCache:
    """Pure ASGI: innermost of the app's own middleware (inside CORS and the request context)."""

    def __init__(self, app: ASGIApp, *, seconds: float = 1.0, max_entries: int = 512) -> None:
        self.app = app
        self.seconds = seconds
        self.max_entries = max_entries
        # key -> (generation, expires, route, headers, body, etag)
        self._items: OrderedDict[tuple[str, bytes, bool], tuple[int, float, Any, list[tuple[bytes, bytes]], bytes, str | None]] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or self.seconds <= 0 or not PUBLIC_READS.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        if_none_match = None
        gzip = False
        for name, value in scope["headers"]:
            if name in _BYPASS or (name == b"cache-control" and b"no-cache" in value) or name == b"pragma":
                await self.app(scope, receive, send)
                return
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
            elif name == b"accept-encoding":
                gzip = b"gzip" in value
        # Answers kept gzipped by the endpoint (api/caching.py `versioned`) are one per encoding.
        key = (scope["path"], scope.get("query_string", b""), gzip)
        now = time.monotonic()
        entry = self._items.get(key)
        if entry is not None and entry[0] == generation.value and entry[1] > now:
            _, _, route, headers, body, etag = entry
            scope["route"] = route  # for the request's log line and metrics
            if etag is not None and matches(if_none_match, etag):
                kept = [(n, v) for n, v in headers if n in (b"etag", b"cache-control")]
                await send({"type": "http.response.start", "status": 304, "headers": kept})
                await send({"type": "http.response.body", "body": b""})
                return
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self._fill(scope, receive, send, key, generation.value, now)

    async def _fill(self, scope: Scope, receive: Receive, send: Send, key: tuple[str, bytes, bool], started_generation: int, now: float) -> None:
        start: dict[str, Any] = {}
        chunks: list[bytes] = []
        keep = True

        async def capture(message: Message) -> None:
            nonlocal keep
            if message["type"] == "http.response.start":
                start.update(message)
                keep = message["status"] == 200
            elif message["type"] == "http.response.body" and keep:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    keep = False  # a stream (SSE) is never kept
            await send(message)

        await self.app(scope, receive, capture)
        if not keep or not start or generation.value != started_generation:
            return  # something wrote while this answer was made: it may predate the write
        headers = [(bytes(n), bytes(v)) for n, v in start.get("headers", [])]
        etag = next((v.decode("latin-1") for n, v in headers if n.lower() == b"etag"), None)
        self._items[key] = (started_generation, now + self.seconds, scope.get("route"), headers, b"".join(chunks), etag)
        self._items.move_to_end(key)
        while len(self._items) > self.max_entries:
            self._items.popitem(last=False)
