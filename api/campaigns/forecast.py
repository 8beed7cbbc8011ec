"""The forecast of one progress node.

Forecast (per progress node; "today" is the campaign's, Asia/Jakarta)
- Service days are the days recording is open: every day when the campaign opens on weekends,
  otherwise Monday to Friday.
- `recorded_last_7_days`: tallies of the area's subtree on the 7 days that ended yesterday (today's
  figures are still coming in). `rate_7d`: that sum divided by the service days among those 7
  days (7, or 5 on weekdays only), rounded to 0.1 for display (forecasts use the exact value).
- `service_days_left`: service days from tomorrow to the deadline, both included (0 after it).
- `required_per_day`: remaining / service_days_left rounded up; 0 when nothing remains, null when
  something remains and no service day is left.
- `projected_completion_date`: with nothing remaining, today; else the date of the
  ceil(remaining / rate)-th service day from tomorrow at the exact rate; null when the rate is 0
  or when that day lies more than api.calendar.MAX_DAYS_AHEAD days ahead (a century: "never").
- `on_track`: nothing remains, or the projected date is on or before the deadline (null without
  a target).
- Service days and the n-th service day are api.calendar's (both ends included).
"""

import math
from datetime import date, timedelta

from api import calendar, rounding
from api.campaigns.models import Campaign


def forecast(fields: dict, *, campaign: Campaign, today: date, last_7: int, window_days: int, days_left: int) -> None:
    """Fill the forecast fields of one progress node (`fields` has `remaining`)."""
    fields["recorded_last_7_days"] = last_7
    fields["rate_7d"] = rounding.half_up(last_7, window_days) if window_days else 0.0
    fields["service_days_left"] = days_left
    remaining = fields["remaining"]
    projected = None
    if remaining is None:
        fields["required_per_day"] = fields["projected_completion_date"] = fields["on_track"] = None
        return
    if remaining == 0:
        fields["required_per_day"], fields["projected_completion_date"], fields["on_track"] = 0, today, True
        return
    fields["required_per_day"] = math.ceil(remaining / days_left) if days_left else None
    if last_7 and window_days:
        needed = -(-remaining * window_days // last_7)  # ceil(remaining / exact rate)
        projected = calendar.nth_service_day(today + timedelta(days=1), needed, weekends=campaign.opens_weekends)
    fields["projected_completion_date"] = projected
    fields["on_track"] = projected is not None and projected <= campaign.deadline
