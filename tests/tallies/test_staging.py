"""PostgreSQL imports write through staging tables (`api.tallies.bulk.Staging`): the same
sequence of imports (new figures, corrections up and down, a kecamatan's own figure over its
kelurahan's, operational recordings beside them, mode=replace's deletions, a dry run, a refused
request, point and device keys) leaves the same tallies, history, rollups, totals and summaries as
the array path the other writes take (`STAGE_IMPORTS` off), and nothing in the staging tables.
On SQLite both runs take SQLite's one path."""

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.campaigns.service import today_for
from api.tallies import imports, parsing, service, writer
from api.tallies.bulk import ROLL_STAGE, STAGE
from api.tallies.models import Tally, TallyChange, TallyRollup, TallyTotal
from api.tallies.schemas import TallyMode
from api.types import Role
from tests.committing import city_database, committing_client
from tests.factories import headers_for, make_campaign, make_service_point, principal
from tests.tallies.factories import make_device
from tests.tallies.invariants import mismatches, queries

KELURAHAN = ["36.74.01.1001", "36.74.01.1002", "36.74.02.1001"]


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _post(session, campaign, tallies: list[dict[str, Any]], **options: Any) -> tuple[int, dict[str, Any], bool, bool]:
    """(status, summary without the import's id, whether the campaign's data and history versions moved)."""
    versions = (campaign.data_version, campaign.history_version)
    status, summary = await service.post_tallies(
        session,
        campaign=campaign,
        actor=principal(Role.admin),
        content_type="application/json",
        body=_body(json.dumps({"tallies": tallies}).encode()),
        **options,
    )
    await session.refresh(campaign)  # a dry run or a refused request rolled back what it changed
    if status == 200:
        summary = {key: value for key, value in summary.items() if key != "import_id"}
    return status, summary, campaign.data_version != versions[0], campaign.history_version != versions[1]


async def _scenario(session, point: int, device: int) -> list[Any]:
    """Run the imports in a campaign of their own; answer everything they left, without ids."""
    campaign = await make_campaign(session)
    days = [(today_for(campaign) - timedelta(days=1 + d)).isoformat() for d in range(4)]
    admin = principal(Role.admin)

    def rows(figures: dict[str, int], day: int, **extra: Any) -> list[dict[str, Any]]:
        return [{"area": area, "date": days[day], "count": count, **extra} for area, count in figures.items()]

    answers = []
    first = rows({code: 10 + i for i, code in enumerate(KELURAHAN)}, 0) + rows({code: 20 + i for i, code in enumerate(KELURAHAN)}, 1)
    answers.append(await _post(session, campaign, first))
    answers.append(await _post(session, campaign, first))  # the same again: nothing changes, not even the versions
    await service.add_recordings(session, area_code="36.74.01.1001", day=today_for(campaign) - timedelta(days=3), count=4, source="queue", actor=admin)
    await service.add_recordings(session, area_code="36.74.02", day=today_for(campaign) - timedelta(days=1), count=2, source="home_visit", actor=admin)
    # Corrections up and down, unchanged rows, new days, a kecamatan's own figure over its kelurahan's
    second = rows({KELURAHAN[0]: 15, KELURAHAN[1]: 2, KELURAHAN[2]: 12}, 0) + rows({"36.74.01": 100}, 1) + rows({KELURAHAN[0]: 7}, 2, source="script")
    answers.append(await _post(session, campaign, second))
    answers.append(await _post(session, campaign, rows({"36.74.01": 0, KELURAHAN[2]: 3}, 1), dry_run=True))
    answers.append(await _post(session, campaign, rows({KELURAHAN[0]: 1}, 0) + rows({KELURAHAN[0]: -1}, 1)))  # refused whole
    # Points and devices beside the area's own tally; the kecamatan's figure taken down
    answers.append(await _post(session, campaign, rows({KELURAHAN[1]: 9}, 0, service_point_id=point) + rows({KELURAHAN[1]: 4}, 0, device_id=device)))
    answers.append(await _post(session, campaign, rows({"36.74.01": 0}, 1) + rows({KELURAHAN[2]: 30}, 3)))
    # mode=replace: the script's figures of days 0-1 now, the others of those days deleted
    answers.append(await _post(session, campaign, rows({KELURAHAN[0]: 16, KELURAHAN[2]: 12}, 0) + rows({KELURAHAN[1]: 21}, 1), mode=TallyMode.replace))
    answers.append(await _post(session, campaign, rows({KELURAHAN[0]: 8}, 2, source="script"), mode=TallyMode.replace))

    raw, rollups, totals = [(await session.execute(q)).all() for q in queries(campaign.id)]
    official = await service.sources_for(session, campaign_id=campaign.id)
    assert mismatches(raw, rollups, totals, root=campaign.root_area_code, official=official) == []
    c = campaign.id
    tallies = (
        await session.execute(select(Tally.area_code, Tally.day, Tally.point_key, Tally.device_key, Tally.count, Tally.source).where(Tally.campaign_id == c))
    ).all()
    history = (
        await session.execute(
            select(
                TallyChange.area_code, TallyChange.day, TallyChange.service_point_id, TallyChange.old_count, TallyChange.new_count, TallyChange.source
            ).where(TallyChange.campaign_id == c)
        )
    ).all()
    stored_rollups = (await session.execute(select(TallyRollup).where(TallyRollup.campaign_id == c))).scalars().all()
    stored_totals = (await session.execute(select(TallyTotal).where(TallyTotal.campaign_id == c))).scalars().all()
    return [
        answers,
        sorted(map(tuple, tallies)),
        sorted(map(tuple, history), key=repr),
        sorted((r.area_code, r.day, r.own, r.own_rows, r.below, r.op_own, r.op_below, r.total, r.provisional) for r in stored_rollups),
        sorted((t.area_code, t.total, t.provisional, t.last_day) for t in stored_totals),
    ]


async def test_staged_imports_leave_what_the_array_path_leaves(session, monkeypatch) -> None:
    # Batches of two rows: several per request, each written while the next is read (`Writer.settle`)
    monkeypatch.setattr(imports, "BATCH", 2)
    monkeypatch.setattr(parsing, "BATCH", 2)
    monkeypatch.setattr(writer, "STAGE_FROM", 1)
    point = (await make_service_point(session, area="36.74.01.1002")).id
    device = (await make_device(session)).id
    staged = await _scenario(session, point, device)
    monkeypatch.setattr(writer, "STAGE_IMPORTS", False)
    arrays = await _scenario(session, point, device)
    assert [answer[0] for answer in staged[0]] == [200, 200, 200, 200, 422, 200, 200, 200, 200]
    assert staged == arrays
    assert staged[0][1][1:] == ({**staged[0][1][1], "unchanged": 6, "imported": 0}, False, False)
    assert staged[0][7][1]["deleted"] > 0 and staged[0][7][2]  # replace mode deleted something


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # staging tables are PostgreSQL's
async def test_staging_leaves_nothing_behind(session, monkeypatch) -> None:
    monkeypatch.setattr(writer, "STAGE_FROM", 1)
    campaign = await make_campaign(session)
    day = (today_for(campaign) - timedelta(days=1)).isoformat()
    status, summary, _, _ = await _post(session, campaign, [{"area": code, "date": day, "count": 5} for code in KELURAHAN])
    assert status == 200 and summary["imported"] == 3
    for table in (STAGE, ROLL_STAGE):  # emptied once the rollups are written
        assert await session.scalar(text(f"SELECT count(*) FROM {table}")) == 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_small_post_goes_through_arrays_and_a_large_one_is_staged(session, monkeypatch) -> None:
    campaign = await make_campaign(session)
    day = (today_for(campaign) - timedelta(days=1)).isoformat()
    staged = "SELECT to_regclass(:table) IS NOT NULL"
    status, _, _, _ = await _post(session, campaign, [{"area": code, "date": day, "count": 5} for code in KELURAHAN])
    assert status == 200 and not await session.scalar(text(staged), {"table": STAGE})  # 3 rows < STAGE_FROM
    monkeypatch.setattr(writer, "STAGE_FROM", len(KELURAHAN))
    status, _, _, _ = await _post(session, campaign, [{"area": code, "date": day, "count": 6} for code in KELURAHAN])
    assert status == 200 and await session.scalar(text(staged), {"table": STAGE})


@pytest.fixture(scope="module")
async def staging_engine(pg_cluster):
    async with city_database(pg_cluster, "tally_staging") as engine:
        yield engine


async def test_staging_tables_are_dropped_at_commit_and_made_again(staging_engine, monkeypatch) -> None:
    """Committed imports, one after the other on the pool's connection (more than psycopg's
    threshold for preparing a statement, so prepared statements outlive the tables they read)."""
    monkeypatch.setattr(writer, "STAGE_FROM", 1)
    maker = async_sessionmaker(staging_engine, expire_on_commit=False, autoflush=False)
    async with maker() as session, session.begin():
        campaign = await make_campaign(session)
        admin = await headers_for(session, role=Role.admin)
    days = [(today_for(campaign) - timedelta(days=1 + d)).isoformat() for d in range(8)]
    async with committing_client(staging_engine) as client:
        for n, day in enumerate(days):
            tallies = [{"area": code, "date": day, "count": n + i} for i, code in enumerate(KELURAHAN)]
            response = await client.post(f"/api/v1/campaigns/{campaign.id}/tallies", json={"tallies": tallies}, params={"dry_run": n == 3}, headers=admin)
            assert response.status_code == 200, response.text
            async with maker() as session:
                left = "SELECT count(*) FROM pg_class WHERE relname IN (:a, :b)"  # any session's temporary tables
                assert await session.scalar(text(left), {"a": STAGE, "b": ROLL_STAGE}) == 0
    async with maker() as session:
        raw, rollups, totals = [(await session.execute(q)).all() for q in queries(campaign.id)]
        assert len(raw) == 3 * 7
        assert mismatches(raw, rollups, totals, root=campaign.root_area_code, official=await service.sources_for(session, campaign_id=campaign.id)) == []
