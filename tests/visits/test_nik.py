"""Boundaries of the NIK's birth date and of the phone number (pure functions, no database).

Each test is written against the rule in `api/visits/service.py`'s docstring: digits 7-12 are
DDMMYY with 40 added to a woman's day; the century is the latest that does not put the birth
after the day of the request; a mobile number is 10 to 13 digits in its 08 form.
"""

from datetime import date

import pytest

from api.visits import service

ON = date(2026, 6, 15)


def nik(ddmmyy: str) -> str:
    return "367401" + ddmmyy + "0001"


@pytest.mark.parametrize(
    ("ddmmyy", "born"),
    [
        ("410190", date(1990, 1, 1)),  # a woman born on the 1st: 1 + 40
        ("710190", date(1990, 1, 31)),  # a woman born on the 31st: 31 + 40
        ("690290", None),  # 29 Feb 1990 does not exist, for her either
        ("690296", date(1996, 2, 29)),  # a woman born on a leap day
        ("010190", date(1990, 1, 1)),  # a man born on the 1st
        ("310190", date(1990, 1, 31)),  # a man born on the 31st
    ],
)
def test_womens_day_is_the_day_plus_forty(ddmmyy: str, born: date | None) -> None:
    # Kills `day > 40` -> `day > 41` (41 would be read as day 41: not a date).
    assert service.birth_date_of_nik(nik(ddmmyy), on=ON) == born


@pytest.mark.parametrize("day", ["00", "32", "40", "72", "80", "81", "85", "99"])
def test_days_that_are_no_ones_birthday(day: str) -> None:
    # 32..40 fit neither men (1-31) nor women (41-71); 72 and above fit nobody. 81 - 40 = 41 is
    # not a day: kills `day -= 40` -> `day %= 40` (81 % 40 = 1 would be a date).
    # `day > 40` -> `day >= 40` is equivalent: day 40 gives day 40 (no month has it) or day 0
    # (not a day either), so no NIK can tell the two apart; `day > 40` -> `day > 39` likewise: only
    # day 40 is read differently (0 instead of 40), and neither is a day.
    assert service.birth_date_of_nik(nik(day + "0190"), on=ON) is None


def test_born_on_the_day_of_the_request_is_this_century() -> None:
    # Kills `born <= on` -> `born < on` (which would fall back to 1926 for someone born today).
    assert service.birth_date_of_nik(nik("150626"), on=ON) == date(2026, 6, 15)
    assert service.birth_date_of_nik(nik("550626"), on=ON) == date(2026, 6, 15)
    # The day after the request is still ahead this century: the previous one it is.
    assert service.birth_date_of_nik(nik("160626"), on=ON) == date(1926, 6, 16)
    assert service.birth_date_of_nik(nik("140626"), on=ON) == date(2026, 6, 14)


def test_a_year_that_fits_only_the_previous_century() -> None:
    # 29 Feb 2000 and 1900: 1900 was no leap year, so a 2000 birth date on ON is the only one.
    assert service.birth_date_of_nik(nik("290200"), on=ON) == date(2000, 2, 29)
    assert service.birth_date_of_nik(nik("290200"), on=date(1999, 1, 1)) is None


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("0812345678", "+62812345678"),  # 10 digits in the 08 form: the shortest allowed
        ("0812345678901", "+62812345678901"),  # 13 digits: the longest allowed
        ("0856 6212 3456", "+6285662123456"),  # contains "62" but starts with 0
        ("0811 6262 6262", "+6281162626262"),
        ("+62 856 6212 3456", "+6285662123456"),
        ("62 856 6212 3456", "+6285662123456"),
    ],
)
def test_phone_length_boundaries_and_prefixes(raw: str, stored: str) -> None:
    # Kills `startswith(prefix)` -> `prefix in number` ("0856 6212 3456" would lose its "62").
    assert service.normalize_phone(raw) == stored


@pytest.mark.parametrize("raw", ["081234567", "+6281234567", "08123456789012", "+628123456789012"])
def test_phone_one_digit_too_short_or_too_long(raw: str) -> None:
    # 9 digits in the 08 form: kills `{8,11}` -> `{7,11}`; 14 digits: kills `{8,11}` -> `{8,12}`.
    assert service.normalize_phone(raw) is None


def test_the_nik_names_its_kecamatan() -> None:
    assert service.kecamatan_of_nik("3674061705800001") == "36.74.06"


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(2009, 6, 15), date(2026, 6, 14), 16),  # the day before the 17th birthday
        (date(2009, 6, 15), date(2026, 6, 15), 17),  # the birthday itself
        (date(2009, 6, 15), date(2026, 6, 16), 17),
        (date(2009, 6, 15), date(2026, 5, 16), 16),  # an earlier month, a later day
        (date(2009, 6, 15), date(2026, 7, 14), 17),  # a later month, an earlier day
    ],
)
def test_age_boundaries(born: date, on: date, age: int) -> None:
    assert service.age_on(born, on) == age
