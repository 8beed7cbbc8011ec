"""The fast path of public reads: answers kept for a moment per process, served without routing,
dependencies or a database round trip, as long as the process knows nothing changed.

Why: a request that reaches an endpoint costs several round trips to the database driver's thread
(aiosqlite: connect, cursor, execute, fetch, close, commit), each a hand-over of the GIL, and the
full FastAPI stack; a public dashboard asks the same question thousands of times a minute.

What is kept: the 200 answers of a few public GET endpoints (PUBLIC_READS: health, progress,
schedule, service points, queue boards), by path, query and whether the client accepts gzip, for at
most `seconds` (1 s), and only while the process's write generation of their kind is the one they
were computed under. Each kind (progress, queue boards, service points and schedule) has its own
generation, which moves with the writes that change what that kind reads (`_NOT_READ`, the
tables named in the write's statement: `written_tables`): a resident taking a number ends the
kept boards, not the kept progress. A generation moves before every statement that may write,
when a transaction that wrote commits, and when its connection goes back to the pool (after
COMMIT), in any engine of the process (SQLAlchemy events below), and when the queue listener
hears of another process's change (PostgreSQL NOTIFY: the boards'). So in one process (SQLite, or
one worker) a read after a write always sees the write; with several processes an answer may lag
another process's write by at most `seconds` (queue boards: not even that on PostgreSQL).
Progress is public for 15 s anyway (api/caching.py).

Never kept or served from here: requests with credentials (Authorization, X-API-Key, Cookie),
requests asking to revalidate (`Cache-Control: no-cache`, as the SPA does for signed-in staff),
anything but GET, any answer but a whole 200. A matching If-None-Match gets 304 from the kept ETag.
"""

import re
import time
from collections import OrderedDict
from typing import Any, cast

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.caching import matches
from api.config import API_PREFIX

PUBLIC_READS = re.compile(
    "^"
    + re.escape(API_PREFIX)
    + r"/(?:(?P<health>health)|(?P<services>schedule|service-points)|(?P<boards>queues|service-points/\d+/queue)|(?P<progress>campaigns/\d+/progress(?:/daily|\.csv)?))$"
)
_BYPASS = (b"authorization", b"x-api-key", b"cookie")
_DML = re.compile(r"\b(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
_READS = ("SELECT", "BEGIN", "COMMIT", "PRAGMA", "SAVEPOINT", "RELEASE", "SHOW", "SET ")


# What each kind of public read does NOT read: a write that changes only such tables leaves its
# kept answers good. Listed by what is not read, so that a table forgotten here costs a cache
# miss, never an old answer. `campaigns.versions`: an UPDATE of campaigns that sets only its
# version columns (`api.campaigns.versions`, moved by every tally write; progress reads them).
_PRIVATE = frozenset(
    {
        "access_tokens", "api_keys", "audit_entries", "complaint_entries", "complaint_reporters", "complaint_sanctions", "complaints",
        "idempotency_records", "notification_events", "notification_keys", "rate_counters", "resident_contacts", "resident_messages",
        "server_secrets", "tally_changes", "tally_imports", "users", "webhook_deliveries", "webhook_subscriptions",
    }
)  # fmt: skip
_TALLIES = frozenset({"tallies", "tally_rollups", "tally_totals", "tally_policies", "snapshots", "targets", "campaigns.versions"})
QUEUES = frozenset({"tickets", "queue_days", "appointments"})
ANY = "*"  # a write whose tables are not known: every kind of read
_NOT_READ: dict[str, frozenset[str] | None] = {
    "health": None,  # the database's answer and schema revision, no table's rows: kept for `seconds` only
    "progress": _PRIVATE | QUEUES,
    "boards": _PRIVATE | _TALLIES,
    "services": _PRIVATE | _TALLIES | QUEUES,
}
_VERSION_COLUMNS = frozenset({"data_version", "history_version", "history_since", "history_areas", "milestone"})
_WRITTEN = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(\w+)", re.IGNORECASE)
_NOT_TABLES = frozenset({"set", "skip", "nowait", "of"})  # DO UPDATE SET, FOR UPDATE SKIP LOCKED / NOWAIT / OF
_CAMPAIGN_SET = re.compile(r"\bUPDATE\s+campaigns\s+SET\s+(.*?)\s+WHERE\b", re.IGNORECASE | re.DOTALL)


class _Generation:
    """`value` moves with every write the process hears of; `of_reads[kind]` only with those that
    change what that kind of public read reads (`_NOT_READ`)."""

    value = 0
    of_reads: dict[str, int] = dict.fromkeys(_NOT_READ, 0)


generation = _Generation()
WROTE = "rekam_wrote"


def written_tables(statement: str) -> frozenset[str]:
    """The tables a write statement changes (`ANY` among them when that is not clear)."""
    names = {name.lower() for name in _WRITTEN.findall(statement)} - _NOT_TABLES
    if not names:
        # A queue's change told to the other processes (api/queues/live.py); ROLLBACK TO SAVEPOINT, DDL ...
        return QUEUES if "pg_notify" in statement else frozenset({ANY})
    if "campaigns" in names:
        sets = _CAMPAIGN_SET.search(statement)
        if sets is not None and {c.lower() for c in re.findall(r"(\w+)\s*=", sets.group(1))} <= _VERSION_COLUMNS:
            names = (names - {"campaigns"}) | {"campaigns.versions"}
    return frozenset(names)


def bump(tables: frozenset[str] = frozenset({ANY})) -> None:
    generation.value += 1
    every = ANY in tables
    for kind, not_read in _NOT_READ.items():
        if not_read is not None and (every or not tables <= not_read):
            generation.of_reads[kind] += 1


def may_write(statement: str) -> bool:
    """Whether a statement may change data (a false yes only costs a cache miss)."""
    head = statement.lstrip()[:10].upper()
    if head.startswith(_READS):
        return "pg_notify" in statement
    if head.startswith("WITH"):
        return _DML.search(statement) is not None
    return True


def before_statement(info: dict[Any, Any], statement: str) -> None:
    """Hear of a statement about to run on a connection (`info`: its pool record's): one that may
    write moves the generations now, and again when its transaction ends (`WROTE`)."""
    if may_write(statement):
        tables = written_tables(statement)
        info[WROTE] = info.get(WROTE, frozenset()) | tables
        bump(tables)


@event.listens_for(Engine, "before_cursor_execute")
def _before_execute(conn: Any, _cursor: Any, statement: str, _parameters: Any, _context: Any, _executemany: bool) -> None:
    before_statement(conn.info, statement)


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _on_end(conn: Any) -> None:
    if conn.invalidated:
        # The server went away and the connection's `info` with it (reading it would raise): what
        # it wrote is not known, so every kind of read is made again.
        bump()
        return
    tables = conn.info.get(WROTE)
    if tables:
        bump(tables)


@event.listens_for(Engine, "rollback_savepoint")
def _on_rollback_savepoint(_conn: Any, _name: Any, _context: Any) -> None:
    bump()


@event.listens_for(Pool, "checkin")
def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
    tables = record.info.pop(WROTE, None) if record is not None else None
    if tables:
        bump(tables)


class PublicReadCache:
    """Pure ASGI: innermost of the app's own middleware (inside CORS and the request context)."""

    def __init__(self, app: ASGIApp, *, seconds: float = 1.0, max_entries: int = 512) -> None:
        self.app = app
        self.seconds = seconds
        self.max_entries = max_entries
        # key -> (generation, expires, route, headers, body, etag)
        self._items: OrderedDict[tuple[str, bytes, bool], tuple[int, float, Any, list[tuple[bytes, bytes]], bytes, str | None]] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        public = PUBLIC_READS.match(scope["path"]) if scope["type"] == "http" and scope["method"] == "GET" and self.seconds > 0 else None
        if public is None:
            await self.app(scope, receive, send)
            return
        kind = cast(str, public.lastgroup)
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
        current = generation.of_reads
        if entry is not None and entry[0] == current[kind] and entry[1] > now:
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
        await self._fill(scope, receive, send, key, kind, now)

    async def _fill(self, scope: Scope, receive: Receive, send: Send, key: tuple[str, bytes, bool], kind: str, now: float) -> None:
        started_generation = generation.of_reads[kind]
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
        if not keep or not start or generation.of_reads[kind] != started_generation:
            return  # something wrote while this answer was made: it may predate the write
        headers = [(bytes(n), bytes(v)) for n, v in start.get("headers", [])]
        etag = next((v.decode("latin-1") for n, v in headers if n.lower() == b"etag"), None)
        self._items[key] = (started_generation, now + self.seconds, scope.get("route"), headers, b"".join(chunks), etag)
        self._items.move_to_end(key)
        while len(self._items) > self.max_entries:
            self._items.popitem(last=False)
