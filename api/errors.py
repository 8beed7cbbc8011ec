"""Domain errors and their rendering as application/problem+json (RFC 9457).

Services raise `DomainError` subclasses; one set of handlers turns every failure, including
FastAPI's validation errors, unknown routes and unexpected exceptions, into problem+json.
"""

from http import HTTPStatus
from typing import Any, TypeVar

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger("api.errors")

PROBLEM_JSON = "application/problem+json"
_M = TypeVar("_M")


PROBLEM_BASE = "urn:rekam:problem:"


class ProblemItem(BaseModel):
    """One thing wrong with the request: where (location, field, CSV row), a stable code and a message."""

    location: str | None = Field(
        default=None, description="Where the field is: `body`, `query`, `path` or `header`; absent for a row of an uploaded file.", examples=["body"]
    )
    row: int | None = Field(default=None, description="The row of an uploaded CSV file (1 = the first data row).", examples=[3])
    field: str | None = Field(default=None, description="The field, dotted for nested ones (`tallies.0.count`).", examples=["tallies.0.count"])
    code: str = Field(
        default="invalid",
        description="A stable, machine-readable code for what is wrong (`missing`, `unknown_parameter`, `greater_than_equal`...).",
        examples=["missing"],
    )
    message: str = Field(description="What is wrong, in English.", examples=["Field required"])


class Problem(BaseModel):
    """The body of every error response (RFC 9457 application/problem+json)."""

    type: str = Field(
        default="about:blank", description="The kind of problem: `urn:rekam:problem:<slug>`, listed in docs/api.md.", examples=["urn:rekam:problem:validation"]
    )
    title: str = Field(description="A short summary of the kind of problem.", examples=["Invalid request"])
    status: int = Field(description="The HTTP status code.", examples=[422])
    detail: str | None = Field(default=None, description="What went wrong in this request.", examples=["count: Input should be greater than or equal to 0"])
    instance: str | None = Field(
        default=None, description="The request id (the X-Request-ID response header): quote it when reporting a problem.", examples=["3f2a9c1b7d4e8a60"]
    )
    code: str = Field(
        default="error",
        description="A stable, machine-readable code for the problem (`not_found`, `conflict`, `validation.invalid`...).",
        examples=["validation.invalid"],
    )
    errors: list[ProblemItem] | None = Field(default=None, description="The fields or rows at fault, when there are any.")


def field_problem(field: str | None, message: str, *, location: str | None = "body", row: int | None = None, code: str = "invalid") -> dict[str, Any]:
    """One item of a problem's `errors` list: which field (and CSV row), a code and what is wrong with it.

    `location` None: the item names a row of an uploaded file instead (`row`)."""
    item: dict[str, Any] = {"field": field, "code": code, "message": message}
    if location is not None:
        item = {"location": location, **item}
    if row is not None:
        item["row"] = row
    return item


# What a request field that does not match its pattern should look like, by pattern: a domain
# registers the words for its own patterns (`explain_pattern`), so that validation errors say what
# is expected instead of quoting a regular expression. Nothing here knows any domain.
_PATTERN_HELP: dict[str, str] = {}


def explain_pattern(pattern: str, message: str) -> None:
    """Say `message` instead of the generic text when a field does not match `pattern`."""
    _PATTERN_HELP[pattern] = message


class DomainError(Exception):
    status: int = 400
    title: str = "Bad request"
    slug: str = "bad-request"
    code: str = ""  # "" means the slug with underscores (`not_found`)

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        keep_changes: bool = False,
        code: str | None = None,
    ) -> None:
        super().__init__(detail)
        if code:
            self.code = code
        elif not self.code:
            self.code = self.slug.replace("-", "_")
        # True when what the request wrote must stay despite the error (a failed sign-in's audit entry).
        self.keep_changes = keep_changes
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        if title:
            self.title = title


class NotFound(DomainError):
    status, title, slug = 404, "Not found", "not-found"


async def get_or_404(session: Any, model: type[_M], key: Any, *, what: str, field: str | None = None) -> _M:
    """The row of `model` with primary key `key`, or NotFound naming `what` (and the field it came from)."""
    row = await session.get(model, key)
    if row is None:
        errors = [field_problem(field, f"unknown {what}")] if field else None
        raise NotFound(f"There is no {what} {key}.", errors=errors)
    return row


class Conflict(DomainError):
    status, title, slug = 409, "Conflict", "conflict"


class RuleViolation(DomainError):
    """Well-formed input that breaks a rule of the campaign (a wrong code, a date out of range).

    The same problem type as a malformed request (`validation`): one type per kind of problem; the
    `code` tells them apart (`validation.rule`, `validation.invalid`)."""

    status, title, slug, code = 422, "Invalid request", "validation", "validation.rule"

    @classmethod
    def on_field(cls, field: str, message: str, *, location: str = "body", code: str = "invalid") -> "RuleViolation":
        return cls(message, errors=[field_problem(field, message, location=location, code=code)])


class PayloadTooLarge(DomainError):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class UnsupportedMediaType(DomainError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


class Unauthorized(DomainError):
    status, title, slug = 401, "Not signed in", "unauthorized"

    def __init__(self, detail: str = "Valid credentials are required.", **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class Forbidden(DomainError):
    status, title, slug = 403, "Forbidden", "forbidden"


class TooManyRequests(DomainError):
    status, title, slug = 429, "Too many requests", "too-many-requests"

    def __init__(self, detail: str, *, retry_after: int, keep_changes: bool = False) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))}, keep_changes=keep_changes)


class ServiceUnavailable(DomainError):
    status, title, slug = 503, "Service unavailable", "service-unavailable"

    def __init__(self, detail: str, *, retry_after: int = 2) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


def problem_response(
    status: int,
    *,
    title: str | None = None,
    detail: str | None = None,
    slug: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    code: str | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"{PROBLEM_BASE}{slug}" if slug else "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    request_id = structlog.contextvars.get_contextvars().get("request_id")  # bound by RequestContextMiddleware
    if request_id:
        body["instance"] = request_id
    body["code"] = code or (slug.replace("-", "_") if slug else _STATUS_CODES.get(status, "error"))
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation.invalid",
    429: "too_many_requests",
    500: "internal",
    503: "service_unavailable",
}


def _validation_items(exc: RequestValidationError) -> list[dict[str, Any]]:
    items = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        location = loc[0] if loc else "body"
        field = ".".join(loc[1:]) or None
        # The input itself is not echoed: it may be a NIK or a phone number.
        message = error.get("msg", "invalid")
        if error.get("type") == "string_pattern_mismatch":
            message = _PATTERN_HELP.get((error.get("ctx") or {}).get("pattern", ""), message)
        items.append(field_problem(field, message, location=location, code=str(error.get("type") or "invalid")))
    return items


def _where(exc: BaseException) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else "?"


# SQLSTATEs of a write that lost a race to a concurrent one: unique_violation, exclusion_violation.
_LOST_RACE_SQLSTATES = frozenset({"23505", "23P01"})


def is_duplicate(exc: IntegrityError) -> bool:
    """The database refused a row because an equal one exists (a unique or exclusion constraint)."""
    if getattr(exc.orig, "sqlstate", None) in _LOST_RACE_SQLSTATES:
        return True
    return "UNIQUE constraint failed" in str(exc.orig)  # SQLite's wording


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return problem_response(exc.status, title=exc.title, detail=exc.detail, slug=exc.slug, errors=exc.errors, headers=exc.headers, code=exc.code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        items = _validation_items(exc)
        first = items[0] if items else {"field": None, "message": "invalid"}
        detail = f"{first['field'] or first['location']}: {first['message']}"
        return problem_response(422, title="Invalid request", detail=detail, slug="validation", errors=items, code="validation.invalid")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        if exc.status_code == 404 and detail == "Not Found":
            detail = "There is nothing at this address."
        return problem_response(exc.status_code, detail=detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    async def _database_unavailable(_: Request, exc: OperationalError) -> JSONResponse:
        # "database is locked" on SQLite, a lost connection on PostgreSQL: retrying is the answer.
        log.warning("database_unavailable", error_class=type(exc.orig).__name__)
        return problem_response(
            503,
            title="Service unavailable",
            detail="The database is busy or unreachable; try again shortly.",
            slug="service-unavailable",
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(DataError)
    async def _out_of_range(_: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot hold (a number too large): the caller's input, not our fault.
        return problem_response(
            422, title="Invalid request", detail="A value is out of range for its field.", slug="validation", code="validation.out_of_range"
        )

    @app.exception_handler(OverflowError)
    async def _overflow(_: Request, exc: OverflowError) -> JSONResponse:
        return problem_response(422, title="Invalid request", detail="A number is too large.", slug="validation", code="validation.out_of_range")

    @app.exception_handler(IntegrityError)
    async def _duplicate(_: Request, exc: IntegrityError) -> JSONResponse:
        # Issue #17, item 7: two equal creates at once both pass the service's "does it exist?"
        # check; the database's unique index refuses the second at flush or commit. That is the
        # same conflict the check would have reported, so the loser gets 409, never 500 (its
        # transaction is rolled back by the session dependency). Other integrity errors are bugs.
        if not is_duplicate(exc):
            log.error("database_error", error_class=type(exc.orig).__name__)
            return problem_response(500, detail="An unexpected error occurred.", slug="internal")
        log.info("duplicate_refused", error_class=type(exc.orig).__name__)
        return problem_response(409, title="Conflict", detail="An equal record was just created by another request; reload and try again.", slug="conflict")

    @app.exception_handler(DBAPIError)
    async def _database_error(_: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return await _database_unavailable(_, exc)  # type: ignore[arg-type]  # a lost connection is answered as OperationalError is
        log.error("database_error", error_class=type(exc.orig).__name__)
        return problem_response(500, detail="An unexpected error occurred.", slug="internal")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # Only the class and the place: an exception's message can carry a NIK or a phone number.
        log.error("unhandled_error", error_class=type(exc).__name__, where=_where(exc))
        return problem_response(500, detail="An unexpected error occurred.", slug="internal")


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for the errors an endpoint declares."""
    return {
        status: {"description": HTTPStatus(status).phrase, "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        for status in statuses
    }


def document_problems(app: FastAPI) -> None:
    """Make the OpenAPI document say what the handlers do: every 4xx/5xx is problem+json.

    FastAPI documents its automatic 422 as application/json with its own schema; here it and every
    declared error response point at the Problem schema under application/problem+json.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        schemas.setdefault("Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}"))
        for defname, definition in Problem.model_json_schema(ref_template="#/components/schemas/{model}").get("$defs", {}).items():
            schemas.setdefault(defname, definition)
        schemas["Problem"].pop("$defs", None)
        problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for status, response in operation.get("responses", {}).items():
                    if status[0] in "45" and PROBLEM_JSON not in response.get("content", {}):
                        response["content"] = {PROBLEM_JSON: problem}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the OpenAPI document
