"""The one rounding rule for figures Rekam shows (api/rounding.py), on its boundaries.

The expected digits are written by hand from the rule's meaning (half up on the exact value, one
decimal), not computed with the code under test.
"""

from fractions import Fraction

import pytest

from api.rounding import half_up, percent


@pytest.mark.parametrize(
    ("part", "whole", "shown"),
    [
        (8_705, 10_000, 87.1),  # exactly 87.05: a tie goes up (as a float, 87.05 is 87.0499…)
        (870_499, 1_000_000, 87.0),  # 87.0499: stays down
        (870_500, 1_000_000, 87.1),
        (1, 2_000, 0.1),  # 0.05
        (1, 2_001, 0.0),  # 0.04997…
        (0, 760_097, 0.0),
        (760_097, 760_097, 100.0),
        (999, 1_000, 99.9),
        (761_000, 760_097, 100.1),  # above the target: not capped
        (3, 2, 150.0),
        (1, 3, 33.3),
        (2, 3, 66.7),
    ],
)
def test_percent_rounds_half_up_on_the_exact_value(part: int, whole: int, shown: float) -> None:
    assert percent(part, whole) == shown


def test_no_percentage_without_a_whole() -> None:
    assert percent(5, 0) is None and percent(5, None) is None


@pytest.mark.parametrize(
    ("numerator", "denominator", "shown"),
    [(29_473, 7, 4_210.4), (45, 100, 0.5), (44, 100, 0.4), (-1, 20, -0.1), (Fraction(1, 20), 1, 0.1), (12.25, 1, 12.3), (0, 5, 0.0)],
)
def test_half_up_to_one_decimal(numerator: int | float | Fraction, denominator: int, shown: float) -> None:
    assert half_up(numerator, denominator) == shown


def test_integers_round_as_the_exact_fraction_does() -> None:
    """Integer inputs take a shortcut in integers; it must agree with the rule on exact fractions."""

    def by_fraction(numerator: int, denominator: int) -> float:
        exact = Fraction(numerator) / denominator * 10
        units = (2 * abs(exact.numerator) + exact.denominator) // (2 * exact.denominator)
        return (units if exact >= 0 else -units) / 10

    for numerator in [*range(-300, 301), 8_705, 870_499, 870_500, 760_097 * 100, 10**15 + 5]:
        for denominator in (1, 2, 3, 7, 20, 200, 2_000, 2_001, 10_000, 760_097):
            assert half_up(numerator, denominator) == by_fraction(numerator, denominator), (numerator, denominator)
