"""Property (hypothesis): after any sequence of tally upserts, replaces (which delete), refused
requests and recordings added by the queue, the rollups and totals equal the raw tallies' sums."""

import json
from collections.abc import AsyncIterator
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from api.auth.models import Role
from api.campaigns.service import today_for
from api.tallies import service
from api.tallies.models import Tally
from api.tallies.schemas import TallyMode
from tests.factories import make_campaign, principal
from tests.tallies.invariants import mismatches, queries

# Two kecamatan and three of their kelurahan: figures at both levels, and parents without their own.
AREAS = ["36.74.01", "36.74.01.1001", "36.74.01.1002", "36.74.02", "36.74.02.1001"]
DAYS = 3

row = st.tuples(st.integers(0, len(AREAS) - 1), st.integers(0, DAYS - 1), st.integers(0, 60), st.sampled_from(["manual", "script"]))
posting = st.tuples(st.sampled_from(["upsert", "replace"]), st.lists(row, min_size=1, max_size=8))
recording = st.tuples(st.just("queue"), st.tuples(st.integers(0, len(AREAS) - 1), st.integers(0, DAYS - 1)))
operations = st.lists(st.one_of(posting, posting, recording), min_size=1, max_size=8)


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _check(session, campaign) -> list[tuple]:
    raw, rollups, totals = [(await session.execute(q)).all() for q in queries(campaign.id)]
    assert mismatches(raw, rollups, totals, root=campaign.root_area_code) == []
    return sorted(tuple(r) for r in (await session.execute(select(Tally.area_code, Tally.day, Tally.point_key, Tally.count, Tally.source).where(Tally.campaign_id == campaign.id))).all())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=operations)
async def test_rollups_equal_raw_sums_after_any_upserts_replaces_and_deletes(session, steps) -> None:
    example = await session.begin_nested()  # each example starts from nothing and leaves nothing
    try:
        campaign = await make_campaign(session)
        admin = principal(Role.admin)
        days = [today_for(campaign) - timedelta(days=1 + d) for d in range(DAYS)]
        for kind, detail in steps:
            before = await _check(session, campaign)
            if kind == "queue":
                area, day = detail
                await service.add_recordings(session, area_code=AREAS[area], day=days[day], source="queue", actor=admin)
                continue
            tallies = [{"area": AREAS[a], "date": days[d].isoformat(), "count": c, "source": s} for a, d, c, s in detail]
            status, summary = await service.post_tallies(
                session, campaign=campaign, actor=admin, content_type="application/json", body=_body(json.dumps({"tallies": tallies}).encode()),
                mode=TallyMode(kind),
            )
            keys = [(a, d) for a, d, _, _ in detail]
            if len(set(keys)) < len(keys):  # a key twice: refused as a whole (atomic), nothing written
                assert status == 422 and summary["summary"]["rejected"] > 0
                assert await _check(session, campaign) == before
            else:
                assert status == 200, summary
                assert summary["imported"] + summary["updated"] + summary["unchanged"] == len(detail)
        await _check(session, campaign)
    finally:
        await example.rollback()
        session.expunge_all()  # the next example may get the same ids for new rows
