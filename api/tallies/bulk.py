"""Bulk statements for tally imports: one statement per table and batch, no per-row ORM or
SQLAlchemy parameter processing.

- SQLite: the driver's `executemany` (values already in SQLite's storage form: dates as ISO text,
  moments as SQLAlchemy's UTC text).
- PostgreSQL: `COPY` for plain inserts, arrays `unnest`ed into one `UPDATE ... FROM` or
  `INSERT ... ON CONFLICT` for the rest (one round trip per batch, not per row).
"""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, text
from sqlalchemy.ext.asyncio import AsyncSession


class Bulk:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect
        self.pg = self.dialect.name == "postgresql"
        self._days: dict[date, Any] = {}

    # Values in the form the driver stores without SQLAlchemy's help.
    def day(self, value: date) -> Any:
        if self.pg:
            return value
        found = self._days.get(value)
        if found is None:
            found = self._days[value] = value.isoformat()
        return found

    def moment(self, column: Column[Any], value: datetime) -> Any:
        processor = column.type.dialect_impl(self.dialect).bind_processor(self.dialect)
        return processor(value) if processor else value

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """Rows of a query written with `?` placeholders, as the driver returns them (on SQLite,
        dates come back as ISO text: compare them with `day()` values)."""
        if self.pg:
            sql = sql.replace("?", "%s")
        connection = await self.session.connection()
        return list(await connection.exec_driver_sql(sql, tuple(params)))

    def among(self, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """A `column <fragment>` membership test and its parameters: `IN (?, ...)` on SQLite, one
        array `= ANY(?)` on PostgreSQL (one parameter, and a plan that searches the index per value)."""
        if self.pg:
            return "= ANY(?)", [list(values)]
        return f"IN ({', '.join('?' * len(values))})", list(values)

    async def fetch_areas(self, columns: str, table: str, codes: Sequence[str], where: str, params: Sequence[Any]) -> list[Any]:
        """`SELECT columns FROM table WHERE area_code IN codes AND where` (codes: a chunk of a batch)."""
        among, values = self.among(codes)
        return await self.fetch(f"SELECT {columns} FROM {table} WHERE area_code {among} AND {where}", [*values, *params])

    async def insert(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        names = ", ".join(columns)
        connection = await self.session.connection()
        if self.pg:
            raw = (await connection.get_raw_connection()).driver_connection
            async with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:  # type: ignore[union-attr]
                for row in rows:
                    await copy.write_row(row)
            return
        marks = ", ".join("?" * len(columns))
        await connection.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)

    async def update_tallies(self, rows: list[tuple[int, str, int]], *, import_id: int | None, at: datetime) -> None:
        """(id, source, count) rows: set count and source, and the import and time of the change."""
        if not rows:
            return
        if self.pg:
            await self.session.execute(
                text(
                    "UPDATE tallies AS t SET count = s.count, source = s.source, import_id = :import_id, updated_at = :at "
                    "FROM unnest(CAST(:ids AS INTEGER[]), CAST(:sources AS VARCHAR[]), CAST(:counts AS INTEGER[])) AS s(id, source, count) WHERE t.id = s.id"
                ),
                {"ids": [r[0] for r in rows], "sources": [r[1] for r in rows], "counts": [r[2] for r in rows], "import_id": import_id, "at": at},
            )
            return
        from api.tallies.models import Tally

        stamp = self.moment(Tally.__table__.c.updated_at, at)
        connection = await self.session.connection()
        await connection.exec_driver_sql(
            "UPDATE tallies SET source = ?, count = ?, import_id = ?, updated_at = ? WHERE id = ?", [(s, c, import_id, stamp, i) for i, s, c in rows]
        )

    async def delete_tallies(self, ids: list[int]) -> None:
        if not ids:
            return
        if self.pg:
            await self.session.execute(text("DELETE FROM tallies WHERE id = ANY(CAST(:ids AS INTEGER[]))"), {"ids": ids})
            return
        connection = await self.session.connection()
        await connection.exec_driver_sql("DELETE FROM tallies WHERE id = ?", [(i,) for i in ids])

    async def upsert_rollups(self, campaign_id: int, rows: list[tuple[str, date, int, int, int, int]]) -> None:
        """(area, day, own, own_rows, below, total) rows of one campaign."""
        if not rows:
            return
        conflict = "ON CONFLICT (campaign_id, area_code, day) DO UPDATE SET own = excluded.own, own_rows = excluded.own_rows, below = excluded.below, total = excluded.total"
        if self.pg:
            columns = list(zip(*rows, strict=True))
            await self.session.execute(
                text(
                    "INSERT INTO tally_rollups (campaign_id, area_code, day, own, own_rows, below, total) SELECT :campaign_id, s.* FROM unnest("
                    "CAST(:codes AS VARCHAR[]), CAST(:days AS DATE[]), CAST(:own AS INTEGER[]), CAST(:own_rows AS INTEGER[]), CAST(:below AS INTEGER[]), CAST(:total AS INTEGER[])"
                    f") AS s {conflict}"
                ),
                {"campaign_id": campaign_id, "codes": list(columns[0]), "days": list(columns[1]), "own": list(columns[2]), "own_rows": list(columns[3]), "below": list(columns[4]), "total": list(columns[5])},
            )
            return
        connection = await self.session.connection()
        await connection.exec_driver_sql(
            f"INSERT INTO tally_rollups (campaign_id, area_code, day, own, own_rows, below, total) VALUES (?, ?, ?, ?, ?, ?, ?) {conflict}",
            [(campaign_id, code, self.day(day), own, own_rows, below, total) for code, day, own, own_rows, below, total in rows],
        )

    async def upsert_totals(self, campaign_id: int, rows: list[tuple[str, int, date | None]]) -> None:
        """(area, total, last day) rows of one campaign."""
        if not rows:
            return
        conflict = "ON CONFLICT (campaign_id, area_code) DO UPDATE SET total = excluded.total, last_day = excluded.last_day"
        if self.pg:
            await self.session.execute(
                text(
                    "INSERT INTO tally_totals (campaign_id, area_code, total, last_day) SELECT :campaign_id, s.* FROM unnest("
                    f"CAST(:codes AS VARCHAR[]), CAST(:totals AS INTEGER[]), CAST(:days AS DATE[])) AS s {conflict}"
                ),
                {"campaign_id": campaign_id, "codes": [r[0] for r in rows], "totals": [r[1] for r in rows], "days": [r[2] for r in rows]},
            )
            return
        connection = await self.session.connection()
        await connection.exec_driver_sql(
            f"INSERT INTO tally_totals (campaign_id, area_code, total, last_day) VALUES (?, ?, ?, ?) {conflict}",
            [(campaign_id, code, total, None if day is None else self.day(day)) for code, total, day in rows],
        )
