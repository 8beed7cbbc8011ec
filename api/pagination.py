"""Pagination shared by every list endpoint: `limit`, an opaque `cursor`, `next_cursor`.

Every list answers `Page` (`{"items": [...], "next_cursor": ... | null}`, docs/api.md). Lists read
from a table page by keyset (`paginate`); lists computed whole in memory (a schedule, the city's
queue boards, discrepancies, slots) page by position in their fixed order (`page_of`).
"""

import base64
import json
from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from api.errors import RuleViolation

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class PageParams(BaseModel):
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


# Async, as every dependency here: FastAPI runs a plain function in its thread pool, a hand-off
# between threads for each request.
async def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512, description="`next_cursor` of the previous page.")] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


PageDep = Annotated[PageParams, Depends(page_params)]


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([v.isoformat() if hasattr(v, "isoformat") else v for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, width: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != width:
        raise RuleViolation.on_field("cursor", location="query", code="cursor.invalid")
    return values


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    *,
    keys: Sequence[InstrumentedAttribute[Any]],
    page: PageParams,
    cursor_of: Any = None,
    descending: bool = False,
) -> tuple[list[Any], str | None]:
    """Objects of `select(Model)` (rows of `select(Model, ...)`) ordered by `keys` (unique together) after the cursor.

    Returns the page and the next cursor. `cursor_of(obj)` gives an object's key values when they
    are not plain attributes named like the keys. `descending` orders newest (largest) first.
    """
    if page.cursor:
        after = decode_cursor(page.cursor, len(keys))
        after = [_coerce(key, value) for key, value in zip(keys, after, strict=True)]
        # (k1, k2) > (a1, a2) written out, because row-value comparison is not portable.
        clauses = []
        for i, key in enumerate(keys):
            beyond = key < after[i] if descending else key > after[i]
            clauses.append(and_(*(keys[j] == after[j] for j in range(i)), beyond))
        stmt = stmt.where(or_(*clauses))
    stmt = stmt.order_by(*(key.desc() if descending else key for key in keys)).limit(page.limit + 1)
    result = await session.execute(stmt)
    rows = list(result.all() if len(stmt.column_descriptions) > 1 else result.scalars().all())
    next_cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        last = rows[-1]
        values = cursor_of(last) if cursor_of else [getattr(last, key.key) for key in keys]
        next_cursor = encode_cursor(values)
    return rows, next_cursor


def _coerce(key: InstrumentedAttribute[Any], value: Any) -> Any:
    python_type = key.property.columns[0].type.python_type
    try:
        if python_type is int and not isinstance(value, bool):
            return int(value)
        if python_type is str:
            return str(value)
        from datetime import date, datetime

        if python_type is datetime:
            return datetime.fromisoformat(value)
        if python_type is date:
            return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise RuleViolation.on_field("cursor", location="query", code="cursor.invalid") from None
    return value


def page_of(items: Sequence[T], page: PageParams) -> Page[T]:
    """One page of a list computed whole, in its own order: the cursor is the position to go on from."""
    start = 0
    if page.cursor:
        (start,) = decode_cursor(page.cursor, 1)
        if type(start) is not int or start < 0:
            raise RuleViolation.on_field("cursor", location="query", code="cursor.invalid")
    end = start + page.limit
    return Page(items=list(items[start:end]), next_cursor=encode_cursor([end]) if end < len(items) else None)
