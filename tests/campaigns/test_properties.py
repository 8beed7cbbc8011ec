"""Properties of the arithmetic rules (hypothesis)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from api.areas.models import Area
from api.campaigns.schemas import ApportionRequest, TargetIn
from api.campaigns.service import apportion, get_targets, largest_remainder, put_targets
from api.principal import SYSTEM
from tests.factories import make_campaign

weights = st.lists(st.integers(min_value=0, max_value=10_000_000), min_size=1, max_size=60).filter(lambda ws: sum(ws) > 0)


@given(total=st.integers(min_value=0, max_value=400_000_000), weights=weights)
def test_apportioning_sums_to_the_parent_and_stays_within_one_of_the_quota(total: int, weights: list[int]) -> None:
    shares = largest_remainder(total, weights)
    assert sum(shares) == total
    weight_sum = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        quota = total * weight / weight_sum
        assert quota - 1 < share < quota + 1
        if weight == 0:
            assert share == 0


@given(total=st.integers(min_value=0, max_value=1_000_000), weights=weights)
def test_apportioning_is_deterministic(total: int, weights: list[int]) -> None:
    assert largest_remainder(total, weights) == largest_remainder(total, list(weights))


# Through the service and the database: the stored shares of every level add up to their parent.
KECAMATAN = [f"36.74.0{i}" for i in range(1, 8)]
weight = st.one_of(st.integers(min_value=0, max_value=5_000_000), st.floats(min_value=0, max_value=5_000_000, allow_nan=False, allow_infinity=False))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    total=st.integers(min_value=0, max_value=400_000_000),
    method=st.sampled_from(["equal", "population", "weights"]),
    weights=st.lists(weight, min_size=len(KECAMATAN), max_size=len(KECAMATAN)).filter(lambda ws: sum(ws) > 0),
    below=st.sampled_from(KECAMATAN),
)
async def test_apportioned_targets_sum_to_the_parent_at_every_level(session, total: int, method: str, weights: list[float], below: str) -> None:
    example = await session.begin_nested()
    try:
        campaign = await make_campaign(session, target=total)
        if method == "population":
            for code, w in zip(KECAMATAN, weights, strict=True):
                await session.execute(update(Area).where(Area.code == code).values(population=int(w) + 1))
        await put_targets(session, campaign=campaign, items=[TargetIn(area="36.74", target=total)], actor=SYSTEM)
        request = ApportionRequest(
            parent="36.74", level="kecamatan", method=method, weights=dict(zip(KECAMATAN, weights, strict=True)) if method == "weights" else None
        )
        shares = await apportion(session, campaign=campaign, request=request, actor=SYSTEM)
        assert [t.area_code for t in shares] == KECAMATAN
        assert sum(t.target for t in shares) == total
        # One level further down, from what was stored.
        kelurahan = await apportion(session, campaign=campaign, request=ApportionRequest(parent=below, level="kelurahan", method="equal"), actor=SYSTEM)
        stored, _ = await get_targets(session, campaign=campaign)
        by_area = {t.area_code: t.target for t in stored}
        assert sum(by_area[t.area_code] for t in kelurahan) == by_area[below]
        assert max(t.target for t in kelurahan) - min(t.target for t in kelurahan) <= 1
    finally:
        await example.rollback()
        session.expunge_all()  # the next example may get the same ids for new rows
