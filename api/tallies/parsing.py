"""Reading posted tallies: a JSON body or a streamed CSV, turned into numbered raw rows.

Rules
- JSON: `{"tallies": [{"area", "date", "count", ...}, ...]}` and nothing else, at most 64 MB
  (MAX_JSON_BODY; bigger files go as CSV, which is streamed). Rows are numbered from 1.
- CSV: UTF-8 with or without BOM, CRLF or LF, comma or semicolon (whichever the header has more
  of), quoted fields. The header names the columns area, date, count (required) and optionally
  service_point, device, source, each once, in any order and case. Row numbers count the header
  as row 1; blank lines are skipped; trailing empty cells may be left out (they are the optional
  columns); a row with more non-empty cells than the header has columns is handed on as None (the
  checks reject it).
- Rows travel in batches of BATCH; the values are checked by `api.tallies.checks`, not here.
"""

import codecs
import csv
import io
import json
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from api.errors import PayloadTooLarge, RuleViolation, field_problem

BATCH = 10_000
MAX_JSON_BODY = 64 * 1024 * 1024
COLUMNS = ("area", "date", "count", "service_point", "device", "source")
COLUMN_SET = frozenset(COLUMNS)
REQUIRED_COLUMNS = ("area", "date", "count")


def whole(value: Any) -> int | None:
    if type(value) is int:
        return value
    if isinstance(value, str):
        value = value.strip()
        digits = value[1:] if value[:1] == "-" else value
        if digits.isdigit() and digits.isascii():
            return int(value)
    return None


def reference(value: Any) -> int | None | bool:
    """An id, None when absent, False when malformed."""
    if value is None or value == "":
        return None
    number = whole(value)
    return number if number is not None and number > 0 else False


async def json_rows(body: AsyncIterable[bytes]) -> AsyncIterator[list[tuple[int, Any]]]:
    chunks, size = [], 0
    async for chunk in body:
        size += len(chunk)
        if size > MAX_JSON_BODY:
            raise PayloadTooLarge("A JSON body may be 64 MB at most; send CSV (streamed) or split the file.")
        chunks.append(chunk)
    try:
        data = json.loads(b"".join(chunks))
    except (ValueError, UnicodeDecodeError):
        raise RuleViolation.on_field("tallies", "The body is not valid JSON.") from None
    del chunks
    if not isinstance(data, dict) or not isinstance(data.get("tallies"), list) or set(data) != {"tallies"}:
        raise RuleViolation.on_field("tallies", 'Send {"tallies": [{"area", "date", "count", ...}, ...]}.')
    items = data["tallies"]
    for start in range(0, len(items), BATCH):
        yield list(enumerate(items[start : start + BATCH], start=start + 1))


def _safe_cut(buffer: str) -> int:
    """Position after the last line break that is not inside a quoted field (0 if none)."""
    position = buffer.rfind("\n")
    while position >= 0:
        if buffer.count('"', 0, position) % 2 == 0:
            return position + 1
        position = buffer.rfind("\n", 0, position)
    return 0


async def csv_rows(body: AsyncIterable[bytes]) -> AsyncIterator[list[tuple[int, Any]]]:
    """Stream a spreadsheet's CSV: UTF-8 with or without BOM, CRLF or LF, comma or semicolon,
    quoted fields. Row numbers count the header as row 1."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    buffer, header, delimiter, number = "", None, ",", 1

    def parse(text_: str) -> list[tuple[int, Any]]:
        nonlocal header, delimiter, number
        out: list[tuple[int, Any]] = []
        if header is None:
            first = text_.split("\n", 1)[0]
            delimiter = ";" if first.count(";") > first.count(",") else ","
        width = len(header) if header is not None else -1
        for record in csv.reader(io.StringIO(text_), delimiter=delimiter):
            if len(record) == width and record[0].strip():  # the common row: all columns, an area
                number += 1
                out.append((number, dict(zip(header, record, strict=False))))  # type: ignore[arg-type,call-overload]  # header is read: width was -1 before
                continue
            if not record or not "".join(record).strip():
                continue
            if header is None:
                header = [cell.strip().lower() for cell in record]
                width = len(header)
                missing = [c for c in REQUIRED_COLUMNS if c not in header]
                unknown = [c for c in header if c not in COLUMNS]
                if missing or unknown or len(set(header)) != len(header):
                    raise RuleViolation(
                        f"The CSV header must name the columns {', '.join(REQUIRED_COLUMNS)} (and optionally service_point, device, source), each once.",
                        errors=[field_problem([*missing, *unknown, None][0], "missing, unknown or repeated column", location=None, row=1)],
                    )
                continue
            number += 1
            if len(record) > len(header) and any(cell.strip() for cell in record[len(header) :]):
                out.append((number, None))
            else:
                # Trailing empty cells are often left out by spreadsheets: they are the optional columns.
                out.append((number, dict(zip(header, record + [""] * (len(header) - len(record)), strict=False))))
        return out

    try:
        async for chunk in body:
            buffer += decoder.decode(chunk)
            cut = _safe_cut(buffer)
            if cut:
                rows = parse(buffer[:cut])
                buffer = buffer[cut:]
                if rows:
                    yield rows
        buffer += decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise RuleViolation("The CSV must be UTF-8 text.", errors=[field_problem(None, "not UTF-8", location=None, row=number + 1)]) from None
    if buffer.strip():
        rows = parse(buffer)
        if rows:
            yield rows
    if header is None:
        raise RuleViolation("The CSV is empty; it needs a header row area,date,count.", errors=[field_problem(None, "no header", location=None, row=1)])
