"""Hand-computed cases of the precedence rule (api/tallies/precedence.py) for each order of
arrival: official first, operational first, both at two levels, an official correction and its
removal, and a campaign whose operational counts are official. The issue's case: the kecamatan's
daily total (100, from the recording system) and four tickets completed at its office."""

import json
from collections.abc import AsyncIterator
from datetime import timedelta

from api.campaigns.service import today_for
from api.tallies import service
from api.tallies.schemas import TallyMode
from api.types import Role
from tests.factories import make_campaign, make_service_point, principal
from tests.tallies.invariants import mismatches, queries

SERPONG, LENGKONG, CITY = "36.74.01", "36.74.01.1001", "36.74"
ADMIN = principal(Role.admin)


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _post(session, campaign, rows, *, mode=TallyMode.upsert):
    day = today_for(campaign)
    tallies = [{"area": area, "date": day.isoformat(), "count": count, "source": source} for area, count, source in rows]
    status, payload = await service.post_tallies(
        session, campaign=campaign, actor=ADMIN, content_type="application/json", body=_body(json.dumps({"tallies": tallies}).encode()), mode=mode
    )
    assert status == 200, payload
    return payload


async def _tickets(session, campaign, point_id: int, n: int, *, area: str = SERPONG) -> None:
    for _ in range(n):
        await service.add_recordings(session, area_code=area, day=today_for(campaign), source="queue", service_point_id=point_id, actor=ADMIN)


async def _visit(session, campaign, area: str) -> None:
    await service.add_recordings(session, area_code=area, day=today_for(campaign), source="home_visit", actor=ADMIN)


async def _parts(session, campaign, *codes: str) -> dict[str, tuple[int, int]]:
    """area -> (official, provisional) today, from the daily rollups and from the campaign totals (which must agree)."""
    day = today_for(campaign)
    result = {}
    totals = await service.subtree_parts(session, campaign_id=campaign.id, codes=list(codes))
    for code in codes:
        daily = (await service.daily_parts(session, campaign_id=campaign.id, code=code, since=day, until=day)).get(day, service.Parts())
        assert totals.get(code, (service.Parts(), None))[0] == daily
        result[code] = (daily.official, daily.provisional)
    raw, rollups, stored = [(await session.execute(q)).all() for q in queries(campaign.id)]
    assert mismatches(raw, rollups, stored, root=campaign.root_area_code, official=await service.sources_for(session, campaign_id=campaign.id)) == []
    return result


async def test_official_first_then_tickets_counts_the_office_total_once(session) -> None:
    campaign = await make_campaign(session)
    point = await make_service_point(session, area=SERPONG)
    await _post(session, campaign, [(SERPONG, 100, "script")])
    await _tickets(session, campaign, point.id, 4)
    assert await _parts(session, campaign, SERPONG, CITY) == {SERPONG: (100, 0), CITY: (100, 0)}  # not 104


async def test_tickets_first_are_provisional_until_the_official_total_arrives(session) -> None:
    campaign = await make_campaign(session)
    point = await make_service_point(session, area=SERPONG)
    await _tickets(session, campaign, point.id, 4)
    await _visit(session, campaign, LENGKONG)
    assert await _parts(session, campaign, SERPONG, LENGKONG, CITY) == {SERPONG: (0, 5), LENGKONG: (0, 1), CITY: (0, 5)}
    await _post(session, campaign, [(SERPONG, 100, "script")])
    # The office's total contains the four tickets and the visit; the kelurahan keeps what it knows.
    assert await _parts(session, campaign, SERPONG, LENGKONG, CITY) == {SERPONG: (100, 0), LENGKONG: (0, 1), CITY: (100, 0)}


async def test_both_kinds_at_two_levels_and_an_official_correction(session) -> None:
    campaign = await make_campaign(session)
    point = await make_service_point(session, area=SERPONG)
    other = "36.74.02"
    await _post(session, campaign, [(LENGKONG, 40, "manual")])
    await _visit(session, campaign, LENGKONG)  # superseded by the kelurahan's own official figure
    await _tickets(session, campaign, point.id, 3)  # at the kecamatan office: no official figure covers them yet
    await _tickets(session, campaign, point.id, 2, area=other)
    assert await _parts(session, campaign, LENGKONG, SERPONG, other, CITY) == {LENGKONG: (40, 0), SERPONG: (40, 3), other: (0, 2), CITY: (40, 5)}
    await _post(session, campaign, [(SERPONG, 100, "script")])
    assert await _parts(session, campaign, LENGKONG, SERPONG, CITY) == {LENGKONG: (40, 0), SERPONG: (100, 0), CITY: (100, 2)}
    summary = await _post(session, campaign, [(SERPONG, 98, "script")])  # the recording system corrects its export
    assert summary["updated"] == 1
    assert await _parts(session, campaign, SERPONG, CITY) == {SERPONG: (98, 0), CITY: (98, 2)}
    await _post(session, campaign, [(SERPONG, 0, "script")])  # an official zero is a figure too: it still supersedes
    assert await _parts(session, campaign, SERPONG, other, CITY) == {SERPONG: (0, 0), other: (0, 2), CITY: (0, 2)}
    await _post(session, campaign, [(other, 5, "script")], mode=TallyMode.replace)
    assert await _parts(session, campaign, other, CITY) == {other: (5, 0), CITY: (5, 0)}


async def test_a_city_without_an_export_counts_tickets_and_visits_as_official(session) -> None:
    campaign = await make_campaign(session)
    point = await make_service_point(session, area=SERPONG)
    await _tickets(session, campaign, point.id, 4)
    await _visit(session, campaign, LENGKONG)
    assert await _parts(session, campaign, SERPONG, CITY) == {SERPONG: (0, 5), CITY: (0, 5)}
    assert await service.set_policy(session, campaign_id=campaign.id, root=campaign.root_area_code, operational_official=True)
    # Official now: the office's own count stands for its subtree (the visit is not added to it).
    assert await _parts(session, campaign, SERPONG, LENGKONG, CITY) == {SERPONG: (4, 0), LENGKONG: (1, 0), CITY: (4, 0)}
    await _tickets(session, campaign, point.id, 1)
    assert await _parts(session, campaign, SERPONG, CITY) == {SERPONG: (5, 0), CITY: (5, 0)}
    assert await service.set_policy(session, campaign_id=campaign.id, root=campaign.root_area_code, operational_official=False)
    assert await _parts(session, campaign, SERPONG, CITY) == {SERPONG: (0, 6), CITY: (0, 6)}


async def test_days_are_independent(session) -> None:
    campaign = await make_campaign(session)
    point = await make_service_point(session, area=SERPONG)
    await _tickets(session, campaign, point.id, 4)
    yesterday = today_for(campaign) - timedelta(days=1)
    await service.add_recordings(session, area_code=SERPONG, day=yesterday, source="queue", service_point_id=point.id, actor=ADMIN)
    await _post(session, campaign, [(SERPONG, 100, "script")])
    assert (await service.subtree_parts(session, campaign_id=campaign.id, codes=[SERPONG]))[SERPONG] == (service.Parts(100, 1), today_for(campaign))
