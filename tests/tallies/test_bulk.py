"""Bulk lookups of an import (`api.tallies.bulk.Bulk`), on both backends."""

from sqlalchemy.ext.asyncio import AsyncSession

from api.tallies.bulk import Bulk
from tests.wire import counted_engine

KELURAHAN = ["36.74.01.1001", "36.74.01.1002", "36.74.02.1001"]


async def test_the_areas_among_thousands_of_codes_are_found(session) -> None:
    # A first batch names thousands of codes: SQLite asks for them in chunks, PostgreSQL at once.
    unknown = [f"36.74.99.{n:04d}" for n in range(1, 2000)]
    assert await Bulk(session).existing_areas([*unknown[:1000], *KELURAHAN, *unknown[1000:]]) == set(KELURAHAN)
    assert await Bulk(session).existing_areas(unknown[:5]) == set()


async def test_statements_sent_ahead_go_before_the_next_one_and_hand_over_their_rows(session) -> None:
    """`send_ahead`: sent before the next statement `rows` sends (on PostgreSQL in its round trip),
    in order, each one's rows handed to its `then`; `flush_ahead` sends what still waits."""
    bulk = Bulk(session)
    heard: list[list[object]] = []

    async def then(rows: list[object]) -> None:
        heard.append([tuple(row) for row in rows])

    code = bulk.sql("SELECT code FROM areas WHERE code = ?", [KELURAHAN[0]])
    bulk.send_ahead(bulk.sql("UPDATE areas SET name = ? WHERE code = ?", ["Ahead", KELURAHAN[0]]))
    bulk.send_ahead(bulk.sql("SELECT name FROM areas WHERE code = ?", [KELURAHAN[0]]), then)
    assert heard == []  # nothing is sent yet
    assert [tuple(row) for row in await bulk.rows(code)] == [(KELURAHAN[0],)]
    assert heard == [[("Ahead",)]]
    bulk.send_ahead(bulk.sql("SELECT name FROM areas WHERE code = ?", [KELURAHAN[1]]), then)
    await bulk.flush_ahead()
    await bulk.flush_ahead()  # nothing waits: nothing is sent
    assert len(heard) == 2 and heard[1][0][0] != "Ahead"


async def test_statements_sent_ahead_share_the_round_trip_of_the_next_one(pg_migrated_url: str) -> None:
    """Counted on the wire (tests/wire.py): what waits (`send_ahead`) and the next statement are one round trip."""
    async with counted_engine(pg_migrated_url) as (relay, engine), AsyncSession(engine) as session:
        bulk = Bulk(session)
        await bulk.rows(bulk.sql("SELECT 1", []))  # the transaction has begun
        bulk.send_ahead(bulk.sql("SELECT 2", []))
        bulk.send_ahead(bulk.sql("SELECT 3", []))
        before = relay.trips
        assert [tuple(row) for row in await bulk.rows(bulk.sql("SELECT 4", []))] == [(4,)]
        assert relay.trips - before == 1
