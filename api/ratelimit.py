"""Rate limits counted in the database, so that every API process sees the same counts.

Fixed windows: an event at time t counts in the window that started at t - t % window. One row
per (bucket, window, key); the first event of a window in each process deletes the bucket's rows
of windows that have ended, so the table holds little more than the current window's callers.
Once per window and process, not per event: every public write paid a round trip for a DELETE
that found nothing. Each process prunes on its own (another's prune may not have committed, or
been rolled back with its request: the next window's prune takes what it left). Keys (client
addresses, usernames) are stored as an HMAC-SHA-256 keyed with the server's secret
(`hash_key`): the table must tell keys apart, not know them, and without the secret all of IPv4
cannot be tried against it. The secret is REKAM_SECRET_KEY when set, else the one the migration
generated into `server_secrets` (generated again there if that row is missing), read once per
process and database.

Counts are written in the request's transaction, so they commit with it. Two ways to use them:
- `hit`: count every event and refuse (429) past the limit. Public writes do this through
  `PublicWriteLimit` in `api/auth/dependencies.py` (signed-in staff are exempt).
- `check` first, then `count` only when the attempt failed (sign-ins, wrong receipt codes). The
  failure's error must carry `keep_changes=True`, or the count is rolled back with the request:

      await ratelimit.check(session, bucket="receipt-guess", key=client, limit=GUESSES)
      ...
      await ratelimit.count(session, bucket="receipt-guess", key=client, limit=GUESSES)
      raise NotFound("There is no such complaint.", keep_changes=True)

Every limit a request is counted or checked against is announced on its answer (`RateLimit-Policy`
and `RateLimit`, draft-ietf-httpapi-ratelimit-headers, structured fields): the policy named by
its bucket with its quota `q` and window `w` in seconds, and the quota `r` left in the current
window with `t`, the seconds until it resets. `RequestContextMiddleware` writes them from
`policies()`, which `count` and `retry_after` fill for the request.
"""

import hashlib
import hmac
import secrets
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import BigInteger, CheckConstraint, Integer, String, Table, delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from api.config import RateLimit, get_settings
from api.db import Base, UtcDateTime, is_postgresql
from api.errors import TooManyRequests

__all__ = ["RateCounter", "RateLimit", "ServerSecret", "check", "count", "hash_key", "hit", "keyed_hash", "reset", "retry_after"]

HASH_KEY_NAME = "hash-key"

# (bucket, quota, window seconds, remaining, seconds to reset) of each limit the request met; a
# fresh list per request, set by RequestContextMiddleware.
policies_var: ContextVar[list[tuple[str, int, int, int, int]] | None] = ContextVar("rate_limit_policies", default=None)


def _announce(bucket: str, limit: RateLimit, hits: int, left: int) -> None:
    seen = policies_var.get()
    if seen is None:
        return
    entry = (bucket, limit.count, limit.window, max(0, limit.count - hits), left)
    for i, old in enumerate(seen):
        if old[0] == bucket:
            seen[i] = entry
            return
    seen.append(entry)


def header_values(seen: list[tuple[str, int, int, int, int]]) -> tuple[bytes, bytes]:
    """`RateLimit-Policy` and `RateLimit` for the limits a request met."""
    policy = ", ".join(f'"{bucket}";q={quota};w={window}' for bucket, quota, window, _, _ in seen)
    state = ", ".join(f'"{bucket}";r={remaining};t={reset}' for bucket, _, _, remaining, reset in seen)
    return policy.encode(), state.encode()


class ServerSecret(Base):
    """Secrets the server generates for itself and every process must share (the hash key)."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


# Per database (URL), so that one process serving one database reads the secret once.
_hash_keys: dict[str, bytes] = {}
# (database URL, bucket) -> the start of the window in which this process last pruned the bucket.
_pruned: dict[tuple[str, str], int] = {}


def _database(session: AsyncSession) -> str:
    return str(session.get_bind().engine.url)


async def hash_key(session: AsyncSession) -> bytes:
    """The secret that keys hashes of client addresses and usernames."""
    configured = get_settings().secret_key
    if configured:
        return configured.get_secret_value().encode()
    url = _database(session)
    cached = _hash_keys.get(url)
    if cached is not None:
        return cached
    value = await session.scalar(select(ServerSecret.value).where(ServerSecret.name == HASH_KEY_NAME))
    if value is None:
        # The migration made one; this is for a database whose row was deleted. Concurrent first
        # uses agree: the insert that loses does nothing, and both read the winner.
        insert = postgresql.insert if is_postgresql(session) else sqlite.insert
        await session.execute(
            insert(ServerSecret)
            .values(name=HASH_KEY_NAME, value=secrets.token_hex(32), created_at=datetime.now(UTC))
            .on_conflict_do_nothing(index_elements=["name"])
        )
        value = (await session.execute(select(ServerSecret.value).where(ServerSecret.name == HASH_KEY_NAME))).scalar_one()
    _hash_keys[url] = value.encode()
    return _hash_keys[url]


def keyed_hash(secret: bytes, text: str) -> str:
    return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()


class RateCounter(Base):
    """Events of one key in one window of one bucket (e.g. failed sign-ins of one address)."""

    __tablename__ = "rate_counters"
    __table_args__ = (CheckConstraint("hits > 0", name="hits_positive"),)

    bucket: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Seconds since the epoch; first in the key after the bucket so that pruning is a range scan.
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)


async def _key_hash(session: AsyncSession, bucket: str, key: str) -> str:
    return keyed_hash(await hash_key(session), f"{bucket}\x00{key}")


def _window(limit: RateLimit, now: float | None) -> tuple[int, int]:
    """The current window's start and the whole seconds left in it."""
    moment = int(now if now is not None else time.time())
    start = moment - moment % limit.window
    return start, start + limit.window - moment


async def count(session: AsyncSession, *, bucket: str, key: str, limit: RateLimit, now: float | None = None) -> tuple[int, int]:
    """Count one event of `key`; returns the events in the current window and its seconds left."""
    start, left = _window(limit, now)
    table = cast(Table, RateCounter.__table__)  # mapped with __tablename__: its __table__ is a Table
    where = (_database(session), bucket)
    if _pruned.get(where) != start:
        _pruned[where] = start
        await _prune(session, table, bucket=bucket, before=start)
    insert = postgresql.insert if is_postgresql(session) else sqlite.insert
    stmt = insert(table).values(bucket=bucket, window_start=start, key_hash=await _key_hash(session, bucket, key), hits=1)
    # One statement, so that concurrent requests from several processes never lose a count.
    stmt = stmt.on_conflict_do_update(index_elements=["bucket", "window_start", "key_hash"], set_={"hits": table.c.hits + 1})
    hits = (await session.execute(stmt.returning(table.c.hits))).scalar_one()
    _announce(bucket, limit, hits, left)
    return hits, left


async def _prune(session: AsyncSession, table: Table, *, bucket: str, before: int) -> None:
    """Delete the bucket's rows of windows that started before `before`."""
    ended = select(table.c.bucket, table.c.window_start, table.c.key_hash).where(table.c.bucket == bucket, table.c.window_start < before)
    if is_postgresql(session):
        # Rows another request is deleting (locked until its COMMIT) are left to it: waiting for
        # them made every request of a bucket queue behind the first one of a new window.
        ended = ended.with_for_update(skip_locked=True)
    await session.execute(delete(table).where(tuple_(table.c.bucket, table.c.window_start, table.c.key_hash).in_(ended)))


async def retry_after(session: AsyncSession, *, bucket: str, key: str, limit: RateLimit, now: float | None = None) -> int | None:
    """Seconds until `key` may act again, or None while it is under the limit."""
    start, left = _window(limit, now)
    hits = await session.scalar(
        select(RateCounter.hits).where(
            RateCounter.bucket == bucket, RateCounter.window_start == start, RateCounter.key_hash == await _key_hash(session, bucket, key)
        )
    )
    _announce(bucket, limit, hits or 0, left)
    return left if hits is not None and hits >= limit.count else None


def _refuse(left: int) -> TooManyRequests:
    # The key is not named: it may be a username or an address.
    return TooManyRequests(retry_after=left)


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
    table = cast(Table, RateCounter.__table__)  # mapped with __tablename__: its __table__ is a Table
    await session.execute(delete(table).where(table.c.bucket == bucket, table.c.key_hash == await _key_hash(session, bucket, key)))
