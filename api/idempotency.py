"""`Idempotency-Key` for POSTs that scripts retry.

The first request with a key is done and its answer stored with a fingerprint of the request
(method, path with query, body, caller). A retry with the same key and fingerprint gets the
stored answer and nothing is done again; the same key with another fingerprint is a 409. Keys
belong to a caller: two callers may use the same key. The body is hashed as it streams in, so a
large upload is never held in memory for this.
"""

import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, String, Text, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UtcDateTime
from api.errors import Conflict, RuleViolation

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


def caller_of(actor: Any) -> str:
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


Work = Callable[[AsyncIterator[bytes]], Awaitable[tuple[int, dict[str, Any]]]]


async def run_once(
    session: AsyncSession,
    *,
    key: str | None,
    actor: Any,
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
    stored = await session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.caller == caller, IdempotencyRecord.key == key))
    if stored is not None:
        async for _ in stream:
            pass
        if stored.fingerprint != stream.fingerprint():
            raise Conflict(
                "This Idempotency-Key was used for a different request; use a new key.",
                errors=[{"location": "header", "field": "Idempotency-Key", "message": "used for another request"}],
            )
        return stored.status_code, json.loads(stored.body)
    status_code, payload = await work(stream)  # type: ignore[arg-type]
    session.add(
        IdempotencyRecord(
            caller=caller, key=key, fingerprint=stream.fingerprint(), status_code=status_code,
            body=json.dumps(payload, default=str), created_at=datetime.now(UTC),
        )
    )
    await session.flush()
    return status_code, payload
