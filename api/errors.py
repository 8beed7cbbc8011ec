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
from pydantic import BaseModel
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger("api.errors")

PROBLEM_JSON = "application/problem+json"
_M = TypeVar("_M")


class ProblemItem(BaseModel):
    location: str | None = None
    row: int | None = None
    field: str | None = None
    message: str


class Problem(BaseModel):
    """The body of every error response."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[ProblemItem] | None = None


def field_problem(field: str | None, message: str, *, location: str | None = "body", row: int | None = None) -> dict[str, Any]:
    """One item of a problem's `errors` list: which field (and CSV row) and what is wrong with it.

    `location` None: the item names a row of an uploaded file instead (`row`)."""
    item: dict[str, Any] = {"field": field, "message": message} if location is None else {"location": location, "field": field, "message": message}
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

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        keep_changes: bool = False,
    ) -> None:
        super().__init__(detail)
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
    """Well-formed input that breaks a rule of the campaign (a wrong code, a date out of range)."""

    status, title, slug = 422, "Rule violated", "rule-violation"

    @classmethod
    def on_field(cls, field: str, message: str, *, location: str = "body") -> "RuleViolation":
        return cls(message, errors=[field_problem(field, message, location=location)])


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
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:rekam:problem:{slug}" if slug else "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


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
        items.append(field_problem(field, message, location=location))
    return items


def _where(exc: BaseException) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else "?"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return problem_response(
            exc.status, title=exc.title, detail=exc.detail, slug=exc.slug, errors=exc.errors, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        items = _validation_items(exc)
        first = items[0] if items else {"field": None, "message": "invalid"}
        detail = f"{first['field'] or first['location']}: {first['message']}"
        return problem_response(422, title="Invalid request", detail=detail, slug="validation", errors=items)

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
        return problem_response(422, title="Invalid request", detail="A value is out of range for its field.", slug="validation")

    @app.exception_handler(OverflowError)
    async def _overflow(_: Request, exc: OverflowError) -> JSONResponse:
        return problem_response(422, title="Invalid request", detail="A number is too large.", slug="validation")

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
                    if status[0] in "45":
                        response["content"] = {PROBLEM_JSON: problem}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the OpenAPI document
