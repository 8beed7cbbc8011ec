"""`rekam users ...` and `rekam api-keys create` against a database of their own."""

import asyncio
import io
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from api import cli
from api.audit.models import AuditEntry
from api.auth import service as auth
from api.auth.models import ApiKey, User
from api.config import get_settings
from api.db import create_engine_for, get_engine, get_sessionmaker


def clear_caches() -> None:
    for cached in (get_settings, get_engine, get_sessionmaker):
        cached.cache_clear()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('cli') / 'rekam.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        clear_caches()
        assert cli.main(["migrate"]) == 0
        assert cli.main(["areas", "load", "--prefix", "36.74"]) == 0
        yield url
    clear_caches()


@pytest.fixture
def rekam(database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    """Run `rekam ARGS` with optional stdin; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("DATABASE_URL", database)
    # The CLI speaks the environment's language (api.messages.language_of_environment): English here.
    for name in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    clear_caches()

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = cli.main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    yield run
    clear_caches()


def query(url: str, stmt):
    async def run():
        engine = create_engine_for(url)
        try:
            async with engine.connect() as connection:
                return (await connection.execute(stmt)).all()
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_users_create_list_deactivate(rekam, database) -> None:
    code, out, _ = rekam(
        "users", "create", "budi.serpong", "--role", "supervisor", "--area", "36.74.01", "--name", "Budi", "--password-stdin", stdin="a-long-password\n"
    )
    assert code == 0 and "budi.serpong created (supervisor of 36.74.01)" in out
    code, out, _ = rekam("users", "create", "ani.viewer", "--role", "viewer", "--password", "another-long-one")
    assert code == 0
    [(password_hash,)] = query(database, select(User.password_hash).where(User.username == "budi.serpong"))
    assert password_hash.startswith("$argon2") and auth.password_hash.verify("a-long-password", password_hash)
    code, out, _ = rekam("users", "list")
    assert code == 0
    rows = {line.split()[1]: line.split() for line in out.splitlines()}
    assert rows["budi.serpong"][2:] == ["supervisor", "36.74.01", "active"] and rows["ani.viewer"][2:] == ["viewer", "-", "active"]
    code, out, _ = rekam("users", "deactivate", "ani.viewer")
    assert code == 0 and "deactivated" in out
    # The module's database is shared: only this test's two users are looked at.
    after = {line.split()[1]: line.split()[-1] for line in rekam("users", "list")[1].splitlines()}
    assert after["ani.viewer"] == "deactivated" and after["budi.serpong"] == "active"


def test_users_commands_speak_indonesian_when_lang_asks(rekam, monkeypatch) -> None:
    monkeypatch.setenv("LANG", "id_ID.UTF-8")
    code, out, _ = rekam("users", "create", "sari.serpong", "--role", "supervisor", "--area", "36.74.01", "--password", "long-enough-pw")
    assert code == 0 and "rekam: pengguna sari.serpong dibuat (supervisor wilayah 36.74.01)" in out
    code, out, _ = rekam("users", "list")
    assert "aktif" in out and "active" not in out
    code, out, _ = rekam("users", "deactivate", "sari.serpong")
    assert code == 0 and "dinonaktifkan" in out and "kunci API-nya dicabut" in out
    code, _, err = rekam("users", "deactivate", "nobody")
    assert code == 1 and "Tidak ada pengguna dengan nama pengguna itu." in err
    code, _, err = rekam("users", "create", "no.area", "--role", "supervisor", "--password", "long-enough-pw")
    assert code == 1 and "Supervisor memerlukan wilayah" in err


def test_users_create_refuses_bad_input_without_echoing_it(rekam) -> None:
    code, _, err = rekam("users", "create", "short.pw", "--role", "viewer", "--password-stdin", stdin="tiny1\n")
    assert code == 2 and "password" in err and "tiny1" not in err
    code, _, err = rekam("users", "create", "no.area", "--role", "supervisor", "--password", "long-enough-pw")
    assert code == 1 and "area" in err
    code, _, err = rekam("users", "create", "no.area", "--role", "viewer", "--area", "99.99", "--password", "long-enough-pw")
    assert code == 1
    code, _, err = rekam("users", "deactivate", "nobody")
    assert code == 1 and "no user" in err
    with pytest.raises(SystemExit):
        rekam("users", "create", "x", "--role", "chief", "--password", "long-enough-pw")


def test_api_keys_create_prints_the_key_once(rekam, database) -> None:
    assert rekam("users", "create", "key.keeper", "--role", "admin", "--password", "long-enough-pw")[0] == 0
    code, out, err = rekam("api-keys", "create", "tally script serpong", "--role", "supervisor", "--area", "36.74.01", "--owner", "key.keeper")
    assert code == 0
    key = out.strip()
    assert key.startswith("rkk_") and len(key) > 40 and "shown only now" in err and key not in err
    [(name, role, area, stored)] = query(
        database, select(ApiKey.name, ApiKey.role, ApiKey.scope_area_code, ApiKey.key_hash).where(ApiKey.name == "tally script serpong")
    )
    assert (name, role, area) == ("tally script serpong", "supervisor", "36.74.01") and stored == auth.digest(key)
    assert rekam("api-keys", "create", "broken", "--role", "supervisor", "--owner", "key.keeper")[0] == 1
    assert rekam("api-keys", "create", "ownerless", "--role", "viewer", "--owner", "nobody.here")[0] == 1


def execute(url: str, *statements) -> None:
    async def run() -> None:
        engine = create_engine_for(url)
        try:
            async with engine.begin() as connection:
                for stmt in statements:
                    await connection.execute(stmt)
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_deactivating_an_admin_revokes_or_hands_over_their_api_keys(rekam, database) -> None:
    """Issue 17, item 2: a deactivated admin's admin-role key kept creating admins and reading NIKs."""
    for name in ("leaving.admin", "staying.admin", "second.leaver"):
        assert rekam("users", "create", name, "--role", "admin", "--password", "long-enough-pw")[0] == 0
    code, out, err = rekam("api-keys", "create", "admin script", "--role", "admin", "--owner", "leaving.admin")
    assert code == 0 and "owned by leaving.admin" in err
    [(owner_id, expires_at, revoked_at)] = query(database, select(ApiKey.owner_id, ApiKey.expires_at, ApiKey.revoked_at).where(ApiKey.name == "admin script"))
    assert owner_id is not None and revoked_at is None
    assert abs((expires_at.replace(tzinfo=UTC) - datetime.now(UTC)) - timedelta(days=365)) < timedelta(minutes=5)
    code, out, _ = rekam("users", "deactivate", "leaving.admin")
    assert code == 0 and "API keys are revoked" in out
    [(revoked_at,)] = query(database, select(ApiKey.revoked_at).where(ApiKey.name == "admin script"))
    assert revoked_at is not None
    # Or handed to another active admin, explicitly.
    assert rekam("api-keys", "create", "handed over", "--role", "viewer", "--owner", "second.leaver", "--expires-in-days", "10")[0] == 0
    assert rekam("users", "deactivate", "second.leaver", "--transfer-keys-to", "leaving.admin")[0] == 1  # deactivated: refused
    code, out, _ = rekam("users", "deactivate", "second.leaver", "--transfer-keys-to", "staying.admin")
    assert code == 0 and "now belong to staying.admin" in out
    [(owner, revoked_at)] = query(database, select(User.username, ApiKey.revoked_at).join(User, User.id == ApiKey.owner_id).where(ApiKey.name == "handed over"))
    assert (owner, revoked_at) == ("staying.admin", None)
    code, out, _ = rekam("api-keys", "list", "--expiring-within", "30")
    assert code == 0 and "handed over" in out and "admin script" not in out


def test_purge_blanks_client_addresses_past_the_retention(rekam, database) -> None:
    """Issue 17, item 12: home-visit audit entries kept the requester's address for ever."""
    old, recent = datetime.now(UTC) - timedelta(days=31), datetime.now(UTC) - timedelta(days=29)
    execute(
        database,
        insert(AuditEntry).values(
            at=old, actor_kind="anonymous", actor_name="anonymous", action="home_visit.create", entity="home_visit", entity_id="purge-1", client="203.0.113.9"
        ),
        insert(AuditEntry).values(
            at=recent,
            actor_kind="anonymous",
            actor_name="anonymous",
            action="home_visit.create",
            entity="home_visit",
            entity_id="purge-2",
            client="203.0.113.10",
        ),
    )
    code, out, _ = rekam("purge")
    assert code == 0 and "older than 30 days" in out
    rows = dict(query(database, select(AuditEntry.entity_id, AuditEntry.client).where(AuditEntry.entity_id.in_(["purge-1", "purge-2"]))))
    assert rows == {"purge-1": None, "purge-2": "203.0.113.10"}
