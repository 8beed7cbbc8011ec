"""Bulk lookups of an import (`api.tallies.bulk.Bulk`), on both backends."""

from api.tallies.bulk import Bulk

KELURAHAN = ["36.74.01.1001", "36.74.01.1002", "36.74.02.1001"]


async def test_the_areas_among_thousands_of_codes_are_found(session) -> None:
    # A first batch names thousands of codes: SQLite asks for them in chunks, PostgreSQL at once.
    unknown = [f"36.74.99.{n:04d}" for n in range(1, 2000)]
    assert await Bulk(session).existing_areas([*unknown[:1000], *KELURAHAN, *unknown[1000:]]) == set(KELURAHAN)
    assert await Bulk(session).existing_areas(unknown[:5]) == set()
