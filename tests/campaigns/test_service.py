from datetime import timedelta
from fractions import Fraction

import pytest
from sqlalchemy import select

from api import calendar
from api.campaigns import demo
from api.campaigns import service as campaigns
from api.campaigns.models import Campaign
from api.campaigns.schemas import ApportionMethod, ApportionRequest, SnapshotCreate, TargetIn
from api.errors import Forbidden, RuleViolation
from api.principal import SYSTEM
from api.progress import service as progress_service
from api.types import AreaLevel, Role
from tests.factories import make_campaign, principal


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (10, [1, 1, 1], [4, 3, 3]),
        (100, [1, 1, 1], [34, 33, 33]),
        (7, [0, 1, 0], [0, 7, 0]),
        (5, [Fraction(1, 3), Fraction(2, 3)], [2, 3]),
        (0, [3, 4], [0, 0]),
        (1, [1, 1], [1, 0]),
    ],
)
def test_largest_remainder(total: int, weights: list, expected: list[int]) -> None:
    assert campaigns.largest_remainder(total, weights) == expected


def test_largest_remainder_rejects_bad_weights() -> None:
    with pytest.raises(ValueError):
        campaigns.largest_remainder(10, [0, 0])
    with pytest.raises(ValueError):
        campaigns.largest_remainder(10, [1, -1])


def test_demo_weights_sum_to_the_census_total() -> None:
    assert sum(demo.CENSUS_2010_POPULATION.values()) == 1_290_322
    assert sum(demo.RECORDED_AS_OF_AUGUST.values()) == 553_486


async def test_demo_reproduces_the_article(session) -> None:
    loaded = await demo.load(session, today=calendar.today())
    again = await demo.load(session, today=calendar.today())
    assert loaded.created and not again.created and again.campaign.id == loaded.campaign.id
    node = await progress_service.progress(session, campaign=loaded.campaign, depth=1)
    assert node.target == 760_097 and node.recorded == 554_702
    assert {c.code: c.recorded for c in node.children} == demo.RECORDED_AS_OF_AUGUST
    assert sum(c.target or 0 for c in node.children) == 760_097
    assert all(c.target_source == "apportioned" for c in node.children)
    assert loaded.campaign.deadline - loaded.snapshot_date == timedelta(days=61)
    assert calendar.today() - loaded.snapshot_date == timedelta(days=30)
    [discrepancy] = await progress_service.discrepancies(session, campaign=loaded.campaign)
    assert (discrepancy.area, discrepancy.reported, discrepancy.children_sum, discrepancy.difference) == ("36.74", 554_702, 553_486, 1_216)


async def test_apportion_equal_sums_to_parent(session) -> None:
    campaign = await make_campaign(session, target=1001)
    targets = await campaigns.apportion(
        session, campaign=campaign, request=ApportionRequest(parent="36.74", level=AreaLevel.kelurahan, method=ApportionMethod.equal), actor=SYSTEM
    )
    assert len(targets) == 54 and sum(t.target for t in targets) == 1001
    assert {t.target for t in targets} == {18, 19}


async def test_apportion_weights_must_cover_every_child(session) -> None:
    campaign = await make_campaign(session)
    with pytest.raises(RuleViolation) as caught:
        await campaigns.apportion(
            session,
            campaign=campaign,
            request=ApportionRequest(parent="36.74", level=AreaLevel.kecamatan, method=ApportionMethod.weights, weights={"36.74.01": 1, "36.74.99": 2}),
            actor=SYSTEM,
        )
    fields = {e["field"] for e in caught.value.errors}
    assert "weights.36.74.02" in fields and "weights.36.74.99" in fields


async def test_hand_set_child_target_is_reported(session) -> None:
    campaign = await make_campaign(session, target=100)
    await campaigns.apportion(
        session, campaign=campaign, request=ApportionRequest(parent="36.74", level=AreaLevel.kecamatan, method=ApportionMethod.equal), actor=SYSTEM
    )
    await campaigns.put_targets(session, campaign=campaign, items=[TargetIn(area="36.74.01", target=50)], actor=SYSTEM)
    _, inconsistencies = await campaigns.get_targets(session, campaign=campaign)
    assert [(i.area, i.target, i.children_sum) for i in inconsistencies] == [("36.74", 100, 50 + 15 + 14 * 5)]


async def test_put_targets_rejects_all_on_any_bad_row(session) -> None:
    campaign = await make_campaign(session)
    with pytest.raises(RuleViolation) as caught:
        await campaigns.put_targets(
            session,
            campaign=campaign,
            items=[TargetIn(area="36.74.01", target=5), TargetIn(area="31.71", target=5), TargetIn(area="36.74.01", target=6)],
            actor=SYSTEM,
        )
    assert [e["row"] for e in caught.value.errors] == [2, 3]
    targets, _ = await campaigns.get_targets(session, campaign=campaign)
    assert [t.area_code for t in targets] == ["36.74"]


async def test_progress_sums_children_without_own_snapshot(session) -> None:
    campaign = await make_campaign(session)
    yesterday = calendar.today() - timedelta(days=1)
    for code, value in (("36.74.01.1001", 10), ("36.74.01.1002", 15)):
        await campaigns.record_snapshot(session, campaign=campaign, data=SnapshotCreate(area=code, as_of=yesterday, cumulative=value), actor=SYSTEM)
    node = await progress_service.progress(session, campaign=campaign, area="36.74.01", depth=1)
    assert node.recorded == 25 and node.as_of == yesterday
    assert {c.code: c.recorded for c in node.children if c.recorded} == {"36.74.01.1001": 10, "36.74.01.1002": 15}
    city = await progress_service.progress(session, campaign=campaign, depth=0)
    assert city.recorded == 25 and city.children == []


async def test_snapshot_rules(session) -> None:
    campaign = await make_campaign(session)
    with pytest.raises(RuleViolation):
        await campaigns.record_snapshot(
            session, campaign=campaign, data=SnapshotCreate(area="36.74.01", as_of=calendar.today() + timedelta(days=2), cumulative=1), actor=SYSTEM
        )
    with pytest.raises(RuleViolation):  # an unknown area named in a body is a 422 (docs/api.md)
        await campaigns.record_snapshot(session, campaign=campaign, data=SnapshotCreate(area="36.71.01", as_of=calendar.today(), cumulative=1), actor=SYSTEM)
    with pytest.raises(Forbidden):
        await campaigns.record_snapshot(
            session,
            campaign=campaign,
            data=SnapshotCreate(area="36.74.07", as_of=calendar.today(), cumulative=1),
            actor=principal(Role.supervisor, area="36.74.01"),
        )
    snapshot, created = await campaigns.record_snapshot(
        session, campaign=campaign, data=SnapshotCreate(area="36.74.01", as_of=calendar.today(), cumulative=1), actor=SYSTEM
    )
    again, created_again = await campaigns.record_snapshot(
        session, campaign=campaign, data=SnapshotCreate(area="36.74.01", as_of=calendar.today(), cumulative=2), actor=SYSTEM
    )
    assert created and not created_again and again.id == snapshot.id and again.cumulative == 2


async def test_a_milestone_is_claimed_by_one_process_only(session) -> None:
    """Two workers that read the campaign at milestone 0: the first moves it, the second finds it
    moved (and so does not tell what the first tells)."""
    campaign = await make_campaign(session, target=100)
    seen_by_second = await session.scalar(select(Campaign.milestone).where(Campaign.id == campaign.id))
    assert await campaigns.claim_milestone(session, campaign=campaign, reached=20)
    stale = Campaign(id=campaign.id, milestone=seen_by_second)
    assert not await campaigns.claim_milestone(session, campaign=stale, reached=20)
    assert await session.scalar(select(Campaign.milestone).where(Campaign.id == campaign.id)) == 20
    assert [c.id for c in await campaigns.below_milestone(session, on=calendar.today()) if c.id == campaign.id] == [campaign.id]
