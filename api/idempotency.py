"""`Idempotency-Key` for POSTs that scripts retry.

The first request with a key is done and its answer stored with a fingerprint of the request
(method, path with query, body, caller). A retry with the same key and fingerprint gets the
stored answer and nothing is done again; the same key with another fingerprint is a 409. Keys
belong to a caller: two callers may use the same key. The body is hashed as it streams in, so a
large upload is never held in memory for this.
"""

import hashlib
import json
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Coroutine
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, cast

from fastapi import Depends, Header, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import Integer, String, Table, Text, UniqueConstraint, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from api.auth.dependencies import CurrentPrincipal
from api.db import Base, SessionDep, UtcDateTime, add_as_stored, is_postgresql, last_update
from api.errors import Conflict, DomainError, RuleViolation, field_problem, problem_responses
from api.principal import Principal

MAX_KEY_LENGTH = 200
# A stored answer is replayed for this long; after it the key may be used again.
EXPIRY = timedelta(hours=24)
# True after `run_once` replayed a stored answer in this request: the router says so in
# `Idempotent-Replayed: true`.
replayed_var: ContextVar[bool] = ContextVar("idempotent_replayed", default=False)


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("caller", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    caller: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


def caller_of(actor: Principal) -> str:
    return f"{actor.kind}:{actor.id}"


class HashingStream:
    """Passes a body's chunks through while hashing them with the request's other parts."""

    def __init__(self, chunks: AsyncIterator[bytes], *, method: str, target: str, caller: str) -> None:
        self._chunks = chunks
        self._hash = hashlib.sha256(f"{method}\n{target}\n{caller}\n".encode())

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            self._hash.update(chunk)
            yield chunk

    def fingerprint(self) -> str:
        return self._hash.hexdigest()


Work = Callable[[AsyncIterable[bytes]], Awaitable[tuple[int, dict[str, Any]]]]


async def run_once(
    session: AsyncSession,
    *,
    key: str | None,
    actor: Principal,
    method: str,
    target: str,
    body: AsyncIterator[bytes],
    work: Work,
) -> tuple[int, dict[str, Any]]:
    """Run `work(body)` once per (caller, key); returns (status code, JSON body)."""
    if key is None:
        return await work(body)
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise RuleViolation.on_field("Idempotency-Key", location="header", code="idempotency.key", params={"max_length": MAX_KEY_LENGTH})
    caller = caller_of(actor)
    stream = HashingStream(body, method=method, target=target, caller=caller)
    replayed_var.set(False)
    # The record is written before the work, in the request's own transaction, and completed
    # after it. A retry sent while this request still runs waits on the unique key (PostgreSQL;
    # on SQLite its write lock already waits): once this one commits, the retry replays its
    # answer instead of doing the work again; if this one rolls back or its process dies, the
    # record goes with the transaction and the retry does the work. Nothing stays "in progress".
    record, stored = await _reserve(session, caller=caller, key=key, fingerprint="")
    if stored is not None:
        async for _ in stream:
            pass
        if stored.fingerprint != stream.fingerprint():
            raise Conflict(code="idempotency.reused", errors=[field_problem("Idempotency-Key", location="header", code="idempotency.reused")])
        replayed_var.set(True)
        return stored.status_code, json.loads(stored.body)
    assert record is not None
    try:
        status_code, payload = await work(stream)
    except DomainError as exc:
        if exc.keep_changes:  # the request's writes are committed in spite of the error: not this record
            await session.delete(record)
            await session.flush()
        raise
    if status_code >= 400:
        # A rejected request is not stored: the corrected request may be sent under the same key.
        await session.delete(record)
        await session.flush()
        return status_code, payload
    # With the COMMIT (PostgreSQL, in a request): nothing else of the request reads it.
    body_text = json.dumps(payload, default=str)
    await last_update(session, record, fingerprint=stream.fingerprint(), status_code=status_code, body=body_text, created_at=datetime.now(UTC))
    return status_code, payload


async def _reserve(session: AsyncSession, *, caller: str, key: str, fingerprint: str) -> tuple[IdempotencyRecord, None] | tuple[None, IdempotencyRecord]:
    """(caller, key)'s record: reserved for this request (new, status 0), or the one stored (not
    expired). The common case, a new key, is one statement; an expired record is deleted and the
    key reserved afresh."""
    table = cast(Table, IdempotencyRecord.__table__)  # mapped with __tablename__: its __table__ is a Table
    insert = postgresql.insert if is_postgresql(session) else sqlite.insert
    find = select(IdempotencyRecord).where(IdempotencyRecord.caller == caller, IdempotencyRecord.key == key).execution_options(populate_existing=True)
    for _ in range(2):
        values = {"caller": caller, "key": key, "fingerprint": fingerprint, "status_code": 0, "body": "", "created_at": datetime.now(UTC)}
        # Waits for a concurrent request's uncommitted record of the key; reserves nothing if it commits.
        reserved = await session.scalar(insert(table).values(values).on_conflict_do_nothing(index_elements=["caller", "key"]).returning(table.c.id))
        if reserved is not None:
            return add_as_stored(session, IdempotencyRecord(id=reserved, **values)), None
        stored = await session.scalar(find)
        if stored is None:  # committed and gone again meanwhile: let the caller retry
            break
        if _aware(stored.created_at) > datetime.now(UTC) - EXPIRY:
            return None, stored
        await session.delete(stored)  # expired: the key starts afresh
        await session.flush()
    raise Conflict(code="idempotency.just_done")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- Every creating POST (201): the same contract, generically -----------------------------------
#
# `CreatingRoute` is the route class of every API router. A POST route that answers 201 gets the
# `idempotent_create` dependency (which declares the `Idempotency-Key` header in the OpenAPI
# document) and the `Idempotent-Replayed` response header; its handler stores a 2xx answer under
# (caller, key) in the request's own transaction and replays it on a retry. Staff are keyed by who
# they are; residents and anonymous callers by their client address.

REPLAYED_HEADER = "Idempotent-Replayed"
KEY_HEADER_DESCRIPTION = (
    "Makes a retry safe: a retry with the same key and the same request gets the first answer again "
    "(`Idempotent-Replayed: true`) and creates nothing; the same key with another request is a 409. "
    "Answers are kept 24 hours; a rejected request (4xx) is not stored."
)
REPLAYED_RESPONSE_HEADER: dict[str, Any] = {
    "description": "`true` when this is the stored answer to an earlier request with the same Idempotency-Key (kept 24 h).",
    "schema": {"type": "string", "enum": ["true"]},
}
_REPLAYED_HEADERS = ("location", "etag")


class _Replay(Exception):
    """Raised by `idempotent_create` to answer with a stored response instead of running the route."""

    def __init__(self, status_code: int, body: str, headers: dict[str, str]) -> None:
        self.status_code, self.body, self.headers = status_code, body, headers


def request_caller(request: Request, actor: Principal) -> str:
    if actor.is_staff:
        return caller_of(actor)
    client = request.client.host if request.client else "unknown"
    return f"{actor.kind}:{actor.id}@{client}"[:64]


async def idempotent_create(
    request: Request,
    session: SessionDep,
    actor: CurrentPrincipal,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=MAX_KEY_LENGTH, description=KEY_HEADER_DESCRIPTION)] = None,
) -> None:
    """Replays a stored answer for (caller, key), or reserves the key for this request."""
    if idempotency_key is None:
        return
    key = idempotency_key
    if not key.isprintable() or not key:
        raise RuleViolation.on_field("Idempotency-Key", location="header", code="idempotency.key", params={"max_length": MAX_KEY_LENGTH})
    caller = request_caller(request, actor)
    target = request.url.path + ("?" + request.url.query if request.url.query else "")
    digest = hashlib.sha256(f"{request.method}\n{target}\n{caller}\n".encode())
    digest.update(await request.body())
    fingerprint = digest.hexdigest()
    record, stored = await _reserve(session, caller=caller, key=key, fingerprint=fingerprint)
    if stored is None:
        request.state.idempotency = (session, record)
        return
    if stored.fingerprint != fingerprint or stored.status_code == 0:
        raise Conflict(code="idempotency.reused", errors=[field_problem("Idempotency-Key", location="header", code="idempotency.reused")])
    saved = json.loads(stored.body)
    raise _Replay(stored.status_code, saved["body"], saved["headers"])


async def _store(request: Request, response: Response) -> None:
    pending = getattr(request.state, "idempotency", None)
    if pending is None:
        return
    session, record = pending
    request.state.idempotency = None
    if not 200 <= response.status_code < 300 or not isinstance(response.body, bytes):
        await session.delete(record)  # a rejected answer is not stored
        await session.flush()
        return
    headers = {name: response.headers[name] for name in _REPLAYED_HEADERS if name in response.headers}
    record.status_code, record.created_at = response.status_code, datetime.now(UTC)
    record.body = json.dumps({"body": response.body.decode(), "headers": headers})
    await session.flush()


class CreatingRoute(APIRoute):
    """An API route; a POST answering 201 takes an `Idempotency-Key` (see above)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = kwargs.get("methods") or ()
        self.creates = "POST" in methods and kwargs.get("status_code") == 201
        if self.creates:
            kwargs["dependencies"] = [*(kwargs.get("dependencies") or []), Depends(idempotent_create)]
            responses = dict(kwargs.get("responses") or {})
            created = dict(responses.get(201, {}))
            created["headers"] = {**created.get("headers", {}), REPLAYED_HEADER: REPLAYED_RESPONSE_HEADER}
            responses[201] = created
            # The key used before for a different request is refused with a 409 problem.
            responses.setdefault(409, problem_responses(409)[409])
            kwargs["responses"] = responses
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if not self.creates:
            return handler

        async def idempotent_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except _Replay as replay:
                return Response(replay.body, status_code=replay.status_code, media_type="application/json", headers={**replay.headers, REPLAYED_HEADER: "true"})
            except DomainError as exc:
                pending = getattr(request.state, "idempotency", None)
                if pending is not None and exc.keep_changes:  # the writes are committed: not the reservation
                    await pending[0].delete(pending[1])
                    await pending[0].flush()
                raise
            await _store(request, response)
            return response

        return idempotent_handler
