"""Issue 22: concurrent writers of one campaign's tallies on PostgreSQL, without a campaign lock.

Queue completions (`add_recordings`: they only add) and tally posts (imports: they replace, and in
mode=replace delete) run at once across overlapping areas and days: kelurahan of three kecamatan,
the kecamatan themselves (official figures above their kelurahan'), the city above all. Every
request commits for real (tests/committing.py). Afterwards, whatever order the database chose:
- every rollup equals what the raw tallies give and every per-area total the sum of its rollups
  (tests/tallies/invariants.py, the slow definition);
- each queue tally holds exactly the recordings added to it (no addition lost);
- each tally's history is one unbroken chain from its creation to its stored value;
- no request failed (no deadlock, no 500).
The property is checked for several random mixes (seeded, so a failure can be replayed).
"""

import asyncio
import random
from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from api import calendar, fastpath
from api.areas.models import Area
from api.campaigns.models import Campaign
from api.db import commit, hold_last_writes
from api.principal import SYSTEM
from api.tallies import imports, writer
from api.tallies import rollups as tally_rollups
from api.tallies import service as tallies
from api.tallies.models import ORIGINS, Tally, TallyChange, TallyImport
from api.types import Role
from tests.committing import city_database, committing_client
from tests.factories import headers_for, make_campaign, make_service_point
from tests.tallies.invariants import mismatches, queries

KECAMATAN = ("36.74.01", "36.74.02", "36.74.03")


@pytest.fixture(scope="module")
async def race_engine(pg_cluster):
    async with city_database(pg_cluster, "tally_race") as engine:
        yield engine


def _post_rows(rng: random.Random, kelurahan: dict[str, list[str]], days: list[Any]) -> list[dict[str, Any]]:
    """A script's post: one or two kecamatan, some of their kelurahan (sometimes the kecamatan's
    own official figure too), one or two days, counts that may go down as well as up."""
    rows = []
    source = rng.choice(["script", "manual"])
    for kecamatan in rng.sample(KECAMATAN, rng.choice([1, 1, 2])):
        areas = rng.sample(kelurahan[kecamatan], rng.randint(1, len(kelurahan[kecamatan])))
        if rng.random() < 0.3:
            areas.append(kecamatan)
        for day in rng.sample(days, rng.choice([1, 2])):
            rows.extend({"area": area, "date": day.isoformat(), "count": rng.randint(0, 40), "source": source} for area in areas)
    return rows


# batch: rows per batch of an import (`api.tallies.imports.BATCH`); with 3, most posts write in
# several batches (and mode=replace deletes after them), as a large upload does. at_once: a post's
# rollups in one statement (`Bulk.roll_up_at_once`, a request's few keys); else level by level,
# as larger changes are.
@pytest.mark.parametrize(("seed", "batch", "at_once"), [(1, None, True), (2, None, True), (3, None, False), (4, 3, True)])
async def test_concurrent_completions_and_posts_keep_every_figure_exact(
    race_engine, seed: int, batch: int | None, at_once: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not at_once:
        monkeypatch.setattr(tally_rollups, "ROLL_UP_AT_ONCE", 0)
    if batch is not None:
        monkeypatch.setattr(imports, "BATCH", batch)
        monkeypatch.setattr(writer, "STAGE_FROM", 1)  # and through the staging tables (seeds 1-3: arrays)
    rng = random.Random(seed)
    maker = async_sessionmaker(race_engine, expire_on_commit=False, autoflush=False)
    async with maker() as session, session.begin():
        campaign = await make_campaign(session)
        admin = await headers_for(session, role=Role.admin)
        kelurahan = {k: list((await session.scalars(select(Area.code).where(Area.parent_code == k).order_by(Area.code).limit(3))).all()) for k in KECAMATAN}
        points = [(await make_service_point(session, area=k)).id for k in KECAMATAN]
    today = calendar.today()
    days = [today - timedelta(days=n) for n in range(3)]
    added: Counter[tuple[str, Any, int | None]] = Counter()

    async def complete(area: str, day: Any, point: int | None, with_commit: bool) -> None:
        async with maker() as session:
            if with_commit:  # as in a request: the recording's statement goes with the COMMIT
                hold_last_writes(session)
            await tallies.add_recordings(session, area_code=area, day=day, source="queue", service_point_id=point, actor=SYSTEM)
            await commit(session)

    async with committing_client(race_engine) as client:

        async def post(rows: list[dict[str, Any]], mode: str) -> Any:
            return await client.post(f"/api/v1/campaigns/{campaign.id}/tallies", json={"tallies": rows}, params={"mode": mode}, headers=admin)

        for _wave in range(3):  # later waves find the earlier ones' rows: updates, shrinking, deletions
            work = []
            for _ in range(36):
                if rng.random() < 0.75:
                    kecamatan = rng.choice(KECAMATAN)
                    area = rng.choice([kecamatan, *kelurahan[kecamatan]])
                    day, point = rng.choice(days[:2]), rng.choice([None, *points])
                    added[(area, day, point)] += 1
                    work.append(complete(area, day, point, rng.random() < 0.5))
                else:
                    work.append(post(_post_rows(rng, kelurahan, days), rng.choice(["upsert", "upsert", "replace"])))
            answers = await asyncio.gather(*work)
            posts = [a for a in answers if a is not None]
            assert posts and all(a.status_code == 200 for a in posts), [a.text for a in posts if a.status_code != 200]

    async with maker() as session:
        raw, rollups, totals = [(await session.execute(q)).all() for q in queries(campaign.id)]
        assert mismatches(raw, rollups, totals, root="36.74") == []
        stored = (
            await session.execute(
                select(Tally.area_code, Tally.day, Tally.service_point_id, Tally.count).where(Tally.campaign_id == campaign.id, Tally.source == "queue")
            )
        ).all()
        assert {(area, day, point): count for area, day, point, count in stored} == dict(added)
        await _assert_history_chains(session, campaign.id)


async def _assert_history_chains(session: Any, campaign_id: int) -> None:
    """Per tally (key and origin), its history entries in order: each starts from the value the
    previous one left (the first from nothing: a creation), and the last leaves the stored value
    (None: deleted). A tally created by an import is recorded by its own row until it changes:
    with no entry after the last deletion, the stored tally must be an import's."""
    entries: dict[tuple[Any, ...], list[tuple[int | None, int | None]]] = defaultdict(list)
    changes = await session.execute(
        select(
            TallyChange.area_code,
            TallyChange.day,
            TallyChange.service_point_id,
            TallyChange.device_id,
            TallyChange.source,
            TallyChange.old_count,
            TallyChange.new_count,
        )
        .where(TallyChange.campaign_id == campaign_id)
        .order_by(TallyChange.id)
    )
    for area, day, point, device, source, old, new in changes:
        entries[(area, day, point, device, ORIGINS.get(source, 0))].append((old, new))
    stored = {
        (area, day, point, device, ORIGINS.get(source, 0)): (count, import_id)
        for area, day, point, device, source, count, import_id in await session.execute(
            select(Tally.area_code, Tally.day, Tally.service_point_id, Tally.device_id, Tally.source, Tally.count, Tally.import_id).where(
                Tally.campaign_id == campaign_id
            )
        )
    }
    assert stored
    for key in entries.keys() | stored.keys():
        count, import_id = stored.get(key, (None, None))
        left = None
        for old, new in entries.get(key, []):
            assert old == left, f"{key}: {entries[key]}"
            left = new
        if left != count:
            assert left is None and import_id is not None, f"{key}: history {entries.get(key)} leaves {left}, stored {count} (import {import_id})"


async def test_a_small_post_shares_the_campaign_and_a_replacing_one_waits_for_it_alone(race_engine) -> None:
    """A script's daily post (one small batch, nothing deleted) is written in one step, taking its
    row locks in the order every writer keeps: it runs beside a completion in flight. A post that
    deletes (mode=replace) writes in two steps: it waits until it has the campaign to itself."""
    maker = async_sessionmaker(race_engine, expire_on_commit=False, autoflush=False)
    async with maker() as session, session.begin():
        campaign = await make_campaign(session)
        admin = await headers_for(session, role=Role.admin)
    rows = [{"area": "36.74.01", "date": calendar.today().isoformat(), "count": 5, "source": "manual"}]
    url = f"/api/v1/campaigns/{campaign.id}/tallies"
    async with committing_client(race_engine) as client:
        async with maker() as holder, holder.begin():
            await writer.share_campaign(holder, campaign.id)  # a completion between its lock and its COMMIT
            small = await asyncio.wait_for(client.post(url, json={"tallies": rows}, headers=admin), timeout=60)
            assert small.status_code == 200, small.text
            replacing = asyncio.ensure_future(client.post(url, json={"tallies": rows}, params={"mode": "replace"}, headers=admin))
            for _ in range(600):
                waiting = await holder.scalar(select(text("count(*) FROM pg_stat_activity WHERE wait_event = 'advisory'")))
                if waiting or replacing.done():
                    break
                await asyncio.sleep(0.05)
            assert waiting == 1 and not replacing.done()
        answer = await asyncio.wait_for(replacing, timeout=60)
        assert answer.status_code == 200, answer.text


async def test_a_real_request_writes_the_rollups_last(race_engine) -> None:
    """In a request (its own transaction, committed), a script's small post writes its rollups (every
    level in one statement) as the transaction's last step (`api.db.last_step`), after its answer is kept for a retry; its
    totals (they only grow here) and the campaign's version go with the COMMIT, in one round trip
    (`api.db.last_statement`: not through SQLAlchemy's events), for a past day too; so do the
    completions of its own import record and of the answer kept for a retry (`api.db.last_update`)."""
    maker = async_sessionmaker(race_engine, expire_on_commit=False, autoflush=False)
    async with maker() as session, session.begin():
        campaign = await make_campaign(session, target=100)
        admin = await headers_for(session, role=Role.admin)
    today = calendar.today()
    seen: list[str] = []
    answers: dict[str, Any] = {}

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(race_engine.sync_engine, "before_cursor_execute", note)
    try:
        async with committing_client(race_engine) as client:
            for key, day, count in (("last-1", today, 23), ("last-2", today - timedelta(days=3), 4)):
                seen.clear()
                answer = await client.post(
                    f"/api/v1/campaigns/{campaign.id}/tallies",
                    json={"tallies": [{"area": "36.74.01", "date": day.isoformat(), "count": count, "source": "manual"}]},
                    headers={**admin, "Idempotency-Key": key},
                )
                assert answer.status_code == 200, answer.text
                answers[key] = answer.json()
                # The rollups, every level in one statement, are the last on their own; nothing is read after them.
                assert fastpath.written_tables(seen[-1]) == {"tally_rollups"}, seen[-1]
                assert not [s for s in seen[:-1] if "tally_rollups" in s]
                with_the_commit = ("INSERT INTO tally_totals", "UPDATE campaigns", "UPDATE tally_imports", "UPDATE idempotency_records")
                assert not [s for s in seen if any(part in s for part in with_the_commit)]
            progress = (await client.get(f"/api/v1/campaigns/{campaign.id}/progress", params={"depth": 0})).json()
            # The kept answer replays (its JSON went through the column's own processing) ...
            again = await client.post(
                f"/api/v1/campaigns/{campaign.id}/tallies",
                json={"tallies": [{"area": "36.74.01", "date": today.isoformat(), "count": 23, "source": "manual"}]},
                headers={**admin, "Idempotency-Key": "last-1"},
            )
            assert again.status_code == 200 and again.json() == answers["last-1"]
    finally:
        event.remove(race_engine.sync_engine, "before_cursor_execute", note)
    assert progress["recorded"] == 27
    async with maker() as session:
        stored = await session.get(Campaign, campaign.id)
        assert stored is not None and stored.history_areas == "36.74.01"  # the past day's marks, set with the COMMIT
        # ... and each import's record holds its rows and summary.
        records = (await session.scalars(select(TallyImport).where(TallyImport.campaign_id == campaign.id).order_by(TallyImport.id))).all()
        assert [(r.rows, r.summary["imported"], r.summary["import_id"]) for r in records] == [
            (1, 1, answers["last-1"]["import_id"]),
            (1, 1, answers["last-2"]["import_id"]),
        ]
        raw, rollups, totals = [(await session.execute(q)).all() for q in queries(campaign.id)]
        assert mismatches(raw, rollups, totals, root="36.74") == []
