"""Engine, sessions and the declarative base.

One transaction per request: `get_session` commits when the endpoint returned normally and rolls
back on any error. Services only `flush()`. On PostgreSQL, a request that does not write runs its
statements without a transaction block (no BEGIN, no COMMIT), and one that writes may leave the
changes of rows that every writer of a day changes for last (`last_step`, `last_statement`: the
latter sent with the COMMIT), so that their locks are held as briefly as possible.
"""

import asyncio
import collections
import contextlib
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path as FilePath
from typing import Annotated, Any, NamedTuple, Self, TypeVar

import psycopg
from fastapi import Depends, Path, Request
from psycopg.pq import PipelineStatus, TransactionStatus
from sqlalchemy import DateTime, Executable, MetaData, String, TypeDecorator, event, inspect, make_url, update
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection, AsyncAdapt_aiosqlite_cursor, AsyncAdapt_aiosqlite_dbapi
from sqlalchemy.engine import URL, Result
from sqlalchemy.exc import DBAPIError, InvalidatePoolError, ResourceClosedError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.util import EMPTY_DICT, LRUCache

from api import fastpath
from api.config import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Area codes are compared as byte strings ("36.74.01" < "36.74.01." < "36.74.01/") so that a
# subtree is one index range scan. PostgreSQL's default locale collations ignore punctuation,
# which would break that ordering, hence the "C" collation there; SQLite already compares bytes.
AreaCode = String(40).with_variant(String(40, collation="C"), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """A moment in time, always timezone-aware in Python and stored as UTC.

    SQLite has no time zones and hands back naive values; read as UTC, they come back aware, so
    every API answer carries an offset (RFC 3339) whichever database is underneath.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use datetime.now(UTC)")
        return value.astimezone(UTC) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def async_url(url: str) -> URL:
    """Accept the plain forms people type (sqlite:///x.db, postgresql://...) and pick async drivers."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def sync_url(url: str) -> URL:
    parsed = async_url(url)
    if parsed.drivername == "sqlite+aiosqlite":
        return parsed.set(drivername="sqlite+pysqlite")
    return parsed


# A request that may write takes SQLite's write lock when its transaction begins. Taken later, on
# the first write after a read, SQLite refuses at once ("database is locked") instead of waiting
# for the other writer, because waiting could deadlock; taken first, it simply waits its turn.
# Whether a request may write is declared, not guessed: every method but GET, HEAD and OPTIONS
# writes; a read that writes (an audited read of personal data) says so with `WRITES`.
sqlite_write_intent: ContextVar[bool] = ContextVar("sqlite_write_intent", default=False)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def declare_writes() -> None:
    """Marks an endpoint whose safe method (GET) writes nonetheless; see `WRITES`."""


# Put on a GET endpoint that writes (an audited read): `@router.get(..., dependencies=[WRITES])`.
# Its request then takes SQLite's write lock up front like any POST (see `request_writes`).
WRITES = Depends(declare_writes)


def request_writes(request: Request) -> bool:
    """May this request write: a method other than GET, HEAD, OPTIONS, or an endpoint declaring `WRITES`."""
    if request.method not in READ_METHODS:
        return True
    route = request.scope.get("route")
    return any(getattr(depends, "dependency", None) is declare_writes for depends in getattr(route, "dependencies", ()))


def configure_sqlite(engine: Any, busy_timeout_ms: int) -> None:
    """WAL, foreign keys and a busy timeout on every connection, and real transactions.

    The sqlite3 module's own transaction handling skips BEGIN before SELECTs and breaks SAVEPOINT;
    taking it over (isolation_level=None, explicit BEGIN) is SQLAlchemy's documented recipe.
    """
    sync_engine = getattr(engine, "sync_engine", engine)

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA cache_size=-16384")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if sqlite_write_intent.get() else "BEGIN")


class _OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """An aiosqlite cursor that runs a statement in one hand-over to the connection's thread.

    SQLAlchemy's aiosqlite cursor makes four (cursor, execute, fetchall, close), each a trip to the
    driver's thread and back through the event loop; on a busy machine every trip waits for the
    scheduler (issue #22: most of a call-next's time). Here the thread makes the cursor, executes,
    fetches every row and closes in one go, and hands back the rows, description, rowcount and
    lastrowid. Errors are the driver's own (sqlite3's), handled as before. Server-side cursors
    (`stream()`) keep SQLAlchemy's own class.
    """

    __slots__ = ("_description", "_rowcount", "_lastrowid")

    def __init__(self, adapt_connection: Any) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass

    async def _async_soft_close(self) -> None:
        return None

    def close(self) -> None:
        self._rows.clear()

    @staticmethod
    def _run(connection: Any, operation: Any, parameters: Any, many: bool) -> tuple[Any, Any, int, Any]:
        if not many and operation.lstrip()[:16].upper().startswith(("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE")):
            connection.execute(operation)
            _holding_write_lock.add(id(connection))
            return None, None, -1, None
        cursor = connection.cursor()
        try:
            if many:
                cursor.executemany(operation, parameters)
            elif parameters is None:
                cursor.execute(operation)
            else:
                cursor.execute(operation, parameters)
            description = cursor.description
            rows = cursor.fetchall() if description else None
            return description, rows, cursor.rowcount, cursor.lastrowid
        finally:
            cursor.close()

    async def _one_trip(self, operation: Any, parameters: Any, many: bool) -> None:
        async with self._adapt_connection._execute_mutex:
            driver = self._connection
            raw = driver._conn
            if not many and _never_waits(raw, operation):
                result = self._run(raw, operation, parameters, False)
            else:
                result = await driver._execute(self._run, raw, operation, parameters, many)
            self._description, rows, self._rowcount, self._lastrowid = result
            self._rows = collections.deque(rows or ())

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        await self._one_trip(operation, parameters, False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        await self._one_trip(operation, seq_of_parameters, True)


# Connections (by id) whose open transaction began with BEGIN IMMEDIATE: they hold SQLite's write lock.
_holding_write_lock: set[int] = set()
_READ_HEADS = ("SELECT", "WITH", "PRAGMA", "SAVEPOINT", "RELEASE", "ROLLBACK")


def _never_waits(raw: sqlite3.Connection, operation: str) -> bool:
    """Whether a statement can run on the event loop's thread: it cannot wait for SQLite's lock.

    In WAL mode readers never wait; BEGIN (deferred) takes no lock; a transaction begun with
    BEGIN IMMEDIATE already holds the write lock, so its writes and COMMIT never wait. Everything
    else (BEGIN IMMEDIATE itself, a write in a deferred transaction, executemany batches) goes to
    the driver's thread, where waiting for the lock (the busy timeout) blocks nobody else.
    Running the rest inline saves two thread hand-overs per statement: on a loaded machine each
    waits for the scheduler, and they were most of a call-next's time (issue #22).
    """
    head = operation.lstrip()[:16].upper()
    if head.startswith("BEGIN"):
        if "IMMEDIATE" in head or "EXCLUSIVE" in head:
            return False
        _holding_write_lock.discard(id(raw))
        return True
    if head.startswith(_READ_HEADS) and not head.startswith("WITH"):
        return True
    return raw.in_transaction and id(raw) in _holding_write_lock


class _OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = _OneTripCursor

    def commit(self) -> None:
        raw = self._connection._connection  # None once closed
        if raw is not None and (not raw.in_transaction or id(raw) in _holding_write_lock):
            _holding_write_lock.discard(id(raw))
            try:
                raw.commit()  # holds the write lock already, or nothing to write: never waits
            except Exception as error:
                self._handle_exception(error)
            return
        super().commit()

    def rollback(self) -> None:
        raw = self._connection._connection  # None once closed
        if raw is not None:
            _holding_write_lock.discard(id(raw))
            try:
                raw.rollback()  # never waits
            except Exception as error:
                self._handle_exception(error)
            return
        super().rollback()


class _OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        connection = super().connect(*arg, **kw)
        connection.__class__ = _OneTripConnection
        return connection


def ensure_sqlite_directory(url: URL) -> None:
    """SQLite creates the file but not its folder (`var/` on a fresh clone)."""
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        FilePath(url.database).parent.mkdir(parents=True, exist_ok=True)


# A pooled connection is pinged before use only when it has sat in the pool this long. A server
# restart or a dropped socket happens while connections sit idle; a connection handed back moments
# ago was alive then. SQLAlchemy's `pool_pre_ping` pings at every checkout: one more round trip for
# every request, and under load each round trip waits for a turn of a busy event loop (issue #22).
# A connection that dies in use still fails its request, and SQLAlchemy then renews the whole pool.
IDLE_BEFORE_PING_SECONDS = 5.0
_RETURNED_AT = "rekam_returned_at"


def _ping_idle_connections(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        # `info` lives as long as the driver's connection: a fresh one has no mark and needs no ping.
        returned = record.info.get(_RETURNED_AT)
        if returned is None or time.monotonic() - returned < IDLE_BEFORE_PING_SECONDS:
            return
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
        except Exception as exc:
            # As `pool_pre_ping`: the server has likely restarted, so every pooled connection is renewed.
            raise InvalidatePoolError("a pooled connection did not answer its ping") from exc


class _Connection(psycopg.AsyncConnection[Any]):
    """psycopg's connection, but a transaction's BEGIN goes with its first statement, in one round
    trip. psycopg sends BEGIN and waits for its answer before the first statement, even in pipeline
    mode: a round trip of its own for every transaction that writes, and under load each one waits
    for a turn of a busy event loop (issue #22). Here, in pipeline mode, BEGIN is queued before the
    statement and answered with it; outside pipeline mode a transaction's first statement runs in a
    pipeline of its own (`_Cursor`). A failed BEGIN would fail that statement, as it fails it now.
    `_start_query` is psycopg's own step (not public): the round-trip tests of `api.db` would show
    a release that changed it."""

    def _start_query(self) -> Any:
        if self._pipeline is None or self.autocommit or self.pgconn.transaction_status != TransactionStatus.IDLE:
            return (yield from super()._start_query())
        yield from self._exec_command(self._get_tx_start_command())  # queued in the pipeline, no Sync


class _Cursor(psycopg.AsyncCursor[Any]):
    async def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: bool | None = None) -> Self:
        conn = self.connection
        if conn.autocommit or conn.pgconn.transaction_status != TransactionStatus.IDLE or conn.pgconn.pipeline_status != PipelineStatus.OFF:
            return await super().execute(query, params, prepare=prepare, binary=binary)
        async with conn.pipeline():  # BEGIN and the statement (`_Connection`); its results are the cursor's after the pipeline
            await super().execute(query, params, prepare=prepare, binary=binary)
        return self


def create_engine_for(url: str) -> AsyncEngine:
    settings = get_settings()
    parsed = async_url(url)
    if parsed.get_backend_name() == "sqlite":
        ensure_sqlite_directory(parsed)
        import aiosqlite

        dbapi = _OneTripDBAPI(aiosqlite, sqlite3)
        engine = create_async_engine(parsed, module=dbapi, connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000, "check_same_thread": False})
        configure_sqlite(engine, settings.sqlite_busy_timeout_ms)
        return engine
    engine = create_async_engine(
        parsed,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_overflow,
        connect_args={"async_creator_fn": _Connection.connect, "cursor_factory": _Cursor},
    )
    _ping_idle_connections(engine)
    return engine


@lru_cache
def get_engine() -> AsyncEngine:
    return create_engine_for(get_settings().database_url)


@lru_cache
def get_sessionmaker() -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(get_engine(), expire_on_commit=False, autoflush=False)


# SQLite: the requests of this process that may write take their turn here, in arrival order, before
# BEGIN IMMEDIATE. Without it they wait in SQLite's busy handler, which sleeps (1, 2, 5 ... 100 ms)
# between tries, so the write lock stood idle most of the time while 8 counters called at once
# (issue #22: 5 call-next/s). Other processes and sessions outside requests still meet SQLite's
# lock and its busy timeout as before.
_sqlite_writers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]" = weakref.WeakKeyDictionary()


def _sqlite_writer_turn() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _sqlite_writers.get(loop)
    if lock is None:
        lock = _sqlite_writers[loop] = asyncio.Lock()
    return lock


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    writes = request_writes(request)
    sqlite_write_intent.set(writes)
    sessions = get_sessionmaker()
    one_writer = writes and get_engine().dialect.name == "sqlite"
    async with _sqlite_writer_turn() if one_writer else contextlib.nullcontext(), sessions() as session:
        if not writes and is_postgresql(session):
            # A read needs no transaction block (each statement sees its own snapshot under READ
            # COMMITTED anyway), and without it there is no BEGIN and no COMMIT: two round trips of
            # a public read's three or four. What a read writes on the side (an API key's
            # `last_used_at`) is one statement, atomic alone.
            await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        hold_last_writes(session)
        try:
            yield session
            await commit(session)
        except BaseException as exc:
            if getattr(exc, "keep_changes", False):
                await commit(session)
            else:
                await session.rollback()
            raise


@dataclass
class _LastWrites:
    """What a request's transaction does last, in this order (`commit`): steps, then statements."""

    steps: list[Callable[[AsyncSession], Awaitable[None]]] = field(default_factory=list)
    statements: list[tuple[Executable, dict[str, Any]]] = field(default_factory=list)


LAST_WRITES = "rekam.last_writes"


def hold_last_writes(session: AsyncSession) -> None:
    """PostgreSQL: this session's `last_step`s and `last_statement`s wait for `commit`. For the
    owner of a transaction that ends with `commit` (a request)."""
    if is_postgresql(session):
        session.info[LAST_WRITES] = _LastWrites()


def _held(session: AsyncSession) -> _LastWrites | None:
    # Inside a savepoint nothing waits: the savepoint's rollback must undo it.
    return None if session.in_nested_transaction() else session.info.get(LAST_WRITES)


def holds_last_writes(session: AsyncSession) -> bool:
    """Whether a `last_statement` now waits for the COMMIT (else it runs at once)."""
    return _held(session) is not None


async def last_step(session: AsyncSession, step: Callable[[AsyncSession], Awaitable[None]]) -> None:
    """Run `step(session)` after the rest of the transaction's work, before its last statements:
    for writes of rows that every writer of a day changes (a campaign's rollups), whose locks are
    held until COMMIT, so that nothing else of the request (its answer, what it stores for a
    retry) is done while they are held. Runs at once where the session does not hold it
    (`hold_last_writes`)."""
    held = _held(session)
    if held is None:
        await step(session)
    else:
        held.steps.append(step)


async def last_statement(session: AsyncSession, statement: Executable, params: dict[str, Any]) -> None:
    """Run `statement` as the transaction's last: as `last_step`, and more: under load every await
    between a change of the day's hot rows and the COMMIT holds their locks for a turn of the event
    loop, and the next writer waits that long; sent with the COMMIT in one round trip (`commit`),
    they are held only while the server executes both. Runs at once where the session does not
    hold it (`hold_last_writes`)."""
    held = _held(session)
    if held is None:
        await session.execute(statement, params)
    else:
        held.statements.append((statement, params))


async def last_update(session: AsyncSession, row: Any, **values: Any) -> None:
    """Set columns of a mapped `row` by the transaction's last statement (`last_statement`): for a
    request's own bookkeeping row completed at its end (an import's record, an idempotency record),
    a round trip fewer. The row in the session shows the values as stored."""
    state = inspect(row)
    table = state.mapper.local_table
    key = [column == value for column, value in zip(state.mapper.primary_key, state.identity, strict=True)]
    for name, value in values.items():
        set_committed_value(row, name, value)
    await last_statement(session, update(table).where(*key).values(**values), {})


_Row = TypeVar("_Row")


def add_as_stored(session: AsyncSession, row: _Row) -> _Row:
    """Put a row its own statement just wrote (an INSERT ... RETURNING, not the session's flush) into
    the session as stored: known by its key, so that later changes are UPDATEs. Give it every
    column: one not given would be loaded on first use, a round trip. Answers the row."""
    make_transient_to_detached(row)
    session.add(row)
    return row


async def driver_connection(session: AsyncSession) -> Any:
    """The driver's own connection under the session's (psycopg's on PostgreSQL), for what
    SQLAlchemy does not do: COPY, pipeline mode. What runs on it bypasses SQLAlchemy's events."""
    connection = await session.connection()
    return (await connection.get_raw_connection()).driver_connection


# Compiled last statements by their shape (SQLAlchemy's cache key: the statement without its
# values), as SQLAlchemy's own execution keeps them: compiling a request's few last statements
# anew each time cost a write about 1 ms of CPU each.
_COMPILED: LRUCache[Any, Any] = LRUCache(256)  # (dialect, shape, parameter names) -> SQLCompiler


def _driver_form(statement: Executable, params: dict[str, Any], dialect: Any) -> tuple[str, dict[str, Any]]:
    """The SQL and the values of `statement` as SQLAlchemy would send them to the driver (a JSON
    column's text, a time's UTC form, an IN list's values as parameters of their own).
    `_generate_cache_key`, `construct_params`' extracted values and the expansion of IN lists
    (`_process_parameters_for_postcompile`) are how SQLAlchemy's own execution does it; it has no
    public way for a statement sent on the driver's connection (pipeline mode)."""
    cache_key = statement._generate_cache_key()  # type: ignore[attr-defined]  # every Executable SQLAlchemy makes has it
    key = None if cache_key is None else (dialect.name, cache_key.key, tuple(sorted(params)))
    compiled = None if key is None else _COMPILED.get(key)
    if compiled is None:
        compiled = statement.compile(dialect=dialect, column_keys=sorted(params), cache_key=cache_key)  # type: ignore[attr-defined]  # as above
        if key is not None:
            _COMPILED[key] = compiled
    values = compiled.construct_params(params, extracted_parameters=None if cache_key is None else cache_key.bindparams, _no_postcompile=True)
    expanded = compiled._process_parameters_for_postcompile(values)
    processors = {**compiled._bind_processors, **expanded.processors}  # the latter: an IN list's values, by their expanded names
    return expanded.statement, {name: processors[name](value) if name in processors else value for name, value in expanded.parameters.items()}


class DriverSQL(NamedTuple):
    """A statement in the driver's own form (`?` placeholders on SQLite, `%s` on PostgreSQL) and
    its values, for `in_one_trip`: statements written for the driver (`api.tallies.bulk`). `many`
    (SQLite): `values` is a tuple of parameter tuples, one execution each."""

    sql: str
    values: tuple[Any, ...]
    many: bool = False


async def in_one_trip(session: AsyncSession, *statements: Executable | DriverSQL, params: dict[str, Any] | None = None) -> list[list[Any]]:
    """Run statements one after the other in one round trip (PostgreSQL's pipeline mode; on SQLite
    in turn) and answer each one's rows (none for one that returns none), with `params` the
    values of their parameters (each takes those it has; a `DriverSQL` has its own). Each still
    runs alone: a read after a lock sees what committed before the lock was held. Under load
    every round trip of a write waits for a turn of the event loop."""
    values = params or {}
    if not is_postgresql(session):
        answers: list[list[Any]] = []
        for statement in statements:
            result: Result[Any]
            if isinstance(statement, DriverSQL):
                result = await (await session.connection()).exec_driver_sql(statement.sql, list(statement.values) if statement.many else statement.values)
            else:
                result = await session.execute(statement, values)
            try:
                answers.append(list(result.all()))
            except ResourceClosedError:  # a statement that returns no rows
                answers.append([])
        return answers
    await session.flush()  # as SQLAlchemy's own execution would (autoflush)
    driver = await driver_connection(session)
    info = (await session.connection()).info  # the pool record's, as the engine's events see it
    dialect = session.get_bind().dialect
    with _as_sqlalchemy_raises(dialect):
        cursors = []
        async with driver.pipeline():
            for statement in statements:
                driver_values: Any
                if isinstance(statement, DriverSQL):
                    assert not statement.many, "one execution per statement in a pipeline"
                    sql, driver_values = statement.sql, statement.values
                else:
                    sql, driver_values = _driver_form(statement, values, dialect)
                fastpath.before_statement(info, sql)  # the engine's events do not see it
                cursors.append(await driver.execute(sql, driver_values))
        return [list(await cursor.fetchall()) if cursor.description else [] for cursor in cursors]


@contextlib.contextmanager
def _as_sqlalchemy_raises(dialect: Any) -> Iterator[None]:
    """The driver's errors, from statements sent on its own connection, raised as SQLAlchemy raises
    them (an IntegrityError: 409)."""
    try:
        yield
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(None, None, exc, dialect.loaded_dbapi.Error, dialect=dialect) from exc


async def commit(session: AsyncSession) -> None:
    """Commit the session's transaction: the steps waiting for it (`last_step`), then its last
    statements (`last_statement`) sent with the COMMIT, in one round trip (PostgreSQL's pipeline
    mode), after every other change."""
    held = session.info.get(LAST_WRITES)
    while held and held.steps:  # still held: a step's own `last_statement`s go with the COMMIT too
        await held.steps.pop(0)(session)
    session.info.pop(LAST_WRITES, None)
    if held and held.statements:
        await session.flush()
        driver = await driver_connection(session)
        assert driver is not None  # the connection is open: the transaction runs on it
        dialect = session.get_bind().dialect
        written: frozenset[str] = frozenset()
        with _as_sqlalchemy_raises(dialect):
            async with driver.pipeline():
                for statement, params in held.statements:
                    sql, values = _driver_form(statement, params, dialect)
                    written |= fastpath.written_tables(sql)
                    await driver.execute(sql, values)
                # COMMIT as one more statement of the pipeline, not the driver's `commit()`: that
                # waits for its own Sync, and leaving the pipeline waits for another, two round
                # trips for one. The driver reads the transaction's end from the server's status.
                await driver.execute("COMMIT", prepare=False)
        fastpath.bump(written)  # it hears of writes through SQLAlchemy's events, which these bypassed
    await session.commit()  # what is left of it: the session's bookkeeping (the server's transaction has ended)


# scope="function" makes FastAPI run the commit before the response is sent, so a failed commit
# becomes an error response instead of a 2xx for a change that was never stored.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def is_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def upsert_statement(session_or_dialect: Any, table: Any, *, keys: list[str], update: list[str]) -> Any:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET update=excluded.update, for SQLite and PostgreSQL."""
    name = session_or_dialect if isinstance(session_or_dialect, str) else session_or_dialect.get_bind().dialect.name
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if name == "postgresql" else sqlite.insert
    stmt = insert(table)
    if not update:
        return stmt.on_conflict_do_nothing(index_elements=keys)
    return stmt.on_conflict_do_update(index_elements=keys, set_={col: stmt.excluded[col] for col in update})


# Integer primary keys as path parameters: bounded so that an absurd id is a 422, not an
# overflow inside the database driver.
MAX_ID = 2**31 - 1
IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Numeric id.")]
