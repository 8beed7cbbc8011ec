"""How Rekam rounds every figure it shows: one rule, here.

Figures leave the API at the precision they are shown (one decimal), rounded half away from zero
on the exact value, so that a resident's page, a CSV export and a third-party integration show
the same digits. The frontend formats these values as they are and never rounds them again: a
float such as 87.05 is 87.0499… in binary, so a second rounding can move the last digit.
"""

from fractions import Fraction

SHOWN_PLACES = 1
_SCALE = 10**SHOWN_PLACES


def half_up(numerator: int | float | Fraction, denominator: int = 1) -> float:
    """`numerator / denominator` rounded half up to the shown precision, on the exact value
    (integer inputs never pass through binary floating point before the rounding)."""
    if type(numerator) is int and denominator > 0:
        # The same rule in integers (no Fraction: progress rounds twice per area of a tree):
        # floor(|n| * 10 / d + 1/2), with the sign of n.
        units = (2 * _SCALE * abs(numerator) + denominator) // (2 * denominator)
        return (units if numerator >= 0 else -units) / _SCALE
    exact = Fraction(numerator) / denominator * _SCALE
    units = (2 * abs(exact.numerator) + exact.denominator) // (2 * exact.denominator)
    return (units if exact >= 0 else -units) / _SCALE


def percent(part: int, whole: int | None) -> float | None:
    """`part` as a percentage of `whole` at the shown precision; None without a whole."""
    if not whole:
        return None
    return half_up(part * 100, whole)
