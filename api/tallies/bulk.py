"""Bulk statements for tally imports: one statement per table and batch, no per-row ORM or
SQLAlchemy parameter processing, and no per-row round trip between Python and the database.

- SQLite: a batch travels as ONE JSON text parameter that `json_each` turns into rows inside
  SQLite (`INSERT ... SELECT ... FROM json_each(?)`, lookups as a join of `json_each` with the
  table's unique index). The driver binds one value instead of one per cell, and the statement
  runs in one step with the GIL released. Values are in SQLite's storage form: dates as ISO
  text, moments as SQLAlchemy's UTC text. The JSON is written by hand: every value in it is a
  checked area code, an ISO date, an integer or one of the fixed sources, none of which needs
  escaping.
- PostgreSQL, an import: each batch is COPYed (one text block) into a temporary staging table,
  and the claim of its new tallies, the lookup of stored ones and the import's rollups are
  set-based statements joined on it (`Staging`): psycopg formats no array parameter value by
  value in Python, which had been a third of an import's time.
- PostgreSQL, other writes (a few rows each): `COPY` for plain inserts; arrays `unnest`ed into one
  join (lookups), `UPDATE ... FROM` or `INSERT ... ON CONFLICT` for the rest (one round trip per
  batch, not per row).
"""

from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import ColumnElement, TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from api.db import DriverSQL, driver_connection, holds_last_writes, in_one_trip, last_statement
from api.tallies.models import ORIGINS, Tally, origin_sql

TALLY_COLUMNS = (
    "campaign_id",
    "area_code",
    "day",
    "service_point_id",
    "device_id",
    "point_key",
    "device_key",
    "count",
    "source",
    "import_id",
    "updated_at",
    "origin_key",
)
# What a lookup of existing tallies answers, per found key: (position in the keys, id, count,
# source, import id, updated_at).
Found = tuple[int, int, int, str, int | None, Any]
# Keys per `IN (...)` list or lookup statement, by default.
IN_CHUNK = 500


def chunks(items: Iterable[Any], size: int = IN_CHUNK) -> Iterator[list[Any]]:
    """`items` in lists of at most `size`."""
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def as_date(value: Any) -> date | None:
    """A date as the driver returned it (SQLite: ISO text) as a date."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def array_text(values: Iterable[Any]) -> str:
    """A PostgreSQL array literal of values that need no quoting (checked area codes, ISO dates,
    integers, None): one text parameter that the server parses, instead of a list that psycopg
    dumps value by value in Python."""
    return "{" + ",".join("NULL" if value is None else str(value) for value in values) + "}"


def _json_value(value: Any) -> str:
    if value is None:
        return "null"
    if type(value) is int:
        return str(value)
    return f'"{value}"'


def _json_rows(rows: Sequence[Sequence[Any]]) -> str:
    return "[" + ",".join("[" + ",".join(map(_json_value, row)) + "]" for row in rows) + "]"


# The history's columns; those that are plain words, codes, dates and numbers go as array literals
# (`array_text`), the actor's name and the moment as lists the driver adapts.
_CHANGES_COLUMNS = (
    "campaign_id",
    "area_code",
    "day",
    "service_point_id",
    "device_id",
    "old_count",
    "new_count",
    "source",
    "at",
    "actor_kind",
    "actor_id",
    "actor_name",
    "import_id",
)
_CHANGES_AS_TEXT = ("areas", "days", "points", "devices", "old", "new", "sources", None, "kinds", "actor_ids", None, "imports")
CHANGES_AT_COMMIT = 1_000
_CHANGES = text(
    f"INSERT INTO tally_changes ({', '.join(_CHANGES_COLUMNS)}) SELECT :campaign_id, s.* FROM unnest("
    "CAST(CAST(:areas AS TEXT) AS VARCHAR[]), CAST(CAST(:days AS TEXT) AS DATE[]), CAST(CAST(:points AS TEXT) AS INTEGER[]), "
    "CAST(CAST(:devices AS TEXT) AS INTEGER[]), CAST(CAST(:old AS TEXT) AS INTEGER[]), CAST(CAST(:new AS TEXT) AS INTEGER[]), "
    "CAST(CAST(:sources AS TEXT) AS VARCHAR[]), CAST(:ats AS TIMESTAMPTZ[]), CAST(CAST(:kinds AS TEXT) AS VARCHAR[]), "
    "CAST(CAST(:actor_ids AS TEXT) AS INTEGER[]), CAST(:names AS VARCHAR[]), CAST(CAST(:imports AS TEXT) AS INTEGER[])) AS s"
)


_AREAS_FOUND = "SELECT a.code FROM unnest(CAST(CAST({codes} AS TEXT) AS VARCHAR[])) AS k(code) JOIN areas AS a ON a.code = k.code"


# What to do with the rows of a statement sent ahead (`Bulk.send_ahead`) once they are back.
Ahead = Callable[[list[Any]], Awaitable[None]]


class Bulk:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect
        self.pg = self.dialect.name == "postgresql"
        self._days: dict[date, Any] = {}
        self._ahead: list[tuple[DriverSQL, Ahead | None]] = []

    # Values in the form the driver stores without SQLAlchemy's help.
    def day(self, value: date) -> Any:
        if self.pg:
            return value
        found = self._days.get(value)
        if found is None:
            found = self._days[value] = value.isoformat()
        return found

    def moment(self, column: ColumnElement[Any], value: datetime) -> Any:
        processor = column.type.dialect_impl(self.dialect).bind_processor(self.dialect)
        return processor(value) if processor else value

    def sql(self, sql: str, params: Sequence[Any]) -> DriverSQL:
        """A statement written with `?` placeholders, in the driver's form."""
        return DriverSQL(sql.replace("?", "%s") if self.pg else sql, tuple(params))

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """Rows of a query written with `?` placeholders, as the driver returns them (on SQLite,
        dates come back as ISO text: compare them with `day()` values)."""
        return await self.rows(self.sql(sql, params))

    async def rows(self, statement: DriverSQL) -> list[Any]:
        """The rows a statement in the driver's form answers, as the driver returns them; the
        statements waiting to go with it (`send_ahead`) are sent before it, in its round trip."""
        if self._ahead:
            return (await self._send_ahead_with(statement))[0]
        connection = await self.session.connection()
        return cast(list[Any], (await connection.exec_driver_sql(statement.sql, statement.values)).all())  # Result.all() makes a list (typed Sequence)

    def send_ahead(self, statement: DriverSQL, then: "Ahead | None" = None) -> None:
        """Send `statement` before the next one `rows` sends, in its round trip, and give its rows
        to `then`: for what must be done before COMMIT but nothing needs before then (a one-step
        import's history, sent with its rollups). `flush_ahead` sends what is still waiting."""
        self._ahead.append((statement, then))

    async def flush_ahead(self) -> None:
        if self._ahead:
            await self._send_ahead_with(None)

    async def _send_ahead_with(self, statement: DriverSQL | None) -> list[list[Any]]:
        ahead, self._ahead = self._ahead, []
        answers = await in_one_trip(self.session, *(sent for sent, _ in ahead), *([statement] if statement is not None else []))
        for (_, then), answer in zip(ahead, answers, strict=False):
            if then is not None:
                await then(answer)
        return answers[len(ahead) :]

    def among(self, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """A `column <fragment>` membership test and its parameters: `IN (?, ...)` on SQLite, one
        array `= ANY(?)` on PostgreSQL (one parameter, and a plan that searches the index per value)."""
        if self.pg:
            return "= ANY(?)", [list(values)]
        return f"IN ({', '.join('?' * len(values))})", list(values)

    async def existing_areas(self, codes: Iterable[str]) -> set[str]:
        """The codes among `codes` (checked area codes: `api.area_codes.level_of`) that name an
        area, straight from the driver: a first batch names thousands. On PostgreSQL in one
        statement with the codes as one array literal (a list would be dumped value by value by
        psycopg, and each chunk of them would be one more round trip), joined: as `= ANY(...)` the
        array would be cast again for every area the planner scans."""
        if self.pg:
            return {code for (code,) in await self.fetch(_AREAS_FOUND.format(codes="?"), [array_text(codes)])}
        found: set[str] = set()
        for chunk in chunks(codes, 900):
            among, values = self.among(chunk)
            found.update(code for (code,) in await self.fetch(f"SELECT code FROM areas WHERE code {among}", values))
        return found

    @staticmethod
    def areas_read(codes: Iterable[str]) -> TextClause:
        """PostgreSQL: `existing_areas` as a statement (its rows: the codes found), for a caller
        that sends it with others (`api.db.in_one_trip`)."""
        return text(_AREAS_FOUND.format(codes=":codes")).bindparams(codes=array_text(codes))

    async def fetch_areas(self, columns: str, table: str, codes: Sequence[str], where: str, params: Sequence[Any]) -> list[Any]:
        """`SELECT columns FROM table WHERE area_code IN codes AND where` (codes: a chunk of a batch)."""
        among, values = self.among(codes)
        return await self.fetch(f"SELECT {columns} FROM {table} WHERE area_code {among} AND {where}", [*values, *params])

    async def execute(self, sql: str, params: Sequence[Any], *, many: bool = False) -> None:
        """One statement with `?` placeholders; `many`: `params` is a list of parameter tuples."""
        if self.pg:
            sql = sql.replace("?", "%s")
        connection = await self.session.connection()
        await connection.exec_driver_sql(sql, list(params) if many else tuple(params))

    def batch(self, rows: Sequence[Any], iso: dict[date, str]) -> Any:
        """The rows (objects with area, day, point, device, count, source) in the form the
        statements below take: on SQLite one JSON text, on PostgreSQL one list per column.
        `iso` maps each day of the rows to its ISO text."""
        if self.pg:
            return (
                [r.area for r in rows],
                [r.day for r in rows],
                [r.point or 0 for r in rows],
                [r.device or 0 for r in rows],
                [r.count for r in rows],
                [r.source for r in rows],
                [r.point for r in rows],
                [r.device for r in rows],
            )
        return (
            "["
            + ",".join(
                f'["{r.area}","{iso[r.day]}",0,0,{r.count},"{r.source}",null,null]'  # most rows: no point, no device
                if r.point is None and r.device is None
                else f'["{r.area}","{iso[r.day]}",{r.point or 0},{r.device or 0},{r.count},"{r.source}",{r.point or "null"},{r.device or "null"}]'
                for r in rows
            )
            + "]"
        )

    async def find_tallies(self, campaign_id: int, batch: Any, *, up_to: int | None = None) -> list[Found]:
        """The stored tallies with the keys of a `batch` (one index lookup per row, inside the
        database); with `up_to`, only those with an id up to it. On PostgreSQL each found tally
        is locked (`FOR UPDATE`, in the batch's order) until COMMIT: what was read is what the
        write changes, whatever other transactions do meanwhile."""
        return await self.rows(self.find_tallies_read(campaign_id, batch, up_to=up_to))

    def find_tallies_read(self, campaign_id: int, batch: Any, *, up_to: int | None = None) -> DriverSQL:
        """`find_tallies` as a statement, for a caller that sends it with others (`api.db.in_one_trip`)."""
        if self.pg:
            return self.sql(
                "SELECT k.i - 1, t.id, t.count, t.source, t.import_id, t.updated_at FROM unnest("
                "CAST(? AS VARCHAR[]), CAST(? AS DATE[]), CAST(? AS INTEGER[]), CAST(? AS INTEGER[]), CAST(? AS VARCHAR[])) WITH ORDINALITY AS k(area, day, pk, dk, src, i) "
                'JOIN tallies AS t ON t.campaign_id = ? AND t.area_code = k.area COLLATE "C" AND t.day = k.day AND t.point_key = k.pk AND t.device_key = k.dk '
                f"AND t.origin_key = {origin_sql('k.src')}" + ("" if up_to is None else " AND t.id <= ?") + " ORDER BY k.i FOR UPDATE OF t",
                [*batch[:4], batch[5], campaign_id] + ([] if up_to is None else [up_to]),
            )
        # CROSS JOIN keeps json_each outside: SQLite would otherwise loop over the campaign's tallies.
        return self.sql(
            "SELECT j.key, t.id, t.count, t.source, t.import_id, t.updated_at FROM json_each(?) AS j CROSS JOIN tallies AS t "
            "WHERE t.campaign_id = ? AND t.area_code = j.value->>0 AND t.day = j.value->>1 AND t.point_key = j.value->>2 AND t.device_key = j.value->>3 "
            f"AND t.origin_key = {origin_sql('j.value->>5')}" + ("" if up_to is None else " AND t.id <= ?"),
            [batch, campaign_id] + ([] if up_to is None else [up_to]),
        )

    async def insert_new_tallies(self, campaign_id: int, batch: Any, *, import_id: int | None, at: datetime) -> tuple[int, int]:
        """Insert the rows of a `batch` whose keys are not stored yet, in one statement (the
        unique index answers "is it new?" while inserting). Returns (rows inserted, the largest
        tally id before): the campaign's tallies with ids up to it are the ones that were
        stored. (Ids only grow; SQLite has one writer at a time. PostgreSQL uses `claim_new_tallies`.)"""
        largest = (await self.fetch("SELECT coalesce(max(id), 0) FROM tallies", []))[0][0]
        connection = await self.session.connection()
        conflict = "ON CONFLICT (campaign_id, area_code, day, point_key, device_key, origin_key) DO NOTHING"
        if self.pg:
            areas, days, point_keys, device_keys, counts, sources, points, devices = batch
            result = await connection.exec_driver_sql(
                f"INSERT INTO tallies ({', '.join(TALLY_COLUMNS)}) SELECT %s, s.*, %s, %s, {origin_sql('s.src')} FROM unnest(CAST(%s AS VARCHAR[]), "
                "CAST(%s AS DATE[]), CAST(%s AS INTEGER[]), CAST(%s AS INTEGER[]), CAST(%s AS INTEGER[]), CAST(%s AS INTEGER[]), CAST(%s AS INTEGER[]), "
                f"CAST(%s AS VARCHAR[])) AS s(area, day, sp, dv, pk, dk, n, src) {conflict}",
                (campaign_id, import_id, at, areas, days, points, devices, point_keys, device_keys, counts, sources),
            )
            return result.rowcount, largest
        result = await connection.exec_driver_sql(
            f"INSERT INTO tallies ({', '.join(TALLY_COLUMNS)}) SELECT ?, value->>0, value->>1, value->>6, value->>7, value->>2, value->>3, "
            f"value->>4, value->>5, ?, ?, {origin_sql('value->>5')} FROM json_each(?) WHERE true {conflict}",
            (campaign_id, import_id, self.moment(Tally.__table__.c.updated_at, at), batch),
        )
        return result.rowcount, largest

    def claim_new_tallies(self, campaign_id: int, batch: Any, *, import_id: int | None, at: datetime) -> DriverSQL:
        """PostgreSQL: the statement that inserts the rows of a `batch` whose keys are not stored
        (or being inserted by another transaction that then commits: `ON CONFLICT DO NOTHING`
        waits for it), and answers the keys it inserted (`positions` in the batch). Exact under
        concurrency, unlike the id bound of `insert_new_tallies`."""
        areas, days, point_keys, device_keys, counts, sources, points, devices = batch
        return DriverSQL(
            f"INSERT INTO tallies ({', '.join(TALLY_COLUMNS)}) SELECT %s, s.*, %s, %s, {origin_sql('s.src')} FROM unnest(CAST(%s AS VARCHAR[]), "
            "CAST(%s AS DATE[]), CAST(%s AS INTEGER[]), CAST(%s AS INTEGER[]), CAST(%s AS INTEGER[]), CAST(%s AS INTEGER[]), CAST(%s AS INTEGER[]), "
            "CAST(%s AS VARCHAR[])) AS s(area, day, sp, dv, pk, dk, n, src) "
            "ON CONFLICT (campaign_id, area_code, day, point_key, device_key, origin_key) DO NOTHING "
            "RETURNING area_code, day, point_key, device_key, origin_key",
            (campaign_id, import_id, at, areas, days, points, devices, point_keys, device_keys, counts, sources),
        )

    @staticmethod
    def positions(batch: Any, keys: list[Any]) -> set[int]:
        """The positions in a `batch` of tallies' keys as `claim_new_tallies` answers them."""
        areas, days, point_keys, device_keys, _, sources, _, _ = batch
        if len(keys) == len(areas):
            return set(range(len(areas)))
        origins = ORIGINS.get
        position = {key: i for i, key in enumerate(zip(areas, days, point_keys, device_keys, (origins(s, 0) for s in sources), strict=True))}
        return {position[tuple(key)] for key in keys}

    async def insert_tallies(self, campaign_id: int, batch: Any, *, import_id: int | None, at: datetime) -> None:
        """The rows of a `batch` as new tallies of one campaign."""
        if self.pg:
            areas, days, point_keys, device_keys, counts, sources, points, devices = batch
            if areas:
                await self.insert(
                    "tallies",
                    TALLY_COLUMNS,
                    [
                        (campaign_id, *row, import_id, at, ORIGINS.get(row[7], 0))
                        for row in zip(areas, days, points, devices, point_keys, device_keys, counts, sources, strict=True)
                    ],
                )
            return
        if batch == "[]":
            return
        await self.execute(
            f"INSERT INTO tallies ({', '.join(TALLY_COLUMNS)}) SELECT ?, value->>0, value->>1, value->>6, value->>7, value->>2, value->>3, "
            f"value->>4, value->>5, ?, ?, {origin_sql('value->>5')} FROM json_each(?)",
            [campaign_id, import_id, self.moment(Tally.__table__.c.updated_at, at), batch],
        )

    async def insert(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        names = ", ".join(columns)
        if self.pg:
            raw = await driver_connection(self.session)
            async with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    await copy.write_row(row)
            return
        marks = ", ".join("?" * len(columns))
        connection = await self.session.connection()
        await connection.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)

    async def insert_changes(self, rows: list[tuple[Any, ...]]) -> None:
        """History entries, as tuples in `_CHANGES`' column order, all of one campaign. On
        PostgreSQL in a request (`holds_last_writes`), up to CHANGES_AT_COMMIT of them go with the
        COMMIT as one statement: nothing in the request reads them, and a COPY costs two round trips
        (its start, then its data and end). More go by COPY at once."""
        if self.pg and rows and len(rows) <= CHANGES_AT_COMMIT and holds_last_writes(self.session):
            columns = list(zip(*rows, strict=True))
            params = {name: array_text(values) for name, values in zip(_CHANGES_AS_TEXT, columns[1:], strict=True) if name}
            await last_statement(self.session, _CHANGES, {"campaign_id": rows[0][0], "names": list(columns[11]), "ats": list(columns[8]), **params})
            return
        await self.insert("tally_changes", _CHANGES_COLUMNS, rows)

    def update_tallies(self, rows: list[tuple[int, str, int]], *, import_id: int | None, at: datetime) -> DriverSQL:
        """(id, source, count) rows: set count and source, and the import and time of the change."""
        if self.pg:
            return DriverSQL(
                "UPDATE tallies AS t SET count = s.count, source = s.source, import_id = %s, updated_at = %s "
                "FROM unnest(CAST(%s AS INTEGER[]), CAST(%s AS VARCHAR[]), CAST(%s AS INTEGER[])) AS s(id, source, count) WHERE t.id = s.id",
                (import_id, at, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]),
            )
        stamp = self.moment(Tally.__table__.c.updated_at, at)
        return DriverSQL(
            "UPDATE tallies SET source = ?, count = ?, import_id = ?, updated_at = ? WHERE id = ?",
            tuple((s, c, import_id, stamp, i) for i, s, c in rows),
            many=True,
        )

    def delete_tallies(self, ids: list[int]) -> DriverSQL:
        if self.pg:
            return DriverSQL("DELETE FROM tallies WHERE id = ANY(CAST(%s AS INTEGER[]))", (ids,))
        return DriverSQL("DELETE FROM tallies WHERE id = ?", tuple((i,) for i in ids), many=True)

    def unrecorded_creations(self, campaign_id: int, keys: Sequence[tuple[str, Any, int | None, int | None, int]]) -> DriverSQL:
        """The read of the (area, day, point, device, import id) keys that have no history entry
        written by that import, each with its position and the import's actor (kind, id, name):
        one statement, for a caller that sends it with others (`api.db.in_one_trip`)."""
        unrecorded = (
            "NOT EXISTS (SELECT 1 FROM tally_changes AS c WHERE c.campaign_id = ? AND c.area_code = {area} AND c.day = {day} "
            "AND c.service_point_id IS NOT DISTINCT FROM {point} AND c.device_id IS NOT DISTINCT FROM {device} AND c.import_id = {import_id})"
        )
        if self.pg:
            columns = list(zip(*keys, strict=True))
            return self.sql(
                "SELECT k.i - 1, ti.actor_kind, ti.actor_id, ti.actor_name FROM unnest(CAST(? AS VARCHAR[]), CAST(? AS DATE[]), CAST(? AS INTEGER[]), "
                "CAST(? AS INTEGER[]), CAST(? AS INTEGER[])) WITH ORDINALITY AS k(area, day, point, device, import_id, i) JOIN tally_imports AS ti ON ti.id = k.import_id "
                "WHERE " + unrecorded.format(area='k.area COLLATE "C"', day="k.day", point="k.point", device="k.device", import_id="k.import_id"),
                [*map(list, columns), campaign_id],
            )
        # CROSS JOIN keeps json_each outside (one look-up of the import per key).
        return self.sql(
            "SELECT j.key, ti.actor_kind, ti.actor_id, ti.actor_name FROM json_each(?) AS j CROSS JOIN tally_imports AS ti WHERE ti.id = j.value->>4 AND "
            + unrecorded.format(area="j.value->>0", day="j.value->>1", point="j.value->>2", device="j.value->>3", import_id="j.value->>4"),
            [_json_rows(keys), campaign_id],
        )

    def rollup_batch(self, rows: Sequence[tuple[str, Any, int, int, int, int, int]]) -> Any:
        """(area, day as `day()`, own, own_rows, below, op_own, op_below) deltas in the form the
        rollup statements take."""
        if self.pg:
            return tuple(map(list, zip(*rows, strict=True))) if rows else ([], [], [], [], [], [], [])
        return "[" + ",".join(f'["{c}","{d}",{o},{r},{b},{po},{pb}]' for c, d, o, r, b, po, pb in rows) + "]"

    async def find_rollups(self, campaign_id: int, batch: Any) -> list[tuple[int, int, int, int, int, int, int, int]]:
        """(position, own, own_rows, below, op_own, op_below, total, provisional) of the stored
        rollups among the keys of a `rollup_batch` (one primary key lookup per key, inside the
        database); on PostgreSQL locked (`FOR UPDATE`) in the batch's order until COMMIT."""
        if self.pg:
            return await self.fetch(
                "SELECT k.i - 1, r.own, r.own_rows, r.below, r.op_own, r.op_below, r.total, r.provisional FROM unnest(CAST(? AS VARCHAR[]), CAST(? AS DATE[])) "
                'WITH ORDINALITY AS k(area, day, i) JOIN tally_rollups AS r ON r.campaign_id = ? AND r.area_code = k.area COLLATE "C" AND r.day = k.day '
                "ORDER BY k.i FOR UPDATE OF r",  # locked in the batch's order (sorted by the caller) until COMMIT
                [batch[0], batch[1], campaign_id],
            )
        return await self.fetch(
            "SELECT j.key, r.own, r.own_rows, r.below, r.op_own, r.op_below, r.total, r.provisional FROM json_each(?) AS j CROSS JOIN tally_rollups AS r "
            "WHERE r.campaign_id = ? AND r.area_code = j.value->>0 AND r.day = j.value->>1",
            [batch, campaign_id],
        )

    _ROLLUP_INSERT = "INSERT INTO tally_rollups AS r (campaign_id, area_code, day, own, own_rows, below, op_own, op_below, total, provisional) "
    _SQLITE_VALUES = (
        "SELECT ?, value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, "
        "CASE WHEN value->>3 > 0 THEN value->>2 ELSE value->>4 END, CASE WHEN value->>3 > 0 THEN 0 ELSE value->>5 + value->>6 END FROM json_each(?) WHERE true "
    )

    async def insert_new_rollups(self, campaign_id: int, batch: Any) -> int:
        """SQLite: insert the rollups of a `rollup_batch` (deltas as the values) whose keys are
        not stored; returns how many were inserted."""
        connection = await self.session.connection()
        result = await connection.exec_driver_sql(
            self._ROLLUP_INSERT + self._SQLITE_VALUES + "ON CONFLICT (campaign_id, area_code, day) DO NOTHING",
            (campaign_id, batch),
        )
        return result.rowcount

    async def insert_own_rollups(self, campaign_id: int, after: int, last: int, *, one_per_day: bool) -> None:
        """SQLite: the own rollups of the new tallies with ids from `after` + 1 to `last`, all of
        them official, summed per (area, day) inside SQLite, inserted as new rows (an
        IntegrityError when one is stored already). `one_per_day`: no two of them have the same
        area and day (none has a service point or device), so each is its rollup and nothing
        needs summing."""
        values = "count, 1, 0, 0, 0, count, 0" if one_per_day else "sum(count), count(*), 0, 0, 0, sum(count), 0"
        # "+campaign_id" keeps the search on the id range
        await self.execute(
            "INSERT INTO tally_rollups (campaign_id, area_code, day, own, own_rows, below, op_own, op_below, total, provisional) "
            f"SELECT campaign_id, area_code, day, {values} "
            "FROM tallies WHERE id BETWEEN ? AND ? AND +campaign_id = ?" + ("" if one_per_day else " GROUP BY area_code, day"),
            [after + 1, last, campaign_id],
        )

    async def add_to_rollups(self, campaign_id: int, batch: Any, *, returning: bool = False) -> list[tuple[str, Any, int, int, int, int, int, int, int]]:
        """Add the deltas of a `rollup_batch` (none negative) to the rollups, creating missing
        ones, in one statement. (A row proposed for insert must pass the CHECK constraints even
        when it ends up as an update, hence no negative deltas here: see `set_rollups`.) With
        `returning` (PostgreSQL), answers each rollup as written: (area, day, own, own_rows,
        below, op_own, op_below, total, provisional); its old values are these minus the deltas."""
        # `r.` values are the stored row's before the change.
        update = (
            "ON CONFLICT (campaign_id, area_code, day) DO UPDATE SET own = r.own + excluded.own, own_rows = r.own_rows + excluded.own_rows, "
            "below = r.below + excluded.below, op_own = r.op_own + excluded.op_own, op_below = r.op_below + excluded.op_below, "
            "total = CASE WHEN r.own_rows + excluded.own_rows > 0 THEN r.own + excluded.own ELSE r.below + excluded.below END, "
            "provisional = CASE WHEN r.own_rows + excluded.own_rows > 0 THEN 0 ELSE r.op_own + excluded.op_own + r.op_below + excluded.op_below END"
        )
        if self.pg:
            sql = (
                self._ROLLUP_INSERT + "SELECT ?, s.*, CASE WHEN s.rw > 0 THEN s.o ELSE s.b END, CASE WHEN s.rw > 0 THEN 0 ELSE s.po + s.pb END "
                "FROM unnest(CAST(? AS VARCHAR[]), CAST(? AS DATE[]), CAST(? AS INTEGER[]), CAST(? AS INTEGER[]), CAST(? AS INTEGER[]), "
                "CAST(? AS INTEGER[]), CAST(? AS INTEGER[])) AS s(area, day, o, rw, b, po, pb) " + update
            )
            if returning:
                return await self.fetch(
                    sql + " RETURNING r.area_code, r.day, r.own, r.own_rows, r.below, r.op_own, r.op_below, r.total, r.provisional", [campaign_id, *batch]
                )
            await self.execute(sql, [campaign_id, *batch])
            return []
        # "WHERE true": without it SQLite would read ON CONFLICT as a join's ON.
        await self.execute(self._ROLLUP_INSERT + self._SQLITE_VALUES + update, [campaign_id, batch])
        return []

    async def set_rollups(self, campaign_id: int, rows: list[tuple[str, Any, int, int, int, int, int, int, int]]) -> None:
        """(area, day as `day()`, own, own_rows, below, op_own, op_below, total, provisional) of
        stored rollups that shrink."""
        if not rows:
            return
        if self.pg:
            await self.execute(
                "UPDATE tally_rollups AS r SET own = s.o, own_rows = s.rw, below = s.b, op_own = s.po, op_below = s.pb, total = s.t, provisional = s.p "
                "FROM unnest(CAST(? AS VARCHAR[]), CAST(? AS DATE[]), CAST(? AS INTEGER[]), CAST(? AS INTEGER[]), CAST(? AS INTEGER[]), "
                "CAST(? AS INTEGER[]), CAST(? AS INTEGER[]), CAST(? AS INTEGER[]), CAST(? AS INTEGER[])) AS s(area, day, o, rw, b, po, pb, t, p) "
                'WHERE r.campaign_id = ? AND r.area_code = s.area COLLATE "C" AND r.day = s.day',
                [*map(list, zip(*rows, strict=True)), campaign_id],
            )
            return
        await self.execute(
            "UPDATE tally_rollups SET own = ?, own_rows = ?, below = ?, op_own = ?, op_below = ?, total = ?, provisional = ? "
            "WHERE campaign_id = ? AND area_code = ? AND day = ?",
            [(o, rw, b, po, pb, t, p, campaign_id, c, d) for c, d, o, rw, b, po, pb, t, p in rows],
            many=True,
        )

    async def roll_up_at_once(self, campaign_id: int, rows: list[tuple[Any, ...]], *, root: int) -> list[Any]:
        """PostgreSQL: add (depth, area, day, own, own_rows, below, op_own, op_below) deltas to the
        rollups of their areas and of every ancestor up to depth `root`, in ONE statement
        (`_roll_up_sql`); answers (area, day, old total, new total, old provisional, new
        provisional) of each rollup written. For a request's few keys: each stored rollup finds
        its deltas by a search of the level's (`ROLL_UP_AT_ONCE`)."""
        deepest = max(row[0] for row in rows)
        return await self.rows(DriverSQL(_roll_up_sql(deepest, root), (campaign_id, *map(list, zip(*rows, strict=True)))))

    async def find_totals(self, campaign_id: int, codes: Sequence[str]) -> dict[str, tuple[int, int, Any]]:
        """area -> (total, provisional, last day) of the stored per-area totals among `codes`; on
        PostgreSQL locked (`FOR UPDATE`, by area code) until COMMIT."""
        if not codes:
            return {}
        if self.pg:
            rows = await self.fetch(
                "SELECT area_code, total, provisional, last_day FROM tally_totals WHERE campaign_id = ? AND area_code = ANY(CAST(CAST(? AS TEXT) AS VARCHAR[])) "
                'ORDER BY area_code COLLATE "C" FOR UPDATE',
                [campaign_id, array_text(codes)],
            )
        else:
            rows = await self.fetch(
                "SELECT r.area_code, r.total, r.provisional, r.last_day FROM json_each(?) AS j CROSS JOIN tally_totals AS r "
                "WHERE r.campaign_id = ? AND r.area_code = j.value",
                ["[" + ",".join(f'"{c}"' for c in codes) + "]", campaign_id],
            )
        return {code: (total, provisional, last) for code, total, provisional, last in rows}

    async def upsert_totals(self, campaign_id: int, rows: list[tuple[str, int, int, date | None]], *, add: bool = False, at_commit: bool = False) -> None:
        """(area, total, provisional, last day) rows of one campaign; with `add` (PostgreSQL: totals
        that were not stored when locked, so another transaction may be creating them too),
        total and provisional are added to what is stored and the last day is the later one.
        `at_commit` (PostgreSQL): the transaction's last statements, sent with its COMMIT (`last_statement`)."""
        if not rows:
            return
        conflict = "ON CONFLICT (campaign_id, area_code) DO UPDATE SET total = excluded.total, provisional = excluded.provisional, last_day = excluded.last_day"
        if add:
            conflict = (
                "ON CONFLICT (campaign_id, area_code) DO UPDATE SET total = tally_totals.total + excluded.total, "
                "provisional = tally_totals.provisional + excluded.provisional, last_day = GREATEST(tally_totals.last_day, excluded.last_day)"
            )
        if self.pg:
            statement = text(
                "INSERT INTO tally_totals (campaign_id, area_code, total, provisional, last_day) SELECT :campaign_id, s.* FROM unnest("
                "CAST(CAST(:codes AS TEXT) AS VARCHAR[]), CAST(CAST(:totals AS TEXT) AS INTEGER[]), CAST(CAST(:provisional AS TEXT) AS INTEGER[]), "
                f"CAST(CAST(:days AS TEXT) AS DATE[])) AS s {conflict}"
            )
            params = {
                "campaign_id": campaign_id,
                "codes": array_text(r[0] for r in rows),
                "totals": array_text(r[1] for r in rows),
                "provisional": array_text(r[2] for r in rows),
                "days": array_text(r[3] for r in rows),
            }
            if at_commit:
                await last_statement(self.session, statement, params)
            else:
                await self.session.execute(statement, params)
            return
        await self.execute(
            "INSERT INTO tally_totals (campaign_id, area_code, total, provisional, last_day) SELECT ?, value->>0, value->>1, value->>2, value->>3 "
            f"FROM json_each(?) WHERE true {conflict}",
            [campaign_id, _json_rows([(code, total, provisional, None if day is None else self.day(day)) for code, total, provisional, day in rows])],
        )


# --- PostgreSQL imports: COPY into staging tables, then set-based statements -----------------------
#
# An import's batch is COPYed (one text block, psycopg's C copy path: no per-value parameter
# dumping) into a temporary table, and the claim of new tallies, the lookup of stored ones and
# the rollup deltas are statements joined on it. The rollup deltas of the whole import wait in a
# second temporary table and are rolled up level by level by `Bulk.roll_up_staged`. Both tables
# live for the transaction (ON COMMIT DROP) and are emptied after use (nothing is left behind).

STAGE = "rekam_tally_stage"
ROLL_STAGE = "rekam_rollup_stage"
STAGE_COLUMNS = "i, area, day, pk, dk, n, src, sp, dv"
ROLL_COLUMNS = "lvl, area, day, own, own_rows, below, op_own, op_below"
# A code's depth (`api.area_codes.depth_of`) and parent (`parent_of`) in SQL.
NULL = "\\N"  # COPY text's NULL
_DEPTH_SQL = "CASE WHEN {0} = '0' THEN 0 ELSE length({0}) - length(replace({0}, '.', '')) + 1 END"
_PARENT_SQL = "CASE WHEN strpos({0}, '.') = 0 THEN '0' ELSE left({0}, length({0}) - strpos(reverse({0}), '.')) END"


# Most keys `Bulk.roll_up_at_once` takes: a stored rollup's deltas are found by a scan of its
# level's (see `_roll_up_sql`), so its cost grows with the square of the keys (PostgreSQL 15, 2
# cores: 100 keys 1.7 ms, 500 keys 18 ms, against 0.8 and 3.6 ms for an addition of known values).
ROLL_UP_AT_ONCE = 200


@cache
def _roll_up_sql(deepest: int, root: int) -> str:
    """One statement that rolls deltas up from depth `deepest` to `root`: data-modifying CTEs, a
    level's from the one below's. Per level `k`: its deltas (`d{k}`: those given at that depth,
    and the changes of the children's figures written below, summed per area and day); their
    addition (`w{k}`), in key order as every writer locks them, then children before parents
    (a level's sums wait for the whole level below); and each rollup's old and new figures
    (`c{k}`: the old ones are the new ones less the deltas, as `api.tallies.rollups.roll_up`
    reckons them). A delta may be negative (a lower count; a parent whose child's official
    figure replaced its provisional one), and the row proposed for insert must pass the CHECK
    constraints even when it ends up as an update: it proposes no negative value, and a stored
    rollup takes its deltas from `d{k}` itself (where a rollup is not stored, its children had
    nothing: no delta of it is negative)."""
    nonnegative = {name: f"GREATEST(d.{name}, 0)" for name in ("o", "rw", "b", "po", "pb")}
    ctes = [
        "p AS (SELECT CAST(%s AS INTEGER) AS c)",
        "g AS (SELECT * FROM unnest(CAST(%s AS INTEGER[]), CAST(%s AS VARCHAR[]), CAST(%s AS DATE[]), CAST(%s AS INTEGER[]), CAST(%s AS INTEGER[]), "
        "CAST(%s AS INTEGER[]), CAST(%s AS INTEGER[]), CAST(%s AS INTEGER[])) AS s(lvl, area, day, o, rw, b, po, pb))",
    ]
    for k in range(deepest, root - 1, -1):
        given = f"SELECT area, day, o, rw, b, po, pb FROM g WHERE lvl = {k}"
        if k < deepest:
            given += (
                f" UNION ALL SELECT {_PARENT_SQL.format('c.area')}, c.day, 0, 0, c.new_total - c.old_total, 0, c.new_prov - c.old_prov "
                f"FROM c{k + 1} AS c WHERE c.new_total <> c.old_total OR c.new_prov <> c.old_prov"
            )
        ctes.append(
            f"d{k} AS (SELECT area, day, sum(o) AS o, sum(rw) AS rw, sum(b) AS b, sum(po) AS po, sum(pb) AS pb FROM ({given}) AS x GROUP BY area, day "
            "HAVING sum(o) <> 0 OR sum(rw) <> 0 OR sum(b) <> 0 OR sum(po) <> 0 OR sum(pb) <> 0)"
        )
        ctes.append(
            f"w{k} AS (INSERT INTO tally_rollups AS r (campaign_id, area_code, day, own, own_rows, below, op_own, op_below, total, provisional) "
            f"SELECT p.c, d.area, d.day, {nonnegative['o']}, {nonnegative['rw']}, {nonnegative['b']}, {nonnegative['po']}, {nonnegative['pb']}, "
            f"CASE WHEN d.rw > 0 THEN {nonnegative['o']} ELSE {nonnegative['b']} END, CASE WHEN d.rw > 0 THEN 0 ELSE {nonnegative['po']} + {nonnegative['pb']} END "
            f'FROM d{k} AS d CROSS JOIN p ORDER BY d.area COLLATE "C", d.day '
            "ON CONFLICT (campaign_id, area_code, day) DO UPDATE SET (own, own_rows, below, op_own, op_below, total, provisional) = "
            "(SELECT r.own + d.o, r.own_rows + d.rw, r.below + d.b, r.op_own + d.po, r.op_below + d.pb, "
            "CASE WHEN r.own_rows + d.rw > 0 THEN r.own + d.o ELSE r.below + d.b END, "
            "CASE WHEN r.own_rows + d.rw > 0 THEN 0 ELSE r.op_own + d.po + r.op_below + d.pb END "
            f"FROM d{k} AS d WHERE d.area = excluded.area_code AND d.day = excluded.day) "
            "RETURNING r.area_code, r.day, r.own, r.own_rows, r.below, r.op_own, r.op_below, r.total, r.provisional)"
        )
        ctes.append(
            f"c{k} AS (SELECT w.area_code AS area, w.day, CASE WHEN w.own_rows - d.rw > 0 THEN w.own - d.o ELSE w.below - d.b END AS old_total, "
            "w.total AS new_total, CASE WHEN w.own_rows - d.rw > 0 THEN 0 ELSE w.op_own - d.po + w.op_below - d.pb END AS old_prov, "
            f"w.provisional AS new_prov FROM w{k} AS w JOIN d{k} AS d ON d.area = w.area_code AND d.day = w.day)"
        )
    written = " UNION ALL ".join(f"SELECT area, day, old_total, new_total, old_prov, new_prov FROM c{k}" for k in range(deepest, root - 1, -1))
    return "WITH " + ", ".join(ctes) + " " + written


def _sources_sql(sources: Iterable[str]) -> str:
    """An SQL list of sources (constants of the code: checked, never a request's text)."""
    names = sorted(sources)
    assert all(name.replace("_", "").isalnum() for name in names), names
    return ", ".join(f"'{name}'" for name in names) or "NULL"


def stage_text(rows: Sequence[Any], iso: dict[date, str]) -> str:
    """`rows` (with area, day, point, device, count, source) as COPY text rows of the staging
    table, numbered from 0. No value needs escaping: checked area codes, ISO dates, integers,
    fixed sources (as in the SQLite JSON of `Bulk.batch`)."""
    return "".join(
        f"{i}\t{r.area}\t{iso[r.day]}\t0\t0\t{r.count}\t{r.source}\t\\N\t\\N\n"  # most rows: no point, no device
        if r.point is None and r.device is None
        else f"{i}\t{r.area}\t{iso[r.day]}\t{r.point or 0}\t{r.device or 0}\t{r.count}\t{r.source}\t{r.point or NULL}\t{r.device or NULL}\n"
        for i, r in enumerate(rows)
    )


def roll_text(deltas: dict[tuple[str, date], list[int]], depth_of: Any) -> str:
    """(area, day) -> [own, own_rows, below, op_own, op_below] deltas as COPY text rows of the
    rollup staging table."""
    return "".join(
        f"{depth_of(area)}\t{area}\t{day.isoformat()}\t{o}\t{rw}\t{b}\t{po}\t{pb}\n"
        for (area, day), (o, rw, b, po, pb) in deltas.items()
        if o or rw or b or po or pb
    )


class Staging:
    """PostgreSQL: the staging statements of one import (see the comment above)."""

    def __init__(self, bulk: Bulk) -> None:
        self.bulk = bulk
        self.ready = False

    async def _copy(self, table: str, columns: str, text_: str) -> None:
        async with (await driver_connection(self.bulk.session)).cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            await copy.write(text_)

    async def prepare(self) -> None:
        """Make the staging tables of this transaction (once) and empty them: an earlier import
        of the same transaction may have made them (a rolled-back savepoint takes them away)."""
        if self.ready:
            return
        # Statements without parameters, sent as one (the simple query protocol takes several): one
        # round trip instead of four, each of which waited for the import's Python to give way.
        await (await driver_connection(self.bulk.session)).execute(
            f'CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} (i integer, area varchar(40) COLLATE "C", day date, pk integer, dk integer, '
            "n integer, src varchar(20), sp integer, dv integer) ON COMMIT DROP; "
            f'CREATE TEMPORARY TABLE IF NOT EXISTS {ROLL_STAGE} (lvl smallint, area varchar(40) COLLATE "C", day date, own integer, '
            "own_rows integer, below integer, op_own integer, op_below integer) ON COMMIT DROP; "
            f"TRUNCATE {STAGE}, {ROLL_STAGE}; "
            # The rollups of a big import are summed, sorted and joined by the 100,000 (a key per
            # area and day): in memory, not in temporary files (the default is 4 MB).
            "SET LOCAL work_mem = '64MB'"
        )
        self.ready = True

    async def stage(self, rows: Sequence[Any], iso: dict[date, str]) -> None:
        """The batch's rows into the staging table, replacing the last batch's."""
        await self.prepare()
        await self.bulk.execute(f"TRUNCATE {STAGE}", [])
        await self._copy(STAGE, STAGE_COLUMNS, stage_text(rows, iso))

    async def claim(self, campaign_id: int, *, import_id: int, at: datetime, official: Iterable[str]) -> int:
        """Insert the staged rows whose keys are not stored (`ON CONFLICT DO NOTHING`) and, in the
        same statement, stage the rollup deltas of those inserted (`RETURNING` names exactly
        them), summed later by `roll_up`. Returns how many were inserted."""
        official_sql = _sources_sql(official)
        connection = await self.bulk.session.connection()
        result = await connection.exec_driver_sql(
            f"WITH t AS (INSERT INTO tallies ({', '.join(TALLY_COLUMNS)}) SELECT %s, s.area, s.day, s.sp, s.dv, s.pk, s.dk, s.n, s.src, %s, %s, "
            f"{origin_sql('s.src')} FROM {STAGE} AS s ON CONFLICT (campaign_id, area_code, day, point_key, device_key, origin_key) DO NOTHING "
            "RETURNING area_code, day, count, source) "
            f"INSERT INTO {ROLL_STAGE} ({ROLL_COLUMNS}) SELECT {_DEPTH_SQL.format('t.area_code')}, t.area_code, t.day, "
            f"CASE WHEN t.source IN ({official_sql}) THEN t.count ELSE 0 END, CASE WHEN t.source IN ({official_sql}) THEN 1 ELSE 0 END, 0, "
            f"CASE WHEN t.source IN ({official_sql}) THEN 0 ELSE t.count END, 0 FROM t",
            (campaign_id, import_id, at),
        )
        return int(result.rowcount)

    async def find(self, campaign_id: int, *, import_id: int) -> list[Found]:
        """The stored tallies with the staged keys that this import did not insert, as
        `Bulk.find_tallies` answers them, locked (`FOR UPDATE`) in the batch's order."""
        await self.bulk.execute(f"ANALYZE {STAGE}", [])  # a join plan from the batch's real size
        return await self.bulk.fetch(
            f"SELECT s.i, t.id, t.count, t.source, t.import_id, t.updated_at FROM {STAGE} AS s JOIN tallies AS t ON t.campaign_id = ? "
            "AND t.area_code = s.area AND t.day = s.day AND t.point_key = s.pk AND t.device_key = s.dk "
            f"AND t.origin_key = {origin_sql('s.src')} WHERE t.import_id IS DISTINCT FROM ? ORDER BY s.i FOR UPDATE OF t",
            [campaign_id, import_id],
        )

    async def add_deltas(self, deltas: dict[tuple[str, date], list[int]], depth_of: Any) -> None:
        """Rollup deltas computed in Python (changes of stored tallies), staged with the others."""
        text_ = roll_text(deltas, depth_of)
        if text_:
            await self.prepare()
            await self._copy(ROLL_STAGE, ROLL_COLUMNS, text_)

    async def levels(self) -> list[int]:
        """The depths of the staged rollup deltas, deepest first."""
        if not self.ready:
            return []
        return [row[0] for row in await self.bulk.fetch(f"SELECT DISTINCT lvl FROM {ROLL_STAGE} ORDER BY lvl DESC", [])]

    async def roll_up(self, campaign_id: int, depth: int, *, parents: bool) -> list[tuple[str, int, date | None, date | None, int]]:
        """Apply the staged deltas of one depth of the area tree to the rollups, in one
        statement: summed per (area, day); added to the stored rollups (`UPDATE`, each answering
        its old figure as new minus delta) and inserted where there are none, in key order;
        each change of a rollup's figure (`total`, `provisional`) staged as its parent's delta
        (`parents`); and answered per area for the totals: (area, total delta, newest day made
        positive, newest day dropped to zero, provisional delta). Plain inserts, not `ON
        CONFLICT`: none of the keys can appear meanwhile, the import has the campaign to itself
        (`api.tallies.writer.lock_campaign`); and deltas may be negative (an `ON CONFLICT`
        insert's proposed row must pass the CHECK constraints even when it ends up an update)."""
        ctes = [
            "d AS (SELECT area, day, sum(own) AS o, sum(own_rows) AS rw, sum(below) AS b, sum(op_own) AS po, sum(op_below) AS pb "
            f"FROM {ROLL_STAGE} WHERE lvl = ? GROUP BY area, day "
            "HAVING sum(own) <> 0 OR sum(own_rows) <> 0 OR sum(below) <> 0 OR sum(op_own) <> 0 OR sum(op_below) <> 0)",
            # RETURNING sees the new row: the old figures are new minus delta
            "upd AS (UPDATE tally_rollups AS r SET own = r.own + d.o, own_rows = r.own_rows + d.rw, below = r.below + d.b, op_own = r.op_own + d.po, "
            "op_below = r.op_below + d.pb, total = CASE WHEN r.own_rows + d.rw > 0 THEN r.own + d.o ELSE r.below + d.b END, "
            "provisional = CASE WHEN r.own_rows + d.rw > 0 THEN 0 ELSE r.op_own + d.po + r.op_below + d.pb END "
            "FROM d WHERE r.campaign_id = ? AND r.area_code = d.area AND r.day = d.day "
            "RETURNING r.area_code AS area, r.day, CASE WHEN r.own_rows - d.rw > 0 THEN r.own - d.o ELSE r.below - d.b END AS t0, r.total AS t1, "
            "CASE WHEN r.own_rows - d.rw > 0 THEN 0 ELSE r.op_own - d.po + r.op_below - d.pb END AS p0, r.provisional AS p1)",
            "ins AS (INSERT INTO tally_rollups AS r (campaign_id, area_code, day, own, own_rows, below, op_own, op_below, total, provisional) "
            "SELECT ?, d.area, d.day, d.o, d.rw, d.b, d.po, d.pb, CASE WHEN d.rw > 0 THEN d.o ELSE d.b END, CASE WHEN d.rw > 0 THEN 0 ELSE d.po + d.pb END "
            "FROM d WHERE NOT EXISTS (SELECT 1 FROM tally_rollups AS x WHERE x.campaign_id = ? AND x.area_code = d.area AND x.day = d.day) "
            "ORDER BY d.area, d.day RETURNING r.area_code AS area, r.day, 0 AS t0, r.total AS t1, 0 AS p0, r.provisional AS p1)",
            # unchanged figures go no further
            "c AS (SELECT * FROM (SELECT * FROM upd UNION ALL SELECT * FROM ins) AS w WHERE w.t0 <> w.t1 OR w.p0 <> w.p1)",
        ]
        if parents:
            ctes.append(
                f"p AS (INSERT INTO {ROLL_STAGE} ({ROLL_COLUMNS}) SELECT ?, {_PARENT_SQL.format('c.area')}, c.day, 0, 0, sum(c.t1 - c.t0), 0, sum(c.p1 - c.p0) "
                "FROM c GROUP BY 2, 3)"
            )
        rows = await self.bulk.fetch(
            "WITH "
            + ", ".join(ctes)
            + " SELECT c.area, sum(c.t1 - c.t0), max(c.day) FILTER (WHERE c.t1 + c.p1 > 0), max(c.day) FILTER (WHERE c.t1 + c.p1 = 0 AND c.t0 + c.p0 > 0), "
            "sum(c.p1 - c.p0) FROM c GROUP BY c.area",
            [depth, campaign_id, campaign_id, campaign_id, *([depth - 1] if parents else [])],
        )
        return [(area, int(total), first, last, int(provisional)) for area, total, first, last, provisional in rows]

    async def clear(self) -> None:
        """Empty the staging tables (the rollups are written)."""
        if self.ready:
            await self.bulk.execute(f"TRUNCATE {STAGE}, {ROLL_STAGE}", [])
