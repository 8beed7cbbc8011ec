"""Properties of the arithmetic rules (hypothesis)."""

from hypothesis import given
from hypothesis import strategies as st

from api.campaigns.service import largest_remainder

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
