"""Rate limits counted in the database, so that every API process sees the same counts.

Fixed windows: an event at time t counts in the window that started at t - t % window. One row
per (bucket, window, key); when an event arrives, the bucket's rows of windows that have ended are
deleted, so the table holds little more than the current window's callers. Keys (client
addresses, usernames) are stored hashed: the table must tell keys apart, not know them.

Counts are written in the request's transaction, so they commit with it. Two ways to use them:
- `hit`: count every event and refuse (429) past the limit. Public writes do this through
  `PublicWriteLimit` in `api/auth/dependencies.py` (signed-in staff are exempt).
- `check` first, then `count` only when the attempt failed (sign-ins, wrong receipt codes). The
  failure's error must carry `keep_changes=True`, or the count is rolled back with the request:

      await ratelimit.check(session, bucket="receipt-guess", key=client, limit=GUESSES)
      ...
      await ratelimit.count(session, bucket="receipt-guess", key=client, limit=GUESSES)
      raise NotFound("There is no such complaint.", keep_changes=True)
"""

import hashlib
import time

from sqlalchemy import BigInteger, CheckConstraint, Integer, String, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from api.config import RateLimit
from api.db import Base, is_postgresql
from api.errors import TooManyRequests

__all__ = ["RateCounter", "RateLimit", "check", "count", "hit", "reset", "retry_after"]


class RateCounter(Base):
    """Events of one key in one window of one bucket (e.g. failed sign-ins of one address)."""

    __tablename__ = "rate_counters"
    __table_args__ = (CheckConstraint("hits > 0", name="hits_positive"),)

    bucket: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Seconds since the epoch; first in the key after the bucket so that pruning is a range scan.
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)


def _key_hash(bucket: str, key: str) -> str:
    return hashlib.sha256(f"{bucket}\x00{key}".encode()).hexdigest()


def _window(limit: RateLimit, now: float | None) -> tuple[int, int]:
    """The current window's start and the whole seconds left in it."""
    moment = int(now if now is not None else time.time())
    start = moment - moment % limit.window
    return start, start + limit.window - moment


async def count(session: AsyncSession, *, bucket: str, key: str, limit: RateLimit, now: float | None = None) -> tuple[int, int]:
    """Count one event of `key`; returns the events in the current window and its seconds left."""
    start, left = _window(limit, now)
    table = RateCounter.__table__
    await session.execute(delete(table).where(table.c.bucket == bucket, table.c.window_start < start))
    if is_postgresql(session):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).values(bucket=bucket, window_start=start, key_hash=_key_hash(bucket, key), hits=1)
    # One statement, so that concurrent requests from several processes never lose a count.
    stmt = stmt.on_conflict_do_update(index_elements=["bucket", "window_start", "key_hash"], set_={"hits": table.c.hits + 1})
    hits = (await session.execute(stmt.returning(table.c.hits))).scalar_one()
    return hits, left


async def retry_after(session: AsyncSession, *, bucket: str, key: str, limit: RateLimit, now: float | None = None) -> int | None:
    """Seconds until `key` may act again, or None while it is under the limit."""
    start, left = _window(limit, now)
    hits = await session.scalar(
        select(RateCounter.hits).where(
            RateCounter.bucket == bucket, RateCounter.window_start == start, RateCounter.key_hash == _key_hash(bucket, key)
        )
    )
    return left if hits is not None and hits >= limit.count else None


def _refuse(left: int) -> TooManyRequests:
    # The key is not named: it may be a username or an address.
    return TooManyRequests(f"Too many requests; try again in {max(1, left)} seconds.", retry_after=left)


async def check(session: AsyncSession, *, bucket: str, key: str, limit: RateLimit, now: float | None = None) -> None:
    """429 when `key` has reached the limit, without counting this request."""
    left = await retry_after(session, bucket=bucket, key=key, limit=limit, now=now)
    if left is not None:
        raise _refuse(left)


async def hit(session: AsyncSession, *, bucket: str, key: str, limit: RateLimit, now: float | None = None) -> None:
    """Count this request; 429 when it goes over the limit."""
    hits, left = await count(session, bucket=bucket, key=key, limit=limit, now=now)
    if hits > limit.count:
        raise _refuse(left)


async def reset(session: AsyncSession, *, bucket: str, key: str) -> None:
    """Forget `key`'s events (a successful sign-in clears that username's failures)."""
    table = RateCounter.__table__
    await session.execute(delete(table).where(table.c.bucket == bucket, table.c.key_hash == _key_hash(bucket, key)))
