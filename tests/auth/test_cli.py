"""`rekam users ...` and `rekam api-keys create` against a database of their own."""

import asyncio
import io
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from api import cli
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
    code, out, _ = rekam("users", "create", "budi.serpong", "--role", "supervisor", "--area", "36.74.01", "--name", "Budi", "--password-stdin", stdin="a-long-password\n")
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
    assert rekam("users", "list")[1].count("deactivated") == 1


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
    code, out, err = rekam("api-keys", "create", "tally script serpong", "--role", "supervisor", "--area", "36.74.01")
    assert code == 0
    key = out.strip()
    assert key.startswith("rkk_") and len(key) > 40 and "shown only now" in err and key not in err
    [(name, role, area, stored)] = query(database, select(ApiKey.name, ApiKey.role, ApiKey.scope_area_code, ApiKey.key_hash).where(ApiKey.name == "tally script serpong"))
    assert (name, role, area) == ("tally script serpong", "supervisor", "36.74.01") and stored == auth.digest(key)
    assert rekam("api-keys", "create", "broken", "--role", "supervisor")[0] == 1
