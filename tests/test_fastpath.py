"""The fast path of public reads (api/fastpath.py) and the frontend's files from memory (api/static.py)."""

import re

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from api import fastpath
from api.campaigns import service
from api.config import Settings
from api.main import create_app
from api.types import Role
from tests.factories import headers_for, make_campaign
from tests.services.factories import make_office
from tests.tallies.factories import post, rows


class Statements:
    """Counts the SQL statements any engine of the process runs."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: object) -> None:
        self.count += 1

    def __enter__(self) -> "Statements":
        event.listen(Engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(Engine, "before_cursor_execute", self)


@pytest.mark.parametrize(
    ("statement", "writes"),
    [
        ("SELECT 1", False),
        ("BEGIN IMMEDIATE", False),
        ("SAVEPOINT sa_1", False),
        ("RELEASE SAVEPOINT sa_1", False),
        ("WITH RECURSIVE t AS (SELECT 1) SELECT * FROM t", False),
        ("INSERT INTO x VALUES (1)", True),
        (" update x set a = 1", True),
        ("WITH a AS (SELECT 1) INSERT INTO x SELECT * FROM a", True),
        ("SELECT pg_notify('c', 'x')", True),
        ("ROLLBACK TO SAVEPOINT sa_1", True),
    ],
)
def test_what_counts_as_a_write(statement: str, writes: bool) -> None:
    assert fastpath.may_write(statement) is writes


@pytest.mark.parametrize(
    ("statement", "tables"),
    [
        ("INSERT INTO tickets (a) VALUES (1)", {"tickets"}),
        ("UPDATE campaigns SET data_version=%(data_version)s::BIGINT WHERE campaigns.id = %(id_1)s::INTEGER", {"campaigns.versions"}),
        ("UPDATE campaigns SET what_to_bring=%(w)s, data_version=%(v)s WHERE campaigns.id = 1", {"campaigns"}),
        (
            "WITH t AS (INSERT INTO tallies AS x (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = x.a + excluded.a RETURNING a), "
            "v AS (UPDATE campaigns SET data_version = :data_version, history_version = :history_version WHERE id = :c RETURNING 1) SELECT 1",
            {"tallies", "campaigns.versions"},
        ),
        ("DELETE FROM rate_counters WHERE (k) IN (SELECT k FROM rate_counters WHERE w < 1 FOR UPDATE SKIP LOCKED)", {"rate_counters"}),
        ("SELECT pg_notify('rekam_queue', '{}')", set(fastpath.QUEUES)),
        ("ROLLBACK TO SAVEPOINT sa_1", {fastpath.ANY}),
    ],
)
def test_what_a_write_changes(statement: str, tables: set[str]) -> None:
    assert fastpath.written_tables(statement) == tables


async def test_a_write_keeps_the_answers_that_do_not_read_what_it_changed(client, session) -> None:
    """A resident taking a number changes the point's board, not the campaign's progress nor the
    list of service points: those stay kept (no statement), the board is read again."""
    campaign = await make_campaign(session)
    point = await make_office(session)
    progress = f"/api/v1/campaigns/{campaign.id}/progress"
    board = f"/api/v1/service-points/{point.id}/queue"
    points = "/api/v1/service-points"
    reads = [(progress, {"depth": 1}), (board, {}), (points, {"area": "36.74"})]
    first = [await client.get(url, params=params) for url, params in reads]
    assert [r.status_code for r in first] == [200, 200, 200]
    assert (await client.post(f"/api/v1/service-points/{point.id}/tickets", json={})).status_code == 201
    for (url, params), before, read_again in zip(reads, first, [False, True, False], strict=True):
        with Statements() as statements:
            again = await client.get(url, params=params)
        assert (statements.count > 0) is read_again, url
        if not read_again:
            assert again.content == before.content
    assert (await client.get(board)).json() != first[1].json()  # the new number is on the board


async def test_a_repeated_public_read_asks_the_database_nothing(client, session) -> None:
    campaign = await make_campaign(session)
    url = f"/api/v1/campaigns/{campaign.id}/progress"
    first = await client.get(url, params={"depth": 1})
    await client.get("/api/v1/health")
    with Statements() as statements:
        again = await client.get(url, params={"depth": 1})
        health = [await client.get("/api/v1/health") for _ in range(2)]
        not_modified = await client.get(url, params={"depth": 1}, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 200 and again.content == first.content and again.headers["etag"] == first.headers["etag"]
    assert [h.status_code for h in health] == [200, 200]
    assert not_modified.status_code == 304 and not_modified.headers["etag"] == first.headers["etag"]
    assert statements.count == 0
    # Every answer still carries the request context: its own id, the security headers.
    assert again.headers["x-request-id"] != first.headers["x-request-id"] and again.headers["x-frame-options"] == "DENY"


async def test_a_write_of_the_process_is_seen_by_the_next_read(client, session) -> None:
    campaign = await make_campaign(session)
    url = f"/api/v1/campaigns/{campaign.id}/progress"
    before = (await client.get(url, params={"area": "36.74.01"})).json()
    admin = await headers_for(session, role=Role.admin)
    response = await post(client, campaign.id, rows({"36.74.01": 25}, service.today_for(campaign)), admin)
    assert response.status_code == 200, response.text
    after = (await client.get(url, params={"area": "36.74.01"})).json()
    assert after["recorded"] == before["recorded"] + 25


async def test_credentials_and_no_cache_go_to_the_endpoint(client, session) -> None:
    admin = await headers_for(session, role=Role.admin)
    await client.get("/api/v1/health")
    for headers in (admin, {"Cache-Control": "no-cache"}, {"Cookie": "a=b"}):
        with Statements() as statements:
            assert (await client.get("/api/v1/health", headers=headers)).status_code == 200
        assert statements.count >= 1, headers


async def test_nothing_is_kept_when_turned_off(session, settings) -> None:
    from api.db import get_session

    app = create_app(settings.model_copy(update={"public_read_cache_seconds": 0}))

    async def shared() -> object:
        yield session

    app.dependency_overrides[get_session] = shared
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        await client.get("/api/v1/health")
        with Statements() as statements:
            await client.get("/api/v1/health")
        assert statements.count >= 1


async def test_frontend_files_from_memory(tmp_path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>Rekam</title>" + "x" * 2000)
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "app.js").write_text("export const a = 1;\n" * 100)
    (tmp_path.parent / "secret.txt").write_text("secret")
    app = create_app(Settings(serve_frontend=True, frontend_dir=tmp_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        index = await client.get("/", headers={"Accept-Encoding": "identity"})
        assert index.status_code == 200 and index.text.startswith("<!doctype html>") and index.headers["content-type"] == "text/html; charset=utf-8"
        assert index.headers["cache-control"] == "no-cache" and index.headers["x-frame-options"] == "DENY"
        assert (await client.get("/", headers={"If-None-Match": index.headers["etag"]})).status_code == 304
        script = await client.get("/js/app.js", headers={"Accept-Encoding": "gzip"})
        assert script.headers["content-encoding"] == "gzip" and script.headers["content-type"].startswith("application/javascript")
        assert script.text == "export const a = 1;\n" * 100  # httpx decodes it
        assert (await client.get("/../secret.txt")).status_code == 404
        assert (await client.get("/js/nothing.js")).status_code == 404
        assert (await client.post("/js/app.js")).status_code == 405
        assert (await client.get("/api/v1/no-such-thing")).status_code == 404  # the API's own 404, not a file
        assert (await client.get("/api/v1/no-such-thing")).headers["content-type"].startswith("application/problem+json")
        # An edited file is served at once.
        (tmp_path / "js" / "app.js").write_text("export const b = 2;\n")
        assert (await client.get("/js/app.js")).text == "export const b = 2;\n"


async def test_the_apps_files_are_asked_by_version_and_cached_for_a_year(tmp_path, monkeypatch) -> None:
    from api import static

    monkeypatch.setattr(static, "VERSION_CHECK_SECONDS", 0.0)  # every request looks at the files
    (tmp_path / "index.html").write_text('<link rel="stylesheet" href="css/app.css"><script type="module" src="js/main.js"></script><a href="#/where">x</a>')
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "app.css").write_text("body{}")
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "main.js").write_text('import "./api.js";\n')
    (tmp_path / "js" / "api.js").write_text("export const a = 1;\n")
    app = create_app(Settings(serve_frontend=True, frontend_dir=tmp_path))

    async def version(client: httpx.AsyncClient) -> str:
        page = (await client.get("/")).text
        found = re.search(r'src="v/([0-9a-f]+)/js/main\.js"', page)
        assert found and f'href="v/{found.group(1)}/css/app.css"' in page and 'href="#/where"' in page  # the app's own links stay
        return found.group(1)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        first = await version(client)
        # A module imported by a relative path is asked under the same version: cached for a year.
        module = await client.get(f"/v/{first}/js/api.js")
        assert module.status_code == 200 and module.text == "export const a = 1;\n"
        assert module.headers["cache-control"] == "public, max-age=31536000, immutable"
        # The page itself is always revalidated.
        assert (await client.get("/index.html")).headers["cache-control"] == "no-cache"
        # Any change of a file is a new version; the old address still answers, but is not kept.
        (tmp_path / "js" / "api.js").write_text("export const a = 22;\n")
        second = await version(client)
        assert second != first
        old = await client.get(f"/v/{first}/js/api.js")
        assert old.text == "export const a = 22;\n" and old.headers["cache-control"] == "no-cache"
        assert (await client.get(f"/v/{second}/js/api.js")).headers["cache-control"] == "public, max-age=31536000, immutable"
        # Only the app's folders, and nothing outside the frontend.
        assert (await client.get(f"/v/{second}/index.html")).status_code == 404
        assert (await client.get(f"/v/{second}/js/../../secret.txt")).status_code == 404
        # A file changed while the version is not looked at again (once a second) is not kept under it.
        monkeypatch.setattr(static, "VERSION_CHECK_SECONDS", 3600.0)
        (tmp_path / "js" / "api.js").write_text("export const a = 333;\n")
        changed = await client.get(f"/v/{second}/js/api.js")
        assert changed.text == "export const a = 333;\n" and changed.headers["cache-control"] == "no-cache"
