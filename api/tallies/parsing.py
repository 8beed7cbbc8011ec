"""Reading posted tallies: a JSON body or a streamed CSV, turned into numbered raw rows.

Rules
- JSON: `{"tallies": [{"area", "date", "count", ...}, ...]}` and nothing else, at most 64 MB
  (MAX_JSON_BODY; bigger files go as CSV, which is streamed). Rows are numbered from 1.
- CSV: UTF-8 with or without BOM, CRLF or LF, comma or semicolon (whichever the header has more
  of), quoted fields. The header names the columns area, date, count (required) and optionally
  service_point_id, device_id, source, each once, in any order and case (the old names
  service_point and device are still read: RENAMED_COLUMNS, api/deprecation.py). Row numbers count the header
  as row 1; blank lines are skipped; trailing empty cells may be left out (they are the optional
  columns); a row with more non-empty cells than the header has columns is handed on as None (the
  checks reject it).
- Dates (`read_date`), in CSV and JSON alike: ISO `yyyy-mm-dd`, or `dd/mm/yyyy` and `d/m/yyyy` as
  Indonesian spreadsheets write them. A slashed date is always day first: Indonesia never writes
  month first, so 03/04/2027 is 3 April and a "month" above 12 (04/13/2027) is an error, never
  read as 13 April. One request keeps to one form: a row whose date is written in the other form
  than the request's first date is refused (`mixed_date_format`), since a file that mixes them has
  most likely been through a program that turned some dates around. A date that does not exist
  (31/02/2027, month 13) is refused as `impossible_date`; anything else as `invalid_date`.
- Rows travel in batches of BATCH; the values are checked by `api.tallies.checks`, not here.
"""

import codecs
import csv
import io
import json
import re
from collections.abc import AsyncIterable, AsyncIterator
from datetime import date
from typing import Any

from api import deprecation
from api.errors import PayloadTooLarge, RuleViolation, field_problem

BATCH = 10_000
MAX_JSON_BODY = 64 * 1024 * 1024
CURRENT_COLUMNS = ("area", "date", "count", "service_point_id", "device_id", "source")
COLUMNS = (*CURRENT_COLUMNS, "service_point", "device")
# Old column names (docs/api.md "Deprecations"): still read, with the Deprecation header on the answer.
RENAMED_COLUMNS = {"service_point": "service_point_id", "device": "device_id"}
COLUMN_SET = frozenset(COLUMNS)
REQUIRED_COLUMNS = ("area", "date", "count")


ISO_DATE = "yyyy-mm-dd"
DAY_FIRST_DATE = "dd/mm/yyyy"
_ISO = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
_DAY_FIRST = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")


def read_date(text: str) -> tuple[str | None, date | str]:
    """A posted date's form (`ISO_DATE`, `DAY_FIRST_DATE`; None when neither) and the date, or the
    code of what is wrong with it (`invalid_date`, `impossible_date`). See the module's rules."""
    text = text.strip()
    if match := _ISO.match(text):
        form, (year, month, day) = ISO_DATE, match.groups()
    elif match := _DAY_FIRST.match(text):
        form, (day, month, year) = DAY_FIRST_DATE, match.groups()
    else:
        return None, "invalid_date"
    try:
        return form, date(int(year), int(month), int(day))
    except ValueError:
        return form, "impossible_date"


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
            raise PayloadTooLarge(code="tallies.json_too_large", params={"megabytes": MAX_JSON_BODY // (1024 * 1024)})
        chunks.append(chunk)
    try:
        data = json.loads(b"".join(chunks))
    except (ValueError, UnicodeDecodeError):
        raise RuleViolation.on_field("tallies", code="invalid_json") from None
    del chunks
    if not isinstance(data, dict) or not isinstance(data.get("tallies"), list) or set(data) != {"tallies"}:
        raise RuleViolation.on_field("tallies", code="tallies.shape")
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
                        code="csv.header",
                        params={"required": ", ".join(REQUIRED_COLUMNS), "optional": ", ".join(c for c in CURRENT_COLUMNS if c not in REQUIRED_COLUMNS)},
                        errors=[field_problem([*missing, *unknown, None][0], location=None, row=1, code="csv.header_column")],
                    )
                for old in RENAMED_COLUMNS.keys() & set(header):
                    deprecation.note(old)
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
        raise RuleViolation(code="csv.not_utf8", errors=[field_problem(None, location=None, row=number + 1, code="csv.not_utf8")]) from None
    if buffer.strip():
        rows = parse(buffer)
        if rows:
            yield rows
    if header is None:
        raise RuleViolation(code="csv.empty", errors=[field_problem(None, location=None, row=1, code="csv.empty")])
