"""Forecast rules at their boundaries (pure functions; the days are fixed, never today's).

2026-12-07 is a Monday; 2026-12-12 a Saturday, 2026-12-13 a Sunday.
"""

from datetime import date, timedelta
from fractions import Fraction
from types import SimpleNamespace

import pytest

from api import calendar
from api.campaigns import forecast, targets

MON, TUE, WED, THU, FRI, SAT, SUN = (date(2026, 12, 7) + timedelta(days=i) for i in range(7))
NEXT_MON = MON + timedelta(days=7)


@pytest.mark.parametrize(
    ("first", "last", "weekdays_only", "all_days"),
    [
        (FRI, FRI, 1, 1),  # kills `timedelta(days=i)` -> `i + 1` (would look at Saturday)
        (FRI, SAT, 1, 2),  # kills `weekday() < 5` -> `<= 5` (Saturday counted)
        (SAT, SUN, 0, 2),
        (SAT, SAT, 0, 1),
        (SUN, NEXT_MON, 1, 2),
        (MON, SUN, 5, 7),  # one whole week
        (WED, NEXT_MON + timedelta(days=2), 6, 8),  # Wed..Wed: partial week at both ends
        (THU, NEXT_MON + timedelta(days=5), 7, 10),  # Thu..Sat next week
        (FRI, FRI, 1, 1),
        (FRI, THU, 0, 0),  # last before first
        (MON, MON - timedelta(days=1), 0, 0),
    ],
)
def test_service_days_over_partial_weeks(first: date, last: date, weekdays_only: int, all_days: int) -> None:
    assert calendar.service_days(first, last, weekends=False) == weekdays_only
    assert calendar.service_days(first, last, weekends=True) == all_days


def test_service_days_agree_with_counting_day_by_day() -> None:
    for start in range(7):
        for length in range(0, 16):
            first = MON + timedelta(days=start)
            last = first + timedelta(days=length - 1)
            days = [first + timedelta(days=i) for i in range(length)]
            assert calendar.service_days(first, last, weekends=False) == sum(d.weekday() < 5 for d in days), (first, last)


def test_nth_service_day_skips_weekends_when_closed() -> None:
    for start in range(7):
        first = MON + timedelta(days=start)
        open_days = [d for d in (first + timedelta(days=i) for i in range(30)) if d.weekday() < 5]
        for n in range(1, 16):
            assert calendar.nth_service_day(first, n, weekends=False) == open_days[n - 1], (first, n)
            assert calendar.nth_service_day(first, n, weekends=True) == first + timedelta(days=n - 1)
    assert calendar.nth_service_day(date.max - timedelta(days=1), 10, weekends=True) is None


def test_nth_service_day_counts_from_one_up_to_a_century() -> None:
    with pytest.raises(ValueError):
        calendar.nth_service_day(MON, 0, weekends=True)  # there is no 0th day
    last = calendar.MAX_DAYS_AHEAD
    assert calendar.nth_service_day(MON, last, weekends=True) == MON + timedelta(days=last - 1)
    assert calendar.nth_service_day(MON, last + 1, weekends=True) is None


def test_no_service_days_in_an_empty_or_reversed_range() -> None:
    # `days <= 0` -> `< 0` (and 0 -> -1) survive mutation: an empty range already counts 0 below.
    assert calendar.service_days(MON, MON - timedelta(days=1), weekends=False) == 0
    assert calendar.service_days(MON, MON - timedelta(days=9), weekends=True) == 0


def _node(remaining: int | None, *, today: date, deadline: date, last_7: int, weekends: bool) -> dict:
    campaign = SimpleNamespace(deadline=deadline, opens_weekends=weekends)
    window = calendar.service_days(today - timedelta(days=7), today - timedelta(days=1), weekends=weekends)
    days_left = calendar.service_days(today + timedelta(days=1), deadline, weekends=weekends)
    fields = {"remaining": remaining}
    forecast.forecast(fields, campaign=campaign, today=today, last_7=last_7, window_days=window, days_left=days_left)
    return fields


def test_finishing_on_the_deadline_day_is_on_track() -> None:
    # Weekdays only, today Monday: the window (Mon..Sun before) holds 5 service days; 50 in it is
    # 10 a day. 40 remaining takes 4 service days: Tue, Wed, Thu, Fri.
    on_deadline = _node(40, today=MON, deadline=FRI, last_7=50, weekends=False)
    assert on_deadline["projected_completion_date"] == FRI and on_deadline["on_track"] is True  # kills `<=` -> `<`
    # One more resident takes a 5th service day: Monday after the weekend, past the deadline.
    late = _node(41, today=MON, deadline=FRI, last_7=50, weekends=False)
    assert late["projected_completion_date"] == NEXT_MON and late["on_track"] is False
    assert late["required_per_day"] == 11  # ceil(41 / 4 service days left)
    assert on_deadline["required_per_day"] == 10


def test_weekday_rate_divides_by_five_service_days() -> None:
    node = _node(100, today=MON, deadline=NEXT_MON + timedelta(days=4), last_7=52, weekends=False)
    assert node["rate_7d"] == 10.4  # 52 / 5, not 52 / 7 (kills the divisor)
    assert node["service_days_left"] == 9  # Tue..Fri, Mon..Fri
    # ceil(100 / 10.4) = 10 service days from Tuesday: Tue..Fri (4), Mon..Fri (5), next Mon.
    assert node["projected_completion_date"] == NEXT_MON + timedelta(days=7)
    assert node["on_track"] is False
    every_day = _node(100, today=MON, deadline=SUN, last_7=52, weekends=True)
    assert every_day["rate_7d"] == 7.4  # 52 / 7, rounded for display
    # ceil(100 * 7 / 52) = 14 days from Tuesday.
    assert every_day["projected_completion_date"] == TUE + timedelta(days=13)


def test_no_recordings_in_seven_days_is_never_on_track() -> None:
    # A stalled area: no rate, no projection, not on track (however far the deadline).
    stalled = _node(10, today=MON, deadline=MON + timedelta(days=300), last_7=0, weekends=True)
    assert stalled["rate_7d"] == 0.0 and stalled["projected_completion_date"] is None and stalled["on_track"] is False
    assert stalled["required_per_day"] == 1


def test_nothing_remaining_is_done_today_whatever_the_rate() -> None:
    done = _node(0, today=MON, deadline=MON, last_7=0, weekends=False)
    assert (done["required_per_day"], done["projected_completion_date"], done["on_track"]) == (0, MON, True)
    assert done["service_days_left"] == 0


def test_after_the_deadline_something_remaining_has_no_daily_requirement() -> None:
    late = _node(5, today=SAT, deadline=FRI, last_7=35, weekends=True)
    assert late["service_days_left"] == 0 and late["required_per_day"] is None and late["on_track"] is False
    assert late["projected_completion_date"] == SUN  # 5 a day: one day from tomorrow


def test_without_a_target_there_is_no_forecast() -> None:
    node = _node(None, today=MON, deadline=FRI, last_7=10, weekends=False)
    assert node["required_per_day"] is node["projected_completion_date"] is node["on_track"] is None
    assert node["recorded_last_7_days"] == 10 and node["rate_7d"] == 2.0


def test_largest_remainder_boundaries() -> None:
    assert targets.largest_remainder(10, [0, 1]) == [0, 10]  # a zero weight is allowed and gets nothing
    assert targets.largest_remainder(10, [1, 1, 1]) == [4, 3, 3]  # ties go to the earlier position
    assert targets.largest_remainder(7, [Fraction(1, 3), Fraction(2, 3)]) == [2, 5]  # 2.33, 4.67
    assert targets.largest_remainder(0, [1, 2]) == [0, 0]
    assert targets.largest_remainder(5, []) == []
    with pytest.raises(ValueError, match="negative"):
        targets.largest_remainder(10, [-1, 2])  # a negative weight is refused, even if the sum is positive
    with pytest.raises(ValueError, match="zero"):
        targets.largest_remainder(10, [0, 0])


def test_the_units_left_over_go_to_the_largest_fractions_not_the_largest_shares() -> None:
    # quotas 2.4, 0.8, 0.8: floors 2, 0, 0 and two units left, for the two fractions of 0.8.
    assert targets.largest_remainder(4, [3, 1, 1]) == [2, 1, 1]
