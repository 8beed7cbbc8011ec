"""The session dependency: one transaction per request, and SQLite's write lock taken up front by
every request that may write, whether its method says so (POST, ...) or its endpoint declares it
(a GET that audits a read of personal data: `WRITES`)."""

import asyncio
import contextlib
import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Column, Integer, MetaData, Table, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api import fastpath
from api.db import (
    WRITES,
    SessionDep,
    commit,
    create_engine_for,
    get_engine,
    get_sessionmaker,
    hold_last_writes,
    in_one_trip,
    is_postgresql,
    last_statement,
    last_step,
    sqlite_write_intent,
)
from api.errors import install_error_handlers
from tests.wire import counted_engine

# The GET endpoints that write an audit entry (staff reads of personal data), count a wrong
# receipt or tracking code, or make the server's push key on first use: each must declare it.
WRITING_GETS = {
    "/api/v1/home-visits/track/{code}",
    "/api/v1/notifications/push-key",
    "/api/v1/tickets/{ticket_id}",
    "/api/v1/operators/{operator_id}",
    "/api/v1/home-visits/{visit_id}",
    "/api/v1/mobile-kits/{device_id}/day-plan",
    "/api/v1/complaints/track/{receipt}",
}


async def test_the_gets_that_write_declare_it(sqlite_file: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Asked of the real app, as each request is routed: only the GETs that write say they may."""
    from api import db
    from api.main import create_app

    decided: dict[str, bool] = {}
    decide = db.request_writes

    def recording(request):
        decided[request.scope["route"].path] = decide(request)
        return decided[request.scope["route"].path]

    monkeypatch.setattr(db, "request_writes", recording)
    app = create_app()
    gets = [route for route in app.openapi()["paths"].items() if "get" in route[1]]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for path, _ in gets:
            await client.get(_concrete(path))
    await get_engine().dispose()
    writing = {path if path.startswith("/api/v1") else "/api/v1" + path for path, writes in decided.items() if writes}
    assert writing == WRITING_GETS
    assert len(decided) > 30  # every GET that uses the database was asked


def _concrete(path: str) -> str:
    """A path with each {parameter} filled in with something its type accepts."""
    return re.sub(r"\{([a-z_]+)\}", lambda m: "1" if m.group(1).endswith("_id") else "36.74" if m.group(1) == "code" else "X1", path)


@pytest.fixture
def sqlite_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app's own engine and sessions (not the tests' shared one) on a fresh SQLite file."""
    from api.config import get_settings

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'intent.db'}")
    for cached in (get_settings, get_engine, get_sessionmaker):
        cached.cache_clear()
    yield str(tmp_path / "intent.db")
    for cached in (get_settings, get_engine, get_sessionmaker):
        cached.cache_clear()


def reading_then_writing_app() -> tuple[FastAPI, dict[str, list[bool]]]:
    """Endpoints that read, wait until the other request has read too (at most a second), then write:
    the pattern of an audited read."""
    app = FastAPI()
    install_error_handlers(app)
    seen: dict[str, list[bool]] = {"intent": []}
    both_read = asyncio.Event()
    readers = [0]

    async def read_then_write(session: SessionDep) -> dict[str, int]:
        seen["intent"].append(sqlite_write_intent.get())
        await session.execute(text("SELECT count(*) FROM reads"))
        readers[0] += 1
        if readers[0] == 2:
            both_read.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(both_read.wait(), timeout=1)
        await session.execute(text("INSERT INTO reads (at) VALUES (CURRENT_TIMESTAMP)"))
        return {"ok": 1}

    app.get("/declared", dependencies=[WRITES])(read_then_write)
    app.get("/undeclared")(read_then_write)
    app.post("/posted")(read_then_write)
    return app, seen


async def twice_at_once(app: FastAPI, method: str, path: str) -> list[int]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        responses = await asyncio.gather(client.request(method, path), client.request(method, path))
    return sorted(r.status_code for r in responses)


async def prepare(path: str) -> None:
    async with get_engine().begin() as connection:
        await connection.execute(text("CREATE TABLE IF NOT EXISTS reads (id INTEGER PRIMARY KEY, at TEXT)"))


async def test_a_get_that_declares_writes_takes_the_write_lock_first(sqlite_file: str) -> None:
    await prepare(sqlite_file)
    app, seen = reading_then_writing_app()
    assert await twice_at_once(app, "GET", "/declared") == [200, 200]
    assert await twice_at_once(app, "POST", "/posted") == [200, 200]
    assert seen["intent"] == [True] * 4
    await get_engine().dispose()


async def test_an_undeclared_get_that_writes_is_refused_by_sqlite(sqlite_file: str) -> None:
    """Why the declaration matters: two reads that then write collide ("database is locked", 503)."""
    await prepare(sqlite_file)
    app, seen = reading_then_writing_app()
    assert await twice_at_once(app, "GET", "/undeclared") == [200, 503]
    assert seen["intent"] == [False, False]
    await get_engine().dispose()


async def test_a_last_statement_goes_with_the_commit_and_fails_with_it(engine: AsyncEngine) -> None:
    """A request's last step and last statement (`last_step`, `last_statement`: changes of the day's
    hot rows) wait for the COMMIT on PostgreSQL, the step first, the statement sent with the
    COMMIT; inside a savepoint, and on SQLite, they run at once. If one fails, nothing of the
    transaction stays."""
    maker = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
    insert, stored = text("INSERT INTO probe_last_statement (n) VALUES (:n)"), text("SELECT n FROM probe_last_statement ORDER BY n")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE probe_last_statement (n INTEGER NOT NULL)"))
    try:
        async with maker() as session:
            hold_last_writes(session)
            await last_statement(session, insert, {"n": 1})

            async def step(session: AsyncSession) -> None:  # sees what came before it, not the last statement
                await session.execute(insert, {"n": 10 + len(list(await session.scalars(stored)))})

            await last_step(session, step)
            async with session.begin_nested():
                await last_statement(session, insert, {"n": 2})
            assert list(await session.scalars(stored)) == ([2] if is_postgresql(session) else [1, 2, 11])
            await commit(session)
        async with maker() as session:  # a transaction whose writes are its last statements
            hold_last_writes(session)
            probe = Table("probe_last_statement", MetaData(), Column("n", Integer))
            for n in (4, 5):  # one shape, compiled once: each sends its own value
                await last_statement(session, probe.insert().values(n=n), {})
            for doomed in ([4, 6], [5, 7, 8]):  # one shape with IN lists of their own values and lengths
                await last_statement(session, probe.delete().where(probe.c.n.in_(doomed)), {})
            for n in (4, 5):
                await last_statement(session, probe.insert().values(n=n), {})
            seen = fastpath.generation.value
            await commit(session)
            assert fastpath.generation.value > seen  # public answers kept before it are stale now
        async with maker() as session:
            assert list(await session.scalars(stored)) == [1, 2, 4, 5, 11]
            hold_last_writes(session)
            await session.execute(insert, {"n": 3})
            with pytest.raises(DBAPIError):
                await last_statement(session, insert, {"n": None})
                await commit(session)
            await session.rollback()
            assert list(await session.scalars(stored)) == [1, 2, 4, 5, 11]
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("DROP TABLE probe_last_statement"))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_read_on_postgresql_runs_without_a_transaction_block(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read's statements each run alone (no BEGIN, no COMMIT: two round trips fewer); a request
    that may write runs in one transaction. Told by whether the second statement's transaction
    started with it."""
    from api.config import get_settings

    monkeypatch.setenv("DATABASE_URL", database_url)
    for cached in (get_settings, get_engine, get_sessionmaker):
        cached.cache_clear()
    app = FastAPI()

    async def alone(session: SessionDep) -> bool:
        await session.execute(text("SELECT pg_sleep(0.01)"))
        return bool(await session.scalar(text("SELECT transaction_timestamp() = statement_timestamp()")))

    app.get("/read")(alone)
    app.get("/declared", dependencies=[WRITES])(alone)
    app.post("/posted")(alone)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answers = {path: (await client.request("GET" if path != "/posted" else "POST", path)).json() for path in ("/read", "/declared", "/posted")}
        assert answers == {"/read": True, "/declared": False, "/posted": False}
    finally:
        await get_engine().dispose()
        for cached in (get_settings, get_engine, get_sessionmaker):
            cached.cache_clear()


async def test_a_read_in_the_trip_of_a_lock_sees_what_committed_while_it_waited(engine: AsyncEngine) -> None:
    """`in_one_trip`: statements pipelined in one round trip still run one by one, each with its
    own snapshot, so a read sent with a lock reads after the lock is held (how a writer reads a
    campaign's policy under the campaign's lock). On SQLite they simply run in turn."""
    maker = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
    read = text("SELECT n FROM probe_in_one_trip")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE probe_in_one_trip (n INTEGER NOT NULL)"))
        await connection.execute(text("INSERT INTO probe_in_one_trip (n) VALUES (1)"))
    try:
        if not is_postgresql(AsyncSession(engine)):
            async with maker() as session:
                assert await in_one_trip(session, read, read) == [[(1,)], [(1,)]]
            return
        lock = text("SELECT pg_advisory_xact_lock(:namespace, :id)").bindparams(namespace=7, id=7)
        shared = text("SELECT pg_advisory_xact_lock_shared(:namespace, :id)").bindparams(namespace=7, id=7)
        async with maker() as holder, maker() as reader:
            await holder.execute(lock)
            await holder.execute(text("UPDATE probe_in_one_trip SET n = 2"))
            waiting = asyncio.create_task(in_one_trip(reader, shared, read))
            await asyncio.sleep(0.3)
            assert not waiting.done()  # the shared lock waits for the holder
            await holder.commit()
            assert (await asyncio.wait_for(waiting, 10))[1] == [(2,)]  # not 1: read once the lock was held
            await reader.rollback()
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("DROP TABLE probe_in_one_trip"))


async def test_a_transaction_begins_in_the_round_trip_of_its_first_statement(pg_migrated_url: str) -> None:
    """Counted on the wire: a transaction's BEGIN goes with its first statement (`api.db._Connection`),
    whether SQLAlchemy sends it or `in_one_trip` does with others, and the statement runs inside
    the transaction (a rollback undoes it). A first statement that fails raises as before and the
    connection is fit for the next transaction."""
    insert = text("INSERT INTO probe_begin (n) VALUES (:n)")
    count = text("SELECT count(*) FROM probe_begin")
    async with counted_engine(pg_migrated_url, probe_begin="n INTEGER PRIMARY KEY") as (relay, engine):
        maker = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        async with maker() as session:
            before = relay.trips
            await session.execute(insert, {"n": 1})
            assert relay.trips - before == 1
            await session.rollback()
            before = relay.trips
            assert await in_one_trip(session, insert.bindparams(n=1), count) == [[], [(1,)]]
            assert relay.trips - before == 1
            await session.rollback()
            assert await session.scalar(count) == 0  # both rolled back: each ran in its transaction
            await session.execute(insert, {"n": 1})
            await session.commit()
        async with maker() as session:
            with pytest.raises(IntegrityError):
                await session.execute(insert, {"n": 1})
            await session.rollback()
            assert await session.scalar(count) == 1


async def test_what_is_sent_together_is_one_round_trip_on_the_wire(pg_migrated_url: str) -> None:
    """Counted on the wire (tests/wire.py): a transaction's last statements and its COMMIT are one
    round trip (`commit`), and so are statements sent by `in_one_trip`, writes among them; the
    public answers' caches hear of those writes when they are sent and when the transaction ends
    (`api.fastpath`), as they do of the engine's own statements."""
    probe = text("INSERT INTO probe_trips (n) VALUES (:n)")
    async with counted_engine(pg_migrated_url, probe_trips="n INTEGER NOT NULL") as (relay, engine):
        maker = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        async with maker() as session:
            hold_last_writes(session)
            await session.execute(text("SELECT 1"))  # the transaction's BEGIN and this one (one round trip)
            before, progress = relay.trips, fastpath.generation.of_reads["progress"]
            written = await in_one_trip(
                session, probe.bindparams(n=1), text("UPDATE tally_totals SET total = total WHERE false"), text("SELECT count(*) FROM probe_trips")
            )
            assert (relay.trips - before, written) == (1, [[], [], [(1,)]])
            assert fastpath.generation.of_reads["progress"] > progress  # tally_totals: what progress reads
            await last_statement(session, probe, {"n": 2})
            await last_statement(session, probe, {"n": 3})
            before, progress = relay.trips, fastpath.generation.of_reads["progress"]
            await commit(session)
            assert relay.trips - before == 1
            assert fastpath.generation.of_reads["progress"] > progress  # again, as the transaction ended
        async with maker() as session:
            assert (await session.execute(text("SELECT sum(n) FROM probe_trips"))).scalar_one() == 6


def test_the_pool_keeps_as_many_connections_as_the_settings_say(pg_cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL: each process keeps `REKAM_DATABASE_POOL_SIZE` connections and opens up to
    `REKAM_DATABASE_POOL_OVERFLOW` more at a peak; below the requests in flight, every request past
    the pool connected anew (bench/bench_load.py counts the connections opened during its mix)."""
    from api.config import get_settings

    monkeypatch.setenv("REKAM_DATABASE_POOL_SIZE", "7")
    monkeypatch.setenv("REKAM_DATABASE_POOL_OVERFLOW", "3")
    get_settings.cache_clear()
    try:
        pool = create_engine_for(pg_cluster.url).sync_engine.pool
        assert (pool.size(), pool._max_overflow) == (7, 3)  # type: ignore[attr-defined]  # QueuePool's own
    finally:
        get_settings.cache_clear()
