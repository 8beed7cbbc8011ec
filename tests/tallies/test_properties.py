"""Property (hypothesis): after any interleaving of official tally upserts, replaces (which
delete), refused requests, operational recordings (queue tickets, home visits, at any level) and
changes of the campaign's policy, the rollups and totals equal the rule of
`api.tallies.precedence` computed from the raw tallies by its path definition."""

import json
from collections.abc import AsyncIterator
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from api.campaigns.service import today_for
from api.tallies import service
from api.tallies.models import Tally
from api.tallies.schemas import TallyMode
from api.types import Role
from tests.factories import make_campaign, principal
from tests.tallies.invariants import mismatches, queries

# Two kecamatan and three of their kelurahan: figures at both levels, and parents without their own.
AREAS = ["36.74.01", "36.74.01.1001", "36.74.01.1002", "36.74.02", "36.74.02.1001"]
DAYS = 3

row = st.tuples(st.integers(0, len(AREAS) - 1), st.integers(0, DAYS - 1), st.integers(0, 60), st.sampled_from(["manual", "script"]))
posting = st.tuples(st.sampled_from(["upsert", "replace"]), st.lists(row, min_size=1, max_size=8))
recording = st.tuples(st.sampled_from(["queue", "home_visit"]), st.tuples(st.integers(0, len(AREAS) - 1), st.integers(0, DAYS - 1), st.integers(1, 5)))
policy = st.tuples(st.just("policy"), st.booleans())
operations = st.lists(st.one_of(posting, posting, recording, recording, policy), min_size=1, max_size=10)


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _check(session, campaign) -> list[tuple]:
    raw, rollups, totals = [(await session.execute(q)).all() for q in queries(campaign.id)]
    official = await service.sources_for(session, campaign_id=campaign.id)
    assert mismatches(raw, rollups, totals, root=campaign.root_area_code, official=official) == []
    return sorted(
        tuple(r)
        for r in (
            await session.execute(select(Tally.area_code, Tally.day, Tally.point_key, Tally.count, Tally.source).where(Tally.campaign_id == campaign.id))
        ).all()
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=operations)
async def test_rollups_follow_the_precedence_rule_after_any_interleaving(session, steps) -> None:
    example = await session.begin_nested()  # each example starts from nothing and leaves nothing
    try:
        campaign = await make_campaign(session)
        admin = principal(Role.admin)
        days = [today_for(campaign) - timedelta(days=1 + d) for d in range(DAYS)]
        for kind, detail in steps:
            before = await _check(session, campaign)
            if kind == "policy":
                await service.set_policy(session, campaign_id=campaign.id, root=campaign.root_area_code, operational_official=detail)
                continue
            if kind in ("queue", "home_visit"):
                area, day, count = detail
                await service.add_recordings(session, area_code=AREAS[area], day=days[day], count=count, source=kind, actor=admin)
                continue
            tallies = [{"area": AREAS[a], "date": days[d].isoformat(), "count": c, "source": s} for a, d, c, s in detail]
            status, summary = await service.post_tallies(
                session,
                campaign=campaign,
                actor=admin,
                content_type="application/json",
                body=_body(json.dumps({"tallies": tallies}).encode()),
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
