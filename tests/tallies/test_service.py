import random
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select

from api import calendar
from api.calendar import nth_service_day, service_days
from api.campaigns import demo
from api.campaigns import service as campaigns
from api.campaigns.service import today_for
from api.principal import SYSTEM
from api.progress import service as progress_service
from api.tallies import service
from api.tallies.models import Tally, TallyChange, TallyRollup
from api.types import Role
from tests.factories import headers_for, make_campaign, make_service_point
from tests.tallies.factories import post, rows

KELURAHAN = ["36.74.01.1001", "36.74.01.1002"]


def expected_rollups(tallies: list[tuple[str, date, int]], root: str) -> dict[tuple[str, date], int]:
    """The rollup rule written the slow way: an area's own tallies stand for its subtree."""
    own: dict[tuple[str, date], int] = defaultdict(int)
    has_own: set[tuple[str, date]] = set()
    for area, day, count in tallies:
        own[(area, day)] += count
        has_own.add((area, day))
    codes = {a for a, _, _ in tallies}
    for area in list(codes):
        codes.update(a for a in campaigns.areas.ancestors_of(area) if campaigns.areas.is_within(a, root))
    days = {d for _, d, _ in tallies}

    def total(code: str, day: date) -> int:
        if (code, day) in has_own:
            return own[(code, day)]
        return sum(total(child, day) for child in codes if campaigns.areas.parent_of(child) == code)

    return {(code, day): total(code, day) for code in codes for day in days if total(code, day)}


async def test_rollups_match_the_rule_after_random_postings(client, session) -> None:
    campaign = await make_campaign(session)
    campaign_id, root, today = campaign.id, campaign.root_area_code, today_for(campaign)
    admin = await headers_for(session, role=Role.admin)
    rng = random.Random(4)
    areas = ["36.74.01", "36.74.02", *KELURAHAN, "36.74.02.1001"]
    days = [today - timedelta(days=i) for i in range(3)]
    for _ in range(6):
        keys = rng.sample([(a, d) for a in areas for d in days], 6)
        batch = [{"area": a, "date": d.isoformat(), "count": rng.randint(0, 40)} for a, d in keys]
        mode = rng.choice(["upsert", "replace"])
        assert (await post(client, campaign_id, batch, admin, mode=mode)).status_code == 200
    tallies = (await session.execute(select(Tally.area_code, Tally.day, Tally.count).where(Tally.campaign_id == campaign_id))).all()
    stored = {
        (r.area_code, r.day): r.total for r in (await session.scalars(select(TallyRollup).where(TallyRollup.campaign_id == campaign_id))).all() if r.total
    }
    assert stored == expected_rollups([tuple(t) for t in tallies], root)
    progress = await progress_service.progress(session, campaign=campaign, depth=1)
    assert progress.recorded == sum(v for (code, _), v in stored.items() if code == root)


async def test_posting_at_two_levels_never_double_counts_and_shows_the_disagreement(client, session) -> None:
    campaign = await make_campaign(session)
    campaign_id, day = campaign.id, today_for(campaign)
    admin = await headers_for(session, role=Role.admin)
    await post(client, campaign_id, rows({KELURAHAN[0]: 100, KELURAHAN[1]: 50}, day), admin)
    assert (await progress_service.progress(session, campaign=campaign, area="36.74.01", depth=0)).recorded == 150
    await post(client, campaign_id, rows({"36.74.01": 160}, day), admin)
    node = await progress_service.progress(session, campaign=campaign, depth=1)
    assert node.recorded == 160 and node.children[0].recorded == 160
    found = [d for d in await progress_service.discrepancies(session, campaign=campaign) if d.kind == "tally"]
    assert [(d.area, d.as_of, d.reported, d.children_sum, d.difference, d.children_reporting) for d in found] == [("36.74.01", day, 160, 150, 10, 2)]


async def test_add_recordings_counts_for_every_campaign_covering_the_area_and_day(session) -> None:
    city = await make_campaign(session)
    kecamatan = await make_campaign(session, root="36.74.01")
    elsewhere = await make_campaign(session, root="36.74.02")
    ended = await make_campaign(session, start=calendar.today() - timedelta(days=90), deadline=calendar.today() - timedelta(days=30))
    ids = (city.id, kecamatan.id, elsewhere.id, ended.id)
    point_id = (await make_service_point(session, area="36.74.01")).id
    day = today_for(city)
    for _ in range(3):
        await service.add_recordings(session, area_code=KELURAHAN[0], day=day, source="queue", service_point_id=point_id, actor=SYSTEM)
    counts = dict((await session.execute(select(Tally.campaign_id, Tally.count).where(Tally.campaign_id.in_(ids)))).all())
    assert counts == {ids[0]: 3, ids[1]: 3}
    history = (await session.scalars(select(TallyChange).where(TallyChange.campaign_id == ids[0]).order_by(TallyChange.id))).all()
    assert [(h.old_count, h.new_count, h.source) for h in history] == [(None, 1, "queue"), (1, 2, "queue"), (2, 3, "queue")]
    assert (await progress_service.progress(session, campaign=city, depth=0)).recorded == 3


async def test_progress_of_the_city_forecasts_by_hand(client, session) -> None:
    today = calendar.today()
    loaded = await demo.load(session, today=today)
    campaign = loaded.campaign
    campaign_id, today = campaign.id, today_for(campaign)
    admin = await headers_for(session, role=Role.admin)
    week = [r for i in range(1, 8) for r in rows(dict.fromkeys(demo.RECORDED_AS_OF_AUGUST, 1000), today - timedelta(days=i))]
    assert (await post(client, campaign_id, week + rows({"36.74.01": 500}, today), admin)).json()["imported"] == 50
    node = (await client.get(f"/api/v1/campaigns/{campaign_id}/progress", params={"area": "36.74", "depth": 1})).json()
    # The city's reported 554,702 as of the snapshot, plus 7 days x 7 kecamatan x 1,000, plus 500 today.
    assert node["recorded"] == 554_702 + 49_000 + 500 == 604_202
    assert node["remaining"] == 760_097 - 604_202 == 155_895
    assert node["recorded_last_7_days"] == 49_000 and node["rate_7d"] == 7000.0
    # The deadline is 61 days after the snapshot, which is 30 days ago: 31 days from tomorrow on.
    assert node["service_days_left"] == 31
    assert node["required_per_day"] == 5029  # 155,895 / 31 = 5,028.9
    # 155,895 / 7,000 = 22.3, so the 23rd day from tomorrow on, i.e. today + 23.
    assert node["projected_completion_date"] == (today + timedelta(days=23)).isoformat()
    assert node["on_track"] is True
    serpong = next(c for c in node["children"] if c["code"] == "36.74.01")
    assert serpong["recorded"] == 56_458 + 7_500 and serpong["rate_7d"] == 1000.0


def test_service_days_and_projection_on_weekdays_only() -> None:
    friday = date(2026, 11, 27)
    assert service_days(friday, friday + timedelta(days=6), weekends=False) == 5
    assert service_days(friday, friday + timedelta(days=6), weekends=True) == 7
    assert service_days(friday, friday - timedelta(days=1), weekends=False) == 0
    assert nth_service_day(friday, 1, weekends=False) == friday
    assert nth_service_day(friday, 2, weekends=False) == date(2026, 11, 30)  # Monday
    assert nth_service_day(date(2026, 11, 28), 6, weekends=False) == date(2026, 12, 7)
    assert nth_service_day(friday, 10**9, weekends=True) is None


async def test_demo_tallies_are_idempotent_and_some_kecamatan_fall_behind(session) -> None:
    from api.tallies import demo as tallies_demo

    today = calendar.today()
    loaded = await demo.load(session, today=today)
    campaign = loaded.campaign
    first = await tallies_demo.load(
        session, campaign=campaign, snapshot_date=loaded.snapshot_date, today=today, recorded_at_snapshot=demo.RECORDED_AS_OF_AUGUST
    )
    again = await tallies_demo.load(
        session, campaign=campaign, snapshot_date=loaded.snapshot_date, today=today, recorded_at_snapshot=demo.RECORDED_AS_OF_AUGUST
    )
    assert first == 7 * (demo.SNAPSHOT_DAYS_AGO - 1) and again == 0
    node = await progress_service.progress(session, campaign=campaign, depth=1)
    on_track = {c.code: c.on_track for c in node.children}
    assert on_track["36.74.01"] is True and on_track["36.74.07"] is False and on_track["36.74.03"] is False
    assert 2_500 <= node.rate_7d <= 4_500
