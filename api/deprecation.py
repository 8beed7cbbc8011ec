"""Renamed fields and query parameters (docs/api.md "Deprecations"): old names kept for one release.

Rules
- Input: an old name is still accepted (a body field, a CSV column, a query parameter); sending it
  with its new name and a different value is a 422 (`code: renamed.conflict`, params `old`,
  `new`). `renamed(...)` resolves one pair and notes that the old name was used.
- Output: answers send the new name and, for one release, the old one alongside with the same
  value (`DEPRECATED`: the field's schema says `deprecated: true`).
- Any answer to a request that used an old name, and any answer whose schema still carries an old
  field, has `Deprecation: @<epoch>` (RFC 9745, since `DEPRECATED_SINCE`), `Sunset` (RFC 8594,
  `SUNSET`, when the old names go) and `Link: <...#deprecations>; rel="deprecation"`.
  `RequestContextMiddleware` adds them: from the notes of the request (`note`), from the route's
  declared deprecated query parameters, or from its response model's deprecated fields.
"""

import datetime as dt
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar
from urllib.parse import parse_qsl

from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, TypeAdapter, computed_field, model_validator

from api.errors import RuleViolation, field_problem

T = TypeVar("T")

DEPRECATED_SINCE = datetime(2026, 12, 7, tzinfo=UTC)
SUNSET = datetime(2027, 3, 1, tzinfo=UTC)
DOCS_LINK = "/docs/api.md#deprecations"

# The schema extra of an old field sent alongside its new name.
DEPRECATED: dict[str, Any] = {"deprecated": True}


def deprecated_day(**kwargs: Any) -> Any:
    """The old `day` field of an answer (a `Field`), kept alongside `date` for one release."""
    return Field(description="Deprecated: `date` (the same day).", json_schema_extra=DEPRECATED, **kwargs)


class DayAsDate(BaseModel):
    """An answer whose calendar day was named `day`: it also sends it as `date` (the naming rule)."""

    @computed_field(description="The calendar day (YYYY-MM-DD, Asia/Jakarta).")  # type: ignore[prop-decorator]  # pydantic's documented form
    @property
    def date(self) -> dt.date:
        day: dt.date = getattr(self, "day")  # noqa: B009  # the subclass's field
        return day


class OptionalDayAsDate(BaseModel):
    """`DayAsDate` for a day that may be null."""

    @computed_field(description="The calendar day (YYYY-MM-DD, Asia/Jakarta), if any.")  # type: ignore[prop-decorator]  # pydantic's documented form
    @property
    def date(self) -> dt.date | None:
        day: dt.date | None = getattr(self, "day")  # noqa: B009  # the subclass's field
        return day


class RenamedInput(BaseModel):
    """A request body with renamed fields (`RENAMED`: old name -> new name). Both names are read (not
    both with different values); inside the server the field keeps its old name and reads the new
    one as its `validation_alias` (declare the model with `populate_by_name=True` and
    `json_schema_extra=document_renamed`, which adds the old names to the document, deprecated)."""

    RENAMED: ClassVar[dict[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _read_old_names(cls, data: Any) -> Any:
        return merge_renamed(data, cls.RENAMED)


def document_renamed(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """`json_schema_extra` of a `RenamedInput`: each old name, deprecated, next to its new one."""
    properties = schema.setdefault("properties", {})
    for old, new in getattr(model, "RENAMED", {}).items():
        if new in properties:
            described = {k: v for k, v in properties[new].items() if k not in ("title", "description", "examples", "default")}
            properties[old] = {**described, "deprecated": True, "description": f"Deprecated: `{new}` (read until the sunset, docs/api.md)."}


HEADERS: list[tuple[bytes, bytes]] = [
    (b"deprecation", f"@{int(DEPRECATED_SINCE.timestamp())}".encode()),
    (b"sunset", SUNSET.strftime("%a, %d %b %Y %H:%M:%S GMT").encode()),
    (b"link", f'<{DOCS_LINK}>; rel="deprecation"; type="text/markdown"'.encode()),
]

# The old names a request used (a fresh set per request, set by RequestContextMiddleware).
used_var: ContextVar[set[str] | None] = ContextVar("deprecated_names_used", default=None)


def note(old: str) -> None:
    """Record that the request used the old name `old` (its answer gets the Deprecation headers)."""
    used = used_var.get()
    if used is not None:
        used.add(old)


def conflict(old: str, new: str, *, location: str | None = "body", row: int | None = None) -> RuleViolation:
    return RuleViolation(
        code="renamed.conflict",
        params={"old": old, "new": new},
        errors=[field_problem(old, location=location, row=row, code="renamed.conflict", params={"old": old, "new": new})],
    )


def renamed(new_value: T | None, old_value: T | None, *, old: str, new: str, location: str = "query") -> T | None:
    """The value of a renamed parameter or field, given under its new or its old name (not both, unless equal)."""
    if old_value is None:
        return new_value
    note(old)
    if new_value is not None and new_value != old_value:
        raise conflict(old, new, location=location)
    return old_value


def merge_renamed(data: Any, renames: dict[str, str], *, location: str = "body") -> Any:
    """A request body (dict) with each old field name of `renames` (old -> new) moved to its new name.

    For `model_validator(mode="before")` of request models."""
    if not isinstance(data, dict):
        return data
    for old, new in renames.items():
        if old in data:
            note(old)
            data = dict(data)
            value = data.pop(old)
            if new in data and data[new] != value:
                raise conflict(old, new, location=location)
            data[new] = value
    return data


def _deprecated_query(route: APIRoute) -> frozenset[str]:
    cached = getattr(route, "_rekam_deprecated_query", None)
    if cached is None:
        names: set[str] = set()
        stack = [route.dependant]
        while stack:
            dependant = stack.pop()
            names |= {p.alias for p in dependant.query_params if getattr(p.field_info, "deprecated", None)}
            stack.extend(dependant.dependencies)
        cached = frozenset(names)
        route._rekam_deprecated_query = cached  # type: ignore[attr-defined]  # memo per route
    return cached


def _has_deprecated(schema: Any) -> bool:
    if isinstance(schema, dict):
        return schema.get("deprecated") is True or any(_has_deprecated(v) for v in schema.values())
    if isinstance(schema, list):
        return any(_has_deprecated(v) for v in schema)
    return False


def _answers_deprecated(route: APIRoute) -> bool:
    cached = getattr(route, "_rekam_answers_deprecated", None)
    if cached is None:
        cached = False
        if route.response_model is not None:
            try:
                cached = _has_deprecated(TypeAdapter(route.response_model).json_schema(mode="serialization"))
            except Exception:  # a model pydantic cannot describe has no deprecated fields to announce
                cached = False
        route._rekam_answers_deprecated = cached  # type: ignore[attr-defined]  # memo per route
    return cached


def applies(route: Any, query_string: bytes, used: set[str] | None) -> bool:
    """Whether an answer gets the Deprecation headers."""
    if used:
        return True
    if not isinstance(route, APIRoute):
        return False
    if _answers_deprecated(route):
        return True
    deprecated = _deprecated_query(route)
    if deprecated and query_string:
        return any(name in deprecated for name, _ in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    return False
