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
from pydantic_core import PydanticCustomError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import messages

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
        description="A stable, machine-readable code for what is wrong (`missing`, `too_long`, `nik.other_region`...): one of the codes listed on `Problem.code`.",
        examples=["missing"],
    )
    params: dict[str, Any] | None = Field(
        default=None,
        description="The values the code's message names (`max_length`, `deadline`...; dates as YYYY-MM-DD), never personal data.",
        examples=[{"max_length": 120}],
    )
    message: str = Field(description="What is wrong, in the language asked for with Accept-Language (`id`, the default, or `en`).", examples=["Wajib diisi."])


class Problem(BaseModel):
    """The body of every error response (RFC 9457 application/problem+json)."""

    type: str = Field(
        default="about:blank", description="The kind of problem: `urn:rekam:problem:<slug>`, listed in docs/api.md.", examples=["urn:rekam:problem:validation"]
    )
    title: str = Field(
        description="A short summary of the kind of problem, in the language of Accept-Language (`id` by default, or `en`).",
        examples=["Permintaan tidak valid"],
    )
    status: int = Field(description="The HTTP status code.", examples=[422])
    detail: str | None = Field(
        default=None,
        description="What went wrong in this request, in the language of Accept-Language (`id` by default, or `en`).",
        examples=["count: Harus 0 atau lebih."],
    )
    instance: str | None = Field(
        default=None, description="The request id (the X-Request-ID response header): quote it when reporting a problem.", examples=["3f2a9c1b7d4e8a60"]
    )
    code: str = Field(
        default="error",
        description="A stable, machine-readable code for the problem (`not_found`, `queue.closed`, `validation.invalid`...): translate it, not `detail`. The codes are listed in this field's enum; the server's own wording of each, in Indonesian and English, is `api/messages.py`.",
        examples=["validation.invalid"],
    )
    params: dict[str, Any] | None = Field(
        default=None,
        description="The values the code's message names (dates as YYYY-MM-DD), never personal data.",
        examples=[{"point": "Kantor Kecamatan Serpong"}],
    )
    errors: list[ProblemItem] | None = Field(default=None, description="The fields or rows at fault, when there are any.")


def field_problem(
    field: str | None,
    message: str | None = None,
    *,
    location: str | None = "body",
    row: int | None = None,
    code: str = "invalid",
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One item of a problem's `errors` list: which field (and CSV row), a code, its params and what
    is wrong with it (`message`: English, rendered from the catalogue when left out; the handler
    renders it again in the reader's language).

    `location` None: the item names a row of an uploaded file instead (`row`)."""
    if message is None:
        message = messages.render(code, params, "en")
    item: dict[str, Any] = {"field": field, "code": code, "message": message}
    if params:
        item["params"] = messages.json_params(params)
    if location is not None:
        item = {"location": location, **item}
    if row is not None:
        item["row"] = row
    return item


# What a request field that does not match its pattern should look like, by pattern: a domain
# registers the code of its own patterns (`explain_pattern`), so that validation errors say what
# is expected instead of quoting a regular expression. Nothing here knows any domain.
_PATTERN_CODES: dict[str, str] = {}


def explain_pattern(pattern: str, code: str) -> None:
    """Carry `code` (its words in api.messages) instead of `pattern` when a field does not match `pattern`."""
    _PATTERN_CODES[pattern] = code


def field_rule(code: str, **params: Any) -> PydanticCustomError:
    """What a schema validator raises: pydantic reports it with `code` as its type, mapped to a field error."""
    return PydanticCustomError(code, messages.render(code, params, "en"), params or None)


class DomainError(Exception):
    status: int = 400
    title: str = "Bad request"
    slug: str = "bad-request"
    code: str = ""  # "" means the slug with underscores (`not_found`)

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        keep_changes: bool = False,
        code: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        if code:
            self.code = code
        elif not self.code:
            self.code = self.slug.replace("-", "_")
        # A coded error's English detail comes from the catalogue (logs, tests, `en` readers).
        if detail is None:
            detail = messages.render(self.code, params, "en")
        super().__init__(detail)
        self.params = params
        # True when what the request wrote must stay despite the error (a failed sign-in's audit entry).
        self.keep_changes = keep_changes
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        if title:
            self.title = title


class NotFound(DomainError):
    status, title, slug = 404, "Not found", "not-found"


def not_found(what: str, key: Any, *, field: str | None = None) -> "NotFound":
    """NotFound naming `what` and its key (and the field the key came from)."""
    errors = [field_problem(field, code="unknown_reference")] if field else None
    return NotFound(code="not_found.thing", params={"what": what, "id": key}, errors=errors)


async def get_or_404(session: Any, model: type[_M], key: Any, *, what: str, field: str | None = None) -> _M:
    """The row of `model` with primary key `key`, or NotFound naming `what` (and the field it came from)."""
    row = await session.get(model, key)
    if row is None:
        raise not_found(what, key, field=field)
    return row


class Conflict(DomainError):
    status, title, slug = 409, "Conflict", "conflict"


class RuleViolation(DomainError):
    """Well-formed input that breaks a rule of the campaign (a wrong code, a date out of range).

    The same problem type as a malformed request (`validation`): one type per kind of problem; the
    `code` tells them apart (`validation.rule`, `validation.invalid`)."""

    status, title, slug, code = 422, "Invalid request", "validation", "validation.rule"

    @classmethod
    def on_field(
        cls, field: str, message: str | None = None, *, location: str = "body", code: str = "invalid", params: dict[str, Any] | None = None
    ) -> "RuleViolation":
        """One field at fault: the problem carries the field's code (and params) as its own."""
        item = field_problem(field, message, location=location, code=code, params=params)
        return cls(item["message"], errors=[item], code=None if code == "invalid" else code, params=params)

    @classmethod
    def of_fields(cls, errors: list[dict[str, Any]]) -> "RuleViolation":
        """Several fields at fault: one item each; the problem says how many (`validation.fields`)."""
        if len(errors) == 1:
            only = errors[0]
            return cls(only["message"], errors=errors, code=only["code"] if only["code"] != "invalid" else None, params=only.get("params"))
        return cls(errors=errors, code="validation.fields", params={"count": len(errors)})


class PayloadTooLarge(DomainError):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class UnsupportedMediaType(DomainError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


class Unauthorized(DomainError):
    status, title, slug = 401, "Not signed in", "unauthorized"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class Forbidden(DomainError):
    status, title, slug = 403, "Forbidden", "forbidden"


class TooManyRequests(DomainError):
    status, title, slug = 429, "Too many requests", "too-many-requests"

    def __init__(self, detail: str | None = None, *, retry_after: int, keep_changes: bool = False, code: str | None = None) -> None:
        seconds = max(1, retry_after)
        super().__init__(detail, headers={"Retry-After": str(seconds)}, keep_changes=keep_changes, code=code, params={"seconds": seconds})


class ServiceUnavailable(DomainError):
    status, title, slug = 503, "Service unavailable", "service-unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int = 2, code: str | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)}, code=code)


def language_of(headers: Any) -> str:
    """The reader's language from a request's (or an ASGI scope's) Accept-Language."""
    if isinstance(headers, list):  # an ASGI scope's raw headers
        raw = next((value.decode("latin-1") for name, value in headers if name == b"accept-language"), None)
        return messages.negotiate(raw)
    return messages.negotiate(headers.get("accept-language"))


def localized(code: str, params: dict[str, Any] | None, english: str | None, lang: str) -> str | None:
    """The words for `code` in `lang`. A class's generic code raised with its own English words
    keeps them for an English reader; an Indonesian one gets the generic sentence, never English."""
    if messages.known(code) and (code not in messages.GENERIC or lang != "en" or not english):
        return messages.render(code, params, lang)
    return english


def localize_items(items: list[dict[str, Any]] | None, lang: str) -> list[dict[str, Any]] | None:
    if items is None:
        return None
    return [{**item, "message": localized(item.get("code", "invalid"), item.get("params"), item.get("message"), lang)} for item in items]


def localize_problem(body: dict[str, Any], lang: str) -> dict[str, Any]:
    """A problem body built elsewhere (a rejected import, which also goes into the idempotency
    store), worded again in `lang` from its codes."""
    out = {**body, "title": messages.title(body["status"], lang)}
    text = localized(body.get("code", "error"), body.get("params"), body.get("detail"), lang)
    if text:
        out["detail"] = text
    if body.get("errors") is not None:
        out["errors"] = localize_items(body["errors"], lang)
    return out


def problem_response(
    status: int,
    *,
    title: str | None = None,
    detail: str | None = None,
    slug: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    code: str | None = None,
    params: dict[str, Any] | None = None,
    lang: str = messages.DEFAULT_LANGUAGE,
    worded_detail: str | None = None,
) -> JSONResponse:
    """A problem+json answer in `lang`: the title by status, the detail and each error's message
    from the catalogue by code (English `detail`/`title` given here are the fallback for `en`;
    `worded_detail` is a detail already in `lang`)."""
    code = code or (slug.replace("-", "_") if slug else _STATUS_CODES.get(status, "error"))
    body: dict[str, Any] = {
        "type": f"{PROBLEM_BASE}{slug}" if slug else "about:blank",
        "title": messages.title(status, lang) if status in messages.TITLES else (title or HTTPStatus(status).phrase),
        "status": status,
    }
    text = worded_detail or localized(code, params, detail, lang)
    if text:
        body["detail"] = text
    request_id = structlog.contextvars.get_contextvars().get("request_id")  # bound by RequestContextMiddleware
    if request_id:
        body["instance"] = request_id
    body["code"] = code
    if params:
        body["params"] = messages.json_params(params)
    if errors is not None:
        body["errors"] = localize_items(errors, lang)
    # The words depend on Accept-Language: a shared cache must keep one answer per language.
    headers = {**(headers or {}), "Vary": "Accept-Language"}
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

# Pydantic's error types as Rekam's codes (api.messages words them), with the params each names
# from pydantic's context. A type not listed is `invalid`; a validator's own code (`field_rule`)
# passes through.
_PYDANTIC_CODES: dict[str, tuple[str, dict[str, str]]] = {
    "missing": ("missing", {}),
    "string_too_long": ("too_long", {"max_length": "max_length"}),
    "string_too_short": ("too_short", {"min_length": "min_length"}),
    "too_long": ("too_many", {"max_length": "max_length"}),
    "too_short": ("too_few", {"min_length": "min_length"}),
    "greater_than_equal": ("at_least", {"limit": "ge"}),
    "greater_than": ("above", {"limit": "gt"}),
    "less_than_equal": ("at_most", {"limit": "le"}),
    "less_than": ("below", {"limit": "lt"}),
    "int_parsing": ("not_integer", {}),
    "int_type": ("not_integer", {}),
    "int_from_float": ("not_integer", {}),
    "float_parsing": ("not_number", {}),
    "float_type": ("not_number", {}),
    "decimal_parsing": ("not_number", {}),
    "decimal_type": ("not_number", {}),
    "finite_number": ("not_number", {}),
    "string_type": ("not_text", {}),
    "string_unicode": ("not_text", {}),
    "bool_parsing": ("not_boolean", {}),
    "bool_type": ("not_boolean", {}),
    "date_parsing": ("not_date", {}),
    "date_type": ("not_date", {}),
    "date_from_datetime_parsing": ("not_date", {}),
    "date_from_datetime_inexact": ("not_date", {}),
    "datetime_parsing": ("not_datetime", {}),
    "datetime_type": ("not_datetime", {}),
    "datetime_from_date_parsing": ("not_datetime", {}),
    "timezone_aware": ("not_datetime", {}),
    "time_parsing": ("not_time", {}),
    "time_type": ("not_time", {}),
    "enum": ("not_allowed", {"allowed": "expected"}),
    "literal_error": ("not_allowed", {"allowed": "expected"}),
    "model_type": ("not_object", {}),
    "model_attributes_type": ("not_object", {}),
    "dict_type": ("not_object", {}),
    "list_type": ("not_list", {}),
    "extra_forbidden": ("unknown_field", {}),
    "json_invalid": ("invalid_json", {}),
    "json_type": ("invalid_json", {}),
    "string_pattern_mismatch": ("pattern", {}),
}


def _validation_items(exc: RequestValidationError) -> list[dict[str, Any]]:
    items = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        location = loc[0] if loc else "body"
        field = ".".join(loc[1:]) or None
        kind = str(error.get("type") or "invalid")
        context = error.get("ctx") or {}
        # The input itself is not echoed: it may be a NIK or a phone number. Neither is pydantic's
        # English text: the code and its params are worded by api.messages.
        if kind in _PYDANTIC_CODES:
            code, wanted = _PYDANTIC_CODES[kind]
            params = {name: context[key] for name, key in wanted.items() if key in context} or None
            if kind == "string_pattern_mismatch":
                code = _PATTERN_CODES.get(context.get("pattern", ""), code)
        elif messages.known(kind):  # a validator's field_rule
            code, params = kind, {name: value for name, value in context.items() if isinstance(value, str | int | float)} or None
        else:
            code, params = "invalid", None
        items.append(field_problem(field, location=location, code=code, params=params))
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
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(
            exc.status,
            title=exc.title,
            detail=exc.detail,
            slug=exc.slug,
            errors=exc.errors,
            headers=exc.headers,
            code=exc.code,
            params=exc.params,
            lang=language_of(request.headers),
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        lang = language_of(request.headers)
        items = localize_items(_validation_items(exc), lang) or []
        first = items[0] if items else {"field": None, "location": "body", "message": messages.render("invalid", None, lang)}
        # The first field's words, already in the reader's language (the code says the rest).
        detail = f"{first['field'] or first['location']}: {first['message']}"
        return problem_response(422, slug="validation", errors=items, code="validation.invalid", lang=lang, worded_detail=detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail: str | None = exc.detail if isinstance(exc.detail, str) else None
        code: str | None = getattr(exc, "code", None)  # an HTTPException of ours may carry one (api.bodylimit)
        if exc.status_code == 404 and detail == "Not Found":
            code = "nothing_here"
        elif detail == HTTPStatus(exc.status_code).phrase:
            detail = None
        slug = "payload-too-large" if exc.status_code == 413 else None
        return problem_response(
            exc.status_code,
            detail=detail,
            slug=slug,
            headers=getattr(exc, "headers", None),
            code=code,
            params=getattr(exc, "params", None),
            lang=language_of(request.headers),
        )

    @app.exception_handler(OperationalError)
    async def _database_unavailable(request: Request, exc: OperationalError) -> JSONResponse:
        # "database is locked" on SQLite, a lost connection on PostgreSQL: retrying is the answer.
        log.warning("database_unavailable", error_class=type(exc.orig).__name__)
        return problem_response(503, slug="service-unavailable", headers={"Retry-After": "2"}, lang=language_of(request.headers))

    @app.exception_handler(DataError)
    async def _out_of_range(request: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot hold (a number too large): the caller's input, not our fault.
        return problem_response(422, slug="validation", code="validation.out_of_range", lang=language_of(request.headers))

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> JSONResponse:
        return problem_response(422, slug="validation", code="validation.out_of_range", lang=language_of(request.headers))

    @app.exception_handler(IntegrityError)
    async def _duplicate(request: Request, exc: IntegrityError) -> JSONResponse:
        # Issue #17, item 7: two equal creates at once both pass the service's "does it exist?"
        # check; the database's unique index refuses the second at flush or commit. That is the
        # same conflict the check would have reported, so the loser gets 409, never 500 (its
        # transaction is rolled back by the session dependency). Other integrity errors are bugs.
        if not is_duplicate(exc):
            log.error("database_error", error_class=type(exc.orig).__name__)
            return problem_response(500, slug="internal", lang=language_of(request.headers))
        log.info("duplicate_refused", error_class=type(exc.orig).__name__)
        return problem_response(409, slug="conflict", code="duplicate", lang=language_of(request.headers))

    @app.exception_handler(DBAPIError)
    async def _database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return await _database_unavailable(request, exc)  # type: ignore[arg-type]  # a lost connection is answered as OperationalError is
        log.error("database_error", error_class=type(exc.orig).__name__)
        return problem_response(500, slug="internal", lang=language_of(request.headers))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Only the class and the place: an exception's message can carry a NIK or a phone number.
        log.error("unhandled_error", error_class=type(exc).__name__, where=_where(exc))
        return problem_response(500, slug="internal", lang=language_of(request.headers))


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
        # The codes are the contract integrators translate: every one the server can send, listed.
        for name in ("Problem", "ProblemItem"):
            schemas[name]["properties"]["code"]["enum"] = sorted(messages.MESSAGES)
        problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for status, response in operation.get("responses", {}).items():
                    if status[0] in "45" and PROBLEM_JSON not in response.get("content", {}):
                        response["content"] = {PROBLEM_JSON: problem}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the OpenAPI document
