"""Rate limits counted in the database: windows, pruning, sharing, and the public write limit."""

import re
import secrets

import httpx
import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from api import ratelimit
from api.auth.dependencies import PublicWriteLimit
from api.config import RateLimit, Settings, get_settings
from api.errors import TooManyRequests, problem_responses
from api.ratelimit import RateCounter
from api.types import Role
from tests.factories import assert_problem, headers_for
from tests.test_fastpath import Statements

LIMIT = RateLimit(count=2, window=60)
T0 = 1_800_000_000.0  # a window boundary (divisible by 60)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10/minute", RateLimit(10, 60)),
        ("5/15minutes", RateLimit(5, 900)),
        ("100/hour", RateLimit(100, 3600)),
        ("3 / day", RateLimit(3, 86400)),
        ("1/Second", RateLimit(1, 1)),
    ],
)
def test_rate_limit_settings_parse(text: str, expected: RateLimit) -> None:
    assert RateLimit.parse(text) == expected


@pytest.mark.parametrize("text", ["ten/minute", "10", "0/minute", "10/fortnight", "10/0minutes", ""])
def test_wrong_rate_limit_settings_stop_the_start(text: str) -> None:
    with pytest.raises(ValueError, match="rate limit looks like"):
        Settings(public_write_limit=text)


async def test_hit_refuses_past_the_limit_until_the_window_ends(session: AsyncSession) -> None:
    for _ in range(2):
        await ratelimit.hit(session, bucket="test", key="10.0.0.1", limit=LIMIT, now=T0 + 5)
    with pytest.raises(TooManyRequests) as refused:
        await ratelimit.hit(session, bucket="test", key="10.0.0.1", limit=LIMIT, now=T0 + 20)
    assert refused.value.headers["Retry-After"] == "40"
    await ratelimit.hit(session, bucket="test", key="10.0.0.2", limit=LIMIT, now=T0 + 20)  # another key
    await ratelimit.hit(session, bucket="test", key="10.0.0.1", limit=LIMIT, now=T0 + 61)  # the next window
    # Ended windows are pruned as events arrive; keys are stored hashed.
    rows = (await session.scalars(select(RateCounter).where(RateCounter.bucket == "test"))).all()
    assert [(r.window_start, r.hits) for r in rows] == [(int(T0) + 60, 1)]
    assert "10.0.0.1" not in rows[0].key_hash


async def test_check_does_not_count_and_reset_forgets(session: AsyncSession) -> None:
    for _ in range(5):
        await ratelimit.check(session, bucket="test", key="u", limit=LIMIT, now=T0)
    assert await ratelimit.retry_after(session, bucket="test", key="u", limit=LIMIT, now=T0) is None
    await ratelimit.count(session, bucket="test", key="u", limit=LIMIT, now=T0)
    await ratelimit.count(session, bucket="test", key="u", limit=LIMIT, now=T0)
    with pytest.raises(TooManyRequests):
        await ratelimit.check(session, bucket="test", key="u", limit=LIMIT, now=T0 + 59)
    await ratelimit.reset(session, bucket="test", key="u")
    await ratelimit.check(session, bucket="test", key="u", limit=LIMIT, now=T0 + 59)


async def test_counts_are_shared_between_processes(engine) -> None:
    """Two sessions on their own connections stand for two API processes."""
    bucket = f"shared-{secrets.token_hex(4)}"
    try:
        for _ in range(2):
            async with AsyncSession(engine) as one, one.begin():
                await ratelimit.hit(one, bucket=bucket, key="10.0.0.1", limit=LIMIT, now=T0)
        async with AsyncSession(engine) as other, other.begin():
            with pytest.raises(TooManyRequests):
                await ratelimit.hit(other, bucket=bucket, key="10.0.0.1", limit=LIMIT, now=T0)
    finally:
        async with AsyncSession(engine) as cleanup, cleanup.begin():
            await cleanup.execute(delete(RateCounter).where(RateCounter.bucket == bucket))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_new_window_does_not_wait_for_another_request_pruning_the_old_one(engine) -> None:
    """The first requests of a new window both prune the ended one: the second skips the rows
    the first has locked (until its COMMIT) instead of waiting for them (PostgreSQL)."""
    bucket = f"prune-{secrets.token_hex(4)}"
    try:
        async with AsyncSession(engine) as setup, setup.begin():
            for key in ("a", "b"):
                await ratelimit.hit(setup, bucket=bucket, key=key, limit=LIMIT, now=T0)
        async with AsyncSession(engine) as first, first.begin():
            await ratelimit.hit(first, bucket=bucket, key="a", limit=LIMIT, now=T0 + 60)  # deletes the ended rows, not committed
            ratelimit._pruned.clear()  # the second request stands for another process: it prunes too
            async with AsyncSession(engine) as second, second.begin():
                await second.execute(text("SET LOCAL lock_timeout = '5s'"))  # waiting would fail here, not hang
                await ratelimit.hit(second, bucket=bucket, key="b", limit=LIMIT, now=T0 + 61)
        async with AsyncSession(engine) as after:
            windows = (await after.scalars(select(RateCounter.window_start).where(RateCounter.bucket == bucket))).all()
        assert sorted(windows) == [int(T0) + 60, int(T0) + 60]
    finally:
        async with AsyncSession(engine) as cleanup, cleanup.begin():
            await cleanup.execute(delete(RateCounter).where(RateCounter.bucket == bucket))


async def test_a_process_prunes_ended_windows_once_per_window(session: AsyncSession) -> None:
    """The first event of a window prunes; the others only count (one statement each)."""
    bucket = f"once-{secrets.token_hex(4)}"
    await ratelimit.hit(session, bucket=bucket, key="a", limit=LIMIT, now=T0)
    with Statements() as statements:
        await ratelimit.hit(session, bucket=bucket, key="b", limit=LIMIT, now=T0 + 59)
    assert statements.count == 1
    with Statements() as statements:
        await ratelimit.hit(session, bucket=bucket, key="a", limit=LIMIT, now=T0 + 60)  # a new window: prune, then count
    assert statements.count == 2
    await ratelimit.hit(session, bucket=bucket, key="c", limit=LIMIT, now=T0 + 61)
    rows = (await session.execute(select(RateCounter.window_start, RateCounter.hits).where(RateCounter.bucket == bucket))).all()
    assert sorted(rows) == [(int(T0) + 60, 1), (int(T0) + 60, 1)]


@pytest.fixture
def public_write_app(app, monkeypatch):
    """The app with one public write endpoint, as the visits and complaints routers declare theirs."""
    monkeypatch.setenv("REKAM_PUBLIC_WRITE_LIMIT", "3/hour")
    get_settings.cache_clear()

    @app.post("/api/v1/test-public-write", status_code=201, responses=problem_responses(429))
    async def submit(caller: PublicWriteLimit) -> dict:
        return {"kind": caller.kind}

    yield app
    monkeypatch.undo()
    get_settings.cache_clear()


def client_at(app, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 5000)), base_url="http://test")


async def test_public_writes_are_limited_per_address_and_staff_exempt(public_write_app, session: AsyncSession) -> None:
    staff = await headers_for(session, role=Role.operator)
    await session.commit()
    async with client_at(public_write_app, "203.0.113.7") as resident, client_at(public_write_app, "203.0.113.8") as neighbour:
        for _ in range(3):
            assert (await resident.post("/api/v1/test-public-write")).status_code == 201
        refused = await resident.post("/api/v1/test-public-write")
        assert_problem(refused, 429)
        assert 1 <= int(refused.headers["retry-after"]) <= 3600
        assert (await neighbour.post("/api/v1/test-public-write")).status_code == 201
        # A kiosk signed in as staff issues tickets for a whole office from one address.
        for _ in range(5):
            response = await resident.post("/api/v1/test-public-write", headers=staff)
            assert response.status_code == 201 and response.json() == {"kind": "user"}
    counted = await session.scalar(select(func.sum(RateCounter.hits)).where(RateCounter.bucket == "public-write"))
    assert counted == 4  # three from one address, one from the other; staff are not counted


async def test_keys_are_stored_as_a_keyed_hash_not_a_plain_sha256(session: AsyncSession, monkeypatch) -> None:
    """Issue 17, item 12: sha256("public-write\\0" + IP) can be inverted for all of IPv4 in an hour."""
    import hashlib
    import hmac

    await ratelimit.hit(session, bucket="public-write", key="203.0.113.7", limit=LIMIT, now=T0)
    stored = await session.scalar(select(RateCounter.key_hash).where(RateCounter.bucket == "public-write", RateCounter.window_start == int(T0)))
    assert stored != hashlib.sha256(b"public-write\x00203.0.113.7").hexdigest()
    # Keyed with the server's secret, generated by the migration and kept in the database.
    secret = await session.scalar(select(ratelimit.ServerSecret.value).where(ratelimit.ServerSecret.name == ratelimit.HASH_KEY_NAME))
    assert secret and len(secret) >= 64
    assert stored == hmac.new(secret.encode(), b"public-write\x00203.0.113.7", hashlib.sha256).hexdigest()
    # REKAM_SECRET_KEY, when set, is the key instead.
    monkeypatch.setenv("REKAM_SECRET_KEY", "configured-secret-of-enough-length")
    get_settings.cache_clear()
    try:
        assert await ratelimit.hash_key(session) == b"configured-secret-of-enough-length"
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


async def test_a_missing_secret_is_generated_once_and_kept(session: AsyncSession) -> None:
    await session.execute(delete(ratelimit.ServerSecret))
    ratelimit._hash_keys.clear()
    first = await ratelimit.hash_key(session)
    ratelimit._hash_keys.clear()  # a restart: read back from the database, not generated again
    assert await ratelimit.hash_key(session) == first and len(first) == 64
    ratelimit._hash_keys.clear()  # the test's rollback restores the migration's secret


async def test_answers_carry_ratelimit_headers(public_write_app, session: AsyncSession) -> None:
    """#24: RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers) on answers of limited requests."""
    staff = await headers_for(session, role=Role.operator)
    await session.commit()
    async with client_at(public_write_app, "203.0.113.9") as resident:
        first = await resident.post("/api/v1/test-public-write")
        assert first.headers["ratelimit-policy"] == '"public-write";q=3;w=3600'
        remaining, reset = re.fullmatch(r'"public-write";r=(\d+);t=(\d+)', first.headers["ratelimit"]).groups()  # type: ignore[union-attr]
        assert int(remaining) == 2 and 1 <= int(reset) <= 3600
        await resident.post("/api/v1/test-public-write")
        third = await resident.post("/api/v1/test-public-write")
        assert third.status_code == 201 and third.headers["ratelimit"].startswith('"public-write";r=0;')
        refused = await resident.post("/api/v1/test-public-write")
        assert refused.status_code == 429 and refused.headers["ratelimit"].startswith('"public-write";r=0;')
        assert refused.headers["ratelimit-policy"] == '"public-write";q=3;w=3600' and int(refused.headers["retry-after"]) >= 1
        exempt = await resident.post("/api/v1/test-public-write", headers=staff)
        assert exempt.status_code == 201 and "ratelimit" not in exempt.headers and "ratelimit-policy" not in exempt.headers
