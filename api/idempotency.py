"""`Idempotency-Key` for POSTs that scripts retry.

The first request with a key is done and its answer stored with a fingerprint of the request
(method, path with query, body, caller). A retry with the same key and fingerprint gets the
stored answer and nothing is done again; the same key with another fingerprint is a 409. Keys
belong to a caller: two callers may use the same key. The body is hashed as it streams in, so a
large upload is never held in memory for this.
"""

import hashlib
import json
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UtcDateTime
from api.errors import Conflict, DomainError, RuleViolation, field_problem
from api.principal import Principal

MAX_KEY_LENGTH = 200


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
        raise RuleViolation.on_field("Idempotency-Key", f"The key must be 1 to {MAX_KEY_LENGTH} printable characters.", location="header")
    caller = caller_of(actor)
    stream = HashingStream(body, method=method, target=target, caller=caller)
    find = select(IdempotencyRecord).where(IdempotencyRecord.caller == caller, IdempotencyRecord.key == key)
    stored = await session.scalar(find)
    record = None
    if stored is None:
        # The record is written before the work, in the request's own transaction, and completed
        # after it. A retry sent while this request still runs waits on the unique key (PostgreSQL;
        # on SQLite its write lock already waits): once this one commits, the retry replays its
        # answer instead of doing the work again; if this one rolls back or its process dies, the
        # record goes with the transaction and the retry does the work. Nothing stays "in progress".
        record = IdempotencyRecord(caller=caller, key=key, fingerprint="", status_code=0, body="", created_at=datetime.now(UTC))
        try:
            async with session.begin_nested():
                session.add(record)
                await session.flush()
        except IntegrityError:
            stored = await session.scalar(find.execution_options(populate_existing=True))
            if stored is None:  # committed and gone again meanwhile: let the caller retry
                raise Conflict("A request with this Idempotency-Key was just completed; send it again.") from None
    if stored is not None:
        async for _ in stream:
            pass
        if stored.fingerprint != stream.fingerprint():
            raise Conflict(
                "This Idempotency-Key was used for a different request; use a new key.",
                errors=[field_problem("Idempotency-Key", "used for another request", location="header")],
            )
        return stored.status_code, json.loads(stored.body)
    assert record is not None
    try:
        status_code, payload = await work(stream)
    except DomainError as exc:
        if exc.keep_changes:  # the request's writes are committed in spite of the error: not this record
            await session.delete(record)
            await session.flush()
        raise
    record.fingerprint, record.status_code = stream.fingerprint(), status_code
    record.body, record.created_at = json.dumps(payload, default=str), datetime.now(UTC)
    await session.flush()
    return status_code, payload
