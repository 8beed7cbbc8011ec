"""The campaign's calendar: today, service days and opening hours, in one time zone.

Rules
- Every date Rekam stores or shows is a local calendar date in the campaign's time zone, never a
  UTC date: a recording at 06:30 WIB on the 2nd belongs to the 2nd, though it is still the 1st in
  UTC. Moments are stored in UTC and turned into local dates here only.
- The time zone comes from one place: `REKAM_TIMEZONE` (Settings.timezone, Asia/Jakarta by
  default). A campaign keeps its own zone (Campaign.timezone, defaulting to that setting) so a
  national deployment can run a campaign in WITA or WIT; its dates use `today(campaign.timezone)`.
- Service days: with `weekends` every day is one; without, Monday to Friday are. Counts and the
  n-th day always include the first day given (`service_days(first, last)` counts both ends).
- Opening hours are `[[start, end], ...]` in local "HH:MM": open from `start` (included) until
  `end` (excluded), so an office open "08:00"–"15:00" takes its last walk-in at 14:59.
"""

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from api.config import get_settings

# Beyond a century "never" is the honest answer for a projection.
MAX_DAYS_AHEAD = 36_500


@lru_cache(maxsize=32)
def _zone_named(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone(name: str | None = None) -> ZoneInfo:
    """The named zone, or the deployment's (REKAM_TIMEZONE)."""
    return _zone_named(name or get_settings().timezone)


def now_utc() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """A stored moment with its zone: SQLite hands datetimes back naive; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local_date(moment: datetime, zone_name: str | None = None) -> date:
    return aware(moment).astimezone(zone(zone_name)).date()


def today(zone_name: str | None = None) -> date:
    """Today's local date in the zone (the deployment's by default)."""
    return local_date(now_utc(), zone_name)


def local_moment(day: date, hhmm: str, zone_name: str | None = None) -> datetime:
    """The UTC moment of a local "HH:MM" on `day`."""
    return datetime.combine(day, time(*map(int, hhmm.split(":"))), tzinfo=zone(zone_name))  # type: ignore[arg-type]  # mypy matches *args against every parameter, tzinfo too: the parts are hour, minute.astimezone(UTC)


def minutes_of(hhmm: str) -> int:
    """Minutes since midnight of a local "HH:MM"."""
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def hhmm_of(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def local_hhmm(moment: datetime, zone_name: str | None = None) -> str:
    return aware(moment).astimezone(zone(zone_name)).strftime("%H:%M")


def is_open_at(hours: list[list[str]], moment: datetime, zone_name: str | None = None) -> bool:
    """Whether `moment` falls in one of the local opening windows (start included, end not)."""
    hhmm = local_hhmm(moment, zone_name)
    return any(start <= hhmm < end for start, end in hours)


def is_service_day(day: date, *, weekends: bool) -> bool:
    return weekends or day.weekday() < 5


def service_days(first: date, last: date, *, weekends: bool) -> int:
    """Service days from `first` to `last`, both included (0 when `last` is before `first`)."""
    days = (last - first).days + 1
    if days <= 0:
        return 0
    if weekends:
        return days
    weeks, rest = divmod(days, 7)
    return weeks * 5 + sum(1 for i in range(rest) if (first + timedelta(days=i)).weekday() < 5)


def nth_service_day(first: date, n: int, *, weekends: bool) -> date | None:
    """The n-th (1-based) service day counting from `first` itself; None beyond the calendar."""
    if n < 1:
        raise ValueError("n counts from 1")
    if n > MAX_DAYS_AHEAD:
        return None
    try:
        if weekends:
            return first + timedelta(days=n - 1)
        while first.weekday() >= 5:
            first += timedelta(days=1)
        # Any 7 consecutive days hold 5 weekdays: jump whole weeks, then walk the rest.
        weeks, rest = divmod(n - 1, 5)
        day = first + timedelta(weeks=weeks)
        while rest:
            day += timedelta(days=1)
            if day.weekday() < 5:
                rest -= 1
        return day
    except OverflowError:
        return None
