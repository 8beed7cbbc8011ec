"""Cold progress (issue #22): after a change, the answer is built from the kept pieces of the
nodes whose inputs did not change, and is byte for byte what a build from nothing gives.

Every check compares `progress_json` with a kept cache against the same answer built with no
cache at all (every node computed and serialized again), after each kind of change a campaign
sees: tallies for today and for a past day, at a kecamatan and a kelurahan, a correction,
queue and home-visit counts, a snapshot, targets, and the campaign's date moving on.
"""

import gzip
import json
import random
import zlib
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text

from api import calendar
from api.caching import BodyCache, deflated, gzip_member
from api.campaigns import service as campaigns
from api.campaigns import targets, versions
from api.campaigns.schemas import SnapshotCreate, TargetIn
from api.principal import SYSTEM
from api.progress import service as progress
from api.tallies import service as tallies
from api.types import Role
from tests.factories import headers_for, make_campaign
from tests.tallies.factories import post, rows

SHAPES = [("36.74", 0), ("36.74", 1), ("36.74", 2), ("36.74", 3), ("36.74.01", 1), ("36.74.01.1001", 1)]


async def check_all(session, campaign_id: int, cache: BodyCache) -> dict[tuple[str, int], bytes]:
    """Every shape from the kept cache equals the build from nothing, and the tree model's dump;
    so does the daily series."""
    campaign = await campaigns.get_campaign(session, campaign_id=campaign_id)
    answers = {}
    for area, depth in SHAPES:
        encoded = await progress.progress_json(session, campaign=campaign, area=area, depth=depth, cache=cache)
        kept = encoded.body
        from_nothing = await progress.progress_json(session, campaign=campaign, area=area, depth=depth, cache=None)
        cold = from_nothing.body
        assert kept == cold, (area, depth)
        # The gzip form, made of kept compressed chunks, is the answer's bytes once decompressed.
        assert gzip.decompress(encoded.gzipped()) == kept and gzip.decompress(from_nothing.gzipped()) == kept
        tree = await progress.progress_tree(session, campaign=campaign, area=area, depth=depth, as_json=True)
        assert json.loads(kept) == tree
        assert kept == json.dumps(tree, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
        answers[(area, depth)] = kept
    for area in ("36.74", "36.74.04", "36.74.04.1001"):  # the daily series keeps what snapshots cover too
        assert await progress.daily(session, campaign=campaign, area=area, cache=cache) == await progress.daily(session, campaign=campaign, area=area)
    return answers


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The codes whose own fields were computed (not taken from the kept pieces)."""
    codes: list[str] = []
    original = progress._fields

    def counting(code: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        codes.append(code)
        return original(code, *args, **kwargs)

    monkeypatch.setattr(progress, "_fields", counting)
    return codes


async def test_the_kept_tree_is_the_tree_after_every_kind_of_change(client, session, computed: list[str]) -> None:
    campaign = await make_campaign(session)
    admin = await headers_for(session, role=Role.admin)
    today = campaigns.today_for(campaign)
    cache = BodyCache()
    await check_all(session, campaign.id, cache)

    async def read(area: str = "36.74", depth: int = 1) -> dict[str, Any]:
        computed.clear()
        fresh = await campaigns.get_campaign(session, campaign_id=campaign.id)
        return json.loads((await progress.progress_json(session, campaign=fresh, area=area, depth=depth, cache=cache)).body)

    await read()
    assert computed == []  # nothing changed: every node from the kept pieces

    # Today's tally of one kecamatan: that node and the city are computed again, nothing else.
    assert (await post(client, campaign.id, rows({"36.74.01": 40, "36.74.02": 10}, today), admin)).status_code == 200
    await read()
    assert sorted(computed) == ["36.74", "36.74.01", "36.74.02"]
    assert (await post(client, campaign.id, rows({"36.74.01": 45}, today), admin)).status_code == 200
    city = await read()
    assert sorted(computed) == ["36.74", "36.74.01"] and city["recorded"] == 55
    await check_all(session, campaign.id, cache)

    # A past day at a kelurahan: its 7-day sums change (and every one is read again in the tree query).
    three_days_ago = today - timedelta(days=3)
    assert (await post(client, campaign.id, rows({"36.74.03.1001": 30}, three_days_ago), admin)).status_code == 200
    city = await read()
    assert sorted(computed) == ["36.74", "36.74.03"] and city["recorded_last_7_days"] == 30
    await check_all(session, campaign.id, cache)

    # A correction, queue and home-visit counts (provisional, by source), a snapshot, targets.
    assert (await post(client, campaign.id, rows({"36.74.03.1001": 12}, three_days_ago), admin)).json()["updated"] == 1
    await check_all(session, campaign.id, cache)
    await tallies.add_recordings(session, area_code="36.74.05.1002", day=today, count=3, source="queue", actor=SYSTEM)
    await tallies.add_recordings(session, area_code="36.74.05.1002", day=today - timedelta(days=1), count=2, source="home_visit", actor=SYSTEM)
    city = await read()
    assert sorted(computed) == ["36.74", "36.74.05"]
    kecamatan = next(child for child in city["children"] if child["code"] == "36.74.05")
    assert kecamatan["provisional"] == 5 and kecamatan["by_source"] == {"official": 0, "queue": 3, "home_visit": 2}
    await check_all(session, campaign.id, cache)
    fresh = await campaigns.get_campaign(session, campaign_id=campaign.id)
    await campaigns.record_snapshot(
        session, campaign=fresh, data=SnapshotCreate(area="36.74.04", as_of=today - timedelta(days=10), cumulative=5_000), actor=SYSTEM
    )
    city = await read()
    assert sorted(computed) == ["36.74", "36.74.04"] and city["recorded"] == 55 + 12 + 5 + 5_000
    await check_all(session, campaign.id, cache)
    # Tallies the snapshot covers (before its date) change nothing; one after it adds on top. What a
    # snapshot covers is kept per history version: a change of a covered day is seen at once.
    for count in (700, 650):
        assert (await post(client, campaign.id, rows({"36.74.04.1001": count}, today - timedelta(days=12)), admin)).status_code == 200
        assert (await read())["recorded"] == 55 + 12 + 5 + 5_000
        await check_all(session, campaign.id, cache)
    assert (await post(client, campaign.id, rows({"36.74.04.1001": 9}, today - timedelta(days=9)), admin)).status_code == 200
    assert (await read())["recorded"] == 55 + 12 + 5 + 5_000 + 9
    fresh = await campaigns.get_campaign(session, campaign_id=campaign.id)
    await campaigns.record_snapshot(
        session, campaign=fresh, data=SnapshotCreate(area="36.74.04.1001", as_of=today - timedelta(days=12), cumulative=800), actor=SYSTEM
    )
    await check_all(session, campaign.id, cache)
    fresh = await campaigns.get_campaign(session, campaign_id=campaign.id)
    await campaigns.record_snapshot(session, campaign=fresh, data=SnapshotCreate(area="36.74.04", as_of=today, cumulative=6_000), actor=SYSTEM)
    assert (await read())["recorded"] == 55 + 12 + 5 + 6_000
    await check_all(session, campaign.id, cache)
    fresh = await campaigns.get_campaign(session, campaign_id=campaign.id)
    await targets.put_targets(session, campaign=fresh, items=[TargetIn(area="36.74.06", target=90_000)], actor=SYSTEM)
    await read()
    assert "36.74.06" in computed and "36.74.04" not in computed
    await check_all(session, campaign.id, cache)


async def test_a_new_day_computes_every_node_again(client, session, computed: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    campaign = await make_campaign(session)
    admin = await headers_for(session, role=Role.admin)
    today = campaigns.today_for(campaign)
    assert (await post(client, campaign.id, rows({"36.74.01": 40}, today - timedelta(days=1)), admin)).status_code == 200
    cache = BodyCache()
    before = await check_all(session, campaign.id, cache)
    monkeypatch.setattr(calendar, "today", lambda *_args, **_kwargs: today + timedelta(days=1))
    computed.clear()
    after = await check_all(session, campaign.id, cache)
    assert len(set(computed)) > 8  # the forecasts count days from today: no piece of yesterday is kept
    assert after[("36.74", 1)] != before[("36.74", 1)]


async def test_a_changed_past_day_costs_no_second_query(client, session, monkeypatch: pytest.MonkeyPatch) -> None:
    """The 7-day sums out of date (a past day changed) come with the tree query itself."""
    campaign = await make_campaign(session)
    admin = await headers_for(session, role=Role.admin)
    today: date = campaigns.today_for(campaign)
    cache = BodyCache()
    await check_all(session, campaign.id, cache)
    assert (await post(client, campaign.id, rows({"36.74.02": 25}, today - timedelta(days=2)), admin)).status_code == 200

    async def not_asked(*_args: Any, **_kwargs: Any) -> dict[str, int]:
        raise AssertionError("the 7-day sums were read apart from the tree")

    monkeypatch.setattr(progress.tallies, "totals_between", not_asked)
    fresh = await campaigns.get_campaign(session, campaign_id=campaign.id)
    city = json.loads((await progress.progress_json(session, campaign=fresh, area="36.74", depth=1, cache=cache)).body)
    assert city["recorded_last_7_days"] == 25


async def test_the_operational_counts_use_their_partial_index(session) -> None:
    """Queue and home-visit counts are read by the partial index on `origin_key > 0`: the statement
    must carry the literal, since a bound parameter keeps the database from using that index (on
    SQLite every tally of the campaign was read: about 10 ms for 650,000 of them)."""
    campaign = await make_campaign(session)
    statements: list[tuple[str, Any]] = []
    connection = await session.connection()

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        statements.append((statement, parameters))

    event.listen(connection.sync_connection, "before_cursor_execute", seen)
    try:
        await tallies.operational_counts(session, campaign_id=campaign.id, root="36.74", codes=["36.74"])
    finally:
        event.remove(connection.sync_connection, "before_cursor_execute", seen)
    ((statement, parameters),) = [s for s in statements if "origin_key" in s[0]]
    assert "origin_key > 0" in statement
    if session.bind.dialect.name == "sqlite":
        plan = (await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)).all()
        assert any("ix_tallies_operational" in str(row) for row in plan), plan


async def test_kept_nodes_are_bounded(session, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_KEPT_NODES a campaign's kept nodes start over: the answers stay the same."""
    campaign = await make_campaign(session)
    monkeypatch.setattr(progress, "MAX_KEPT_NODES", 5)
    cache = BodyCache()
    for _ in range(3):
        await check_all(session, campaign.id, cache)
        assert len(cache.value(("progress_nodes", campaign.id))[1]) < 5 + 70  # one shape's nodes at most on top


async def test_a_kept_tree_reads_only_the_changed_rows_and_compresses_only_the_changed_chunks(client, session, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the same history version and date, a cold read asks for the rows of the kept nodes
    (no walk of the area tree) and gets back only those that changed; its gzip form compresses
    again only the root's fields and the runs of subtrees holding a changed node."""
    campaign = await make_campaign(session)
    admin = await headers_for(session, role=Role.admin)
    today = campaigns.today_for(campaign)
    monkeypatch.setattr(progress, "CHUNK_NODES", 4)  # the city at depth 2: several runs of kecamatan
    cache = BodyCache()
    statements: list[str] = []
    returned: list[int] = []
    to_compress: list[int] = []  # what each read says its gzip form still compresses (bytes)
    connection = await session.connection()

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    compressed: list[bytes] = []
    original = progress.deflated

    def counting(chunk: bytes) -> bytes:
        compressed.append(chunk)
        return original(chunk)

    monkeypatch.setattr(progress, "deflated", counting)
    original_rows = progress._changed_rows

    async def changed_rows(*args: Any, **kwargs: Any) -> Any:
        rows, snapshots, counted = await original_rows(*args, **kwargs)
        returned.append(len(rows))
        return rows, snapshots, counted

    monkeypatch.setattr(progress, "_changed_rows", changed_rows)

    async def read() -> bytes:
        statements.clear()
        compressed.clear()
        fresh = await campaigns.get_campaign(session, campaign_id=campaign.id)
        encoded = await progress.progress_json(session, campaign=fresh, area="36.74", depth=2, cache=cache)
        to_compress.append(encoded.fresh)
        assert gzip.decompress(encoded.gzipped()) == encoded.body
        return encoded.body

    event.listen(connection.sync_connection, "before_cursor_execute", seen)
    try:
        body_first = await read()
        assert any("RECURSIVE" in statement for statement in statements)  # the first read walks the tree
        await read()
        assert not any("RECURSIVE" in statement for statement in statements) and returned[-1] == 62  # every row (the city, 7 kecamatan, 54 kelurahan), once
        assert compressed == [compressed[0]]  # nothing changed: only the root's fields again
        assert to_compress[0] == len(body_first) - 2 and to_compress[1] == len(compressed[0])  # all but the closing; the root's fields
        assert (await post(client, campaign.id, rows({"36.74.05.1002": 40}, today), admin)).status_code == 200
        body = await read()
        assert not any("RECURSIVE" in statement for statement in statements)
        assert returned[-1] == 3  # the kelurahan, its kecamatan and the city
        assert len(compressed) == 2 and b'"code":"36.74.05.1002"' in compressed[1] and b'"code":"36.74.01"' not in compressed[1]
        fresh = await campaigns.get_campaign(session, campaign_id=campaign.id)
        assert body == (await progress.progress_json(session, campaign=fresh, area="36.74", depth=2, cache=None)).body
        # A past day moves the history version; the campaign's history marks name the area: its
        # node and their ancestors come back with their 7-day sums, the others are kept.
        both = rows({"36.74.05.1002": 45}, today - timedelta(days=2)) + rows({"36.74.05.1002": 7}, today - timedelta(days=4))
        assert (await post(client, campaign.id, both, admin)).status_code == 200
        body = await read()
        assert not any("RECURSIVE" in statement for statement in statements) and returned[-1] == 3 and len(compressed) == 2
        fresh = await campaigns.get_campaign(session, campaign_id=campaign.id)
        assert body == (await progress.progress_json(session, campaign=fresh, area="36.74", depth=2, cache=None)).body
        # Areas changed (the marks know no areas then): walked again.
        await versions.touch_all(session)
        body = await read()
        assert any("RECURSIVE" in statement for statement in statements) and len(compressed) == 1
        fresh = await campaigns.get_campaign(session, campaign_id=campaign.id)
        assert body == (await progress.progress_json(session, campaign=fresh, area="36.74", depth=2, cache=None)).body
    finally:
        event.remove(connection.sync_connection, "before_cursor_execute", seen)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # SQLite's plan
async def test_the_kept_rows_query_reads_operational_tallies_by_their_partial_index(session) -> None:
    """The tree's one query (walked or kept) reads the operational tallies (for the per-source
    counts) as `tallies.operational_counts` does: by the partial index, never every tally of the
    campaign (SQLite preferred the unique index, in area order for the GROUP BY)."""
    connection = await session.connection()
    statements = [progress._KEPT_STATEMENTS["sqlite"], progress._TREE_STATEMENTS[("sqlite", False)], progress._TREE_STATEMENTS[("sqlite", True)]]
    for statement in statements:
        for root in ("0", "36.74"):
            params = {"kept": "{}", "campaign_id": 1, "today": "2026-12-07", "since": "2026-11-30", "until": "2026-12-06", "depth": 1}
            params.update(root=root, below=root + ".", after=root + "/")
            plan = (await connection.execute(text("EXPLAIN QUERY PLAN " + str(statement)), params)).all()
            assert any("ix_tallies_operational" in str(row) for row in plan), plan


def test_chunks_compressed_apart_make_one_gzip_member() -> None:
    rng = random.Random(3)
    chunks = [bytes(rng.choice(b'{}[]",:abc0123') for _ in range(rng.randint(0, 5000))) for _ in range(12)] + [b"", b"]}"]
    body = b"".join(chunks)
    member = gzip_member([deflated(chunk) for chunk in chunks], body)
    assert gzip.decompress(member) == body and zlib.decompress(member, 16 + zlib.MAX_WBITS) == body


async def test_the_endpoint_serves_the_kept_gzip_form_and_the_plain_one_alike(client, session) -> None:
    """Cold and warm, gzipped (kept beside the body) or not, the progress answer is the same
    bytes; both forms say they vary with Accept-Encoding."""
    campaign = await make_campaign(session)
    admin = await headers_for(session, role=Role.admin)
    today = campaigns.today_for(campaign)
    await session.commit()
    url = f"/api/v1/campaigns/{campaign.id}/progress"
    for count in (10, 20):
        assert (await post(client, campaign.id, rows({"36.74.02.1001": count}, today), admin)).status_code == 200
        answers = [await client.get(url, params={"depth": 2}, headers={"Accept-Encoding": encoding}) for encoding in ("gzip", "identity", "gzip", "identity")]
        assert all(a.status_code == 200 for a in answers) and len({a.content for a in answers}) == 1
        assert [a.headers.get("content-encoding") for a in answers] == ["gzip", None, "gzip", None]
        assert all(a.headers.get_list("vary") == ["Accept-Encoding"] for a in answers), [a.headers.get_list("vary") for a in answers]  # said once
        assert json.loads(answers[0].content)["children"][1]["recorded"] == count


def node(tree: dict[str, Any], code: str) -> dict[str, Any]:
    """The node `code` of a progress tree (as JSON)."""
    stack = [tree]
    while stack:
        found = stack.pop()
        if found["code"] == code:
            return found
        stack.extend(found["children"])
    raise KeyError(code)


@pytest.fixture
def walks(session, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many progress reads walked the area tree (its recursive query), per read."""
    counted: list[int] = []
    original = progress._in_view

    async def in_view(*args: Any, **kwargs: Any) -> Any:
        counted.append(1)
        return await original(*args, **kwargs)

    monkeypatch.setattr(progress, "_in_view", in_view)
    return counted


@pytest.fixture
def no_midnight_margin(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tally for today never counts as a past day's (as it does in a writer's last minutes of the
    day, `versions._MIDNIGHT_MARGIN`): the tests below hold at any hour."""
    monkeypatch.setattr(versions, "_MIDNIGHT_MARGIN", timedelta(0))


async def test_a_past_days_tally_changes_exactly_its_nodes_figures(client, session, computed: list[str], walks: list[int]) -> None:
    """After a tally of one past day, a kept tree is brought up to date without a walk: inside the
    7-day window the 7-day figures of the area and its ancestors move, outside it only their
    recorded figures; no other node is computed again; the answer is the one built from nothing."""
    campaign = await make_campaign(session)
    admin = await headers_for(session, role=Role.admin)
    today = campaigns.today_for(campaign)
    cache = BodyCache()
    assert (await post(client, campaign.id, rows({"36.74.01.1001": 10, "36.74.03.1001": 20}, today - timedelta(days=3)), admin)).status_code == 200
    assert (await post(client, campaign.id, rows({"36.74.01.1001": 5}, today - timedelta(days=10)), admin)).status_code == 200

    async def read() -> dict[str, Any]:
        computed.clear()
        walks.clear()
        fresh = await campaigns.get_campaign(session, campaign_id=campaign.id)
        body = (await progress.progress_json(session, campaign=fresh, area="36.74", depth=2, cache=cache)).body
        computed_here = list(computed)
        assert body == (await progress.progress_json(session, campaign=fresh, area="36.74", depth=2, cache=None)).body
        walks.pop()  # the build from nothing walks
        computed[:] = computed_here
        return json.loads(body)

    city = await read()
    assert walks == [1] and city["recorded_last_7_days"] == 30 and city["recorded"] == 35

    # Inside the window: a correction of day -3.
    assert (await post(client, campaign.id, rows({"36.74.01.1001": 14}, today - timedelta(days=3)), admin)).json()["updated"] == 1
    city = await read()
    assert walks == [] and sorted(computed) == ["36.74", "36.74.01", "36.74.01.1001"]
    assert [node(city, code)["recorded_last_7_days"] for code in ("36.74", "36.74.01", "36.74.01.1001", "36.74.03", "36.74.03.1001")] == [34, 14, 14, 20, 20]
    assert city["recorded"] == 39

    # Outside the window: day -12 of another kecamatan moves recorded figures, no 7-day sum.
    assert (await post(client, campaign.id, rows({"36.74.03.1001": 9}, today - timedelta(days=12)), admin)).status_code == 200
    city = await read()
    assert walks == [] and sorted(computed) == ["36.74", "36.74.03", "36.74.03.1001"]
    assert [node(city, code)["recorded_last_7_days"] for code in ("36.74", "36.74.01", "36.74.03", "36.74.03.1001")] == [34, 14, 20, 20]
    assert node(city, "36.74.03")["recorded"] == 29 and city["recorded"] == 48


@pytest.mark.usefixtures("no_midnight_margin")
async def test_a_past_day_whose_total_does_not_move_is_still_seen(client, session, walks: list[int]) -> None:
    """A past day's figure up and today's down by as much (two posts between two reads) leave the
    area's row (total, newest day) as it was: the history marks name it, its 7-day sums are read."""
    campaign = await make_campaign(session)
    admin = await headers_for(session, role=Role.admin)
    today = campaigns.today_for(campaign)
    cache = BodyCache()
    assert (await post(client, campaign.id, rows({"36.74.05.1002": 10}, today), admin)).status_code == 200

    async def read() -> dict[str, Any]:
        walks.clear()
        fresh = await campaigns.get_campaign(session, campaign_id=campaign.id)
        body = (await progress.progress_json(session, campaign=fresh, area="36.74", depth=2, cache=cache)).body
        assert body == (await progress.progress_json(session, campaign=fresh, area="36.74", depth=2, cache=None)).body
        walks.pop()
        return json.loads(body)

    assert (await read())["recorded_last_7_days"] == 0
    assert (await post(client, campaign.id, rows({"36.74.05.1002": 5}, today - timedelta(days=2)), admin)).status_code == 200
    assert (await post(client, campaign.id, rows({"36.74.05.1002": 5}, today), admin)).json()["updated"] == 1
    city = await read()
    assert walks == [] and city["recorded"] == 10
    assert node(city, "36.74.05.1002")["recorded_last_7_days"] == 5 and city["recorded_last_7_days"] == 5


@pytest.mark.usefixtures("no_midnight_margin")
async def test_the_history_marks_name_the_areas_since_a_kept_tree(client, session, walks: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """Posts for past days append their areas to the campaign's list: a tree kept at any version of
    it is brought up to date without a walk. A list grown too long, or the areas changing, and the
    tree is walked again; another campaign's posts leave it as it is. Never stale."""
    monkeypatch.setattr(versions, "MAX_HISTORY_AREAS", 60)
    campaign = await make_campaign(session)
    other = await make_campaign(session)
    admin = await headers_for(session, role=Role.admin)
    today = campaigns.today_for(campaign)
    cache = BodyCache()

    async def read() -> list[int]:
        walks.clear()
        fresh = await campaigns.get_campaign(session, campaign_id=campaign.id)
        body = (await progress.progress_json(session, campaign=fresh, area="36.74", depth=2, cache=cache)).body
        assert body == (await progress.progress_json(session, campaign=fresh, area="36.74", depth=2, cache=None)).body
        walks.pop()
        return list(walks)

    async def post_on(area: str, days_ago: int, count: int, campaign_id: int = campaign.id) -> None:
        assert (await post(client, campaign_id, rows({area: count}, today - timedelta(days=days_ago)), admin)).status_code == 200

    assert await read() == [1]
    await post_on("36.74.04.1001", 2, 3)
    await post_on("36.74.04.1001", 2, 4)  # the list goes on
    assert await read() == []
    await post_on("36.74.03.1001", 5, 6)  # the tree was kept inside the list
    assert await read() == []
    await post_on("36.74.02", 30, 8)
    assert await read() == []
    await post_on("36.74.01.1001", 2, 9)  # too long a list: not known
    assert await read() == [1]
    await post_on("36.74.01.1001", 3, 1)  # a new list, from the tree's version
    assert await read() == []
    await post_on("36.74.04.1001", 2, 2, campaign_id=other.id)  # another campaign: its own marks
    assert await read() == []
    await versions.touch_all(session)  # areas may have changed
    assert await read() == [1]
    await post_on("36.74.04.1001", 0, 5)  # today: no history version moves
    assert await read() == []
