"""Public statistics about fee complaints: accountability without pointing at anyone.

Rules
- They count complaints by kecamatan, current status and month of receipt; counts of
  1 or 2 are shown as "<3", and the median days to first reply and the share substantiated are
  left out (null) when fewer than 3 complaints stand behind them. So that "<3" and 0 cannot be
  told apart by asking for one small place on one day (or by differencing two overlapping
  periods), the public asks for a kecamatan or a larger area only, and its period is widened to
  whole calendar months (the answer says which). Complaint handlers and admins get any area and
  any days.
"""

import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api import rounding
from api.area_codes import depth_of, in_subtree
from api.areas import service as areas
from api.areas.models import Area
from api.complaints.models import Complaint, ComplaintStatus, Finding
from api.complaints.schemas import (
    ComplaintStats,
    CountByArea,
    CountByMonth,
    CountByStatus,
)
from api.errors import RuleViolation
from api.principal import Principal
from api.types import Role

KECAMATAN_CODE_LENGTH = len("36.74.01")
SMALL_COUNT = 3  # below this, a count could single out a report


def small(count: int) -> int | str:
    return "<3" if 0 < count < SMALL_COUNT else count


PUBLIC_STATS_MAX_DEPTH = depth_of("36.74.01")  # a kecamatan


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def sees_detailed_stats(principal: Principal) -> bool:
    return principal.role in (Role.admin, Role.handler)


async def stats(session: AsyncSession, *, area: str | None, period_from: date | None, period_to: date | None, detailed: bool = False) -> ComplaintStats:
    """Counts of complaints; public (not `detailed`): kecamatan or larger, whole months."""
    if period_from and period_to and period_from > period_to:
        raise RuleViolation.on_field("from", location="query", code="range.reversed")
    if area is not None:
        await areas.get(session, code=area, field="area", location="query")
        if not detailed and depth_of(area) > PUBLIC_STATS_MAX_DEPTH:
            raise RuleViolation.on_field("area", location="query", code="complaint.stats_level")
    if not detailed:
        period_from = _month_start(period_from) if period_from else None
        period_to = _month_end(period_to) if period_to else None
    filters = []
    if area is not None:
        filters.append(in_subtree(Complaint.area_code, area))
    if period_from is not None:
        filters.append(Complaint.received_on >= period_from)
    if period_to is not None:
        filters.append(Complaint.received_on <= period_to)
    kecamatan = func.substr(Complaint.area_code, 1, KECAMATAN_CODE_LENGTH)
    groups = (
        await session.execute(
            select(kecamatan, Complaint.status, Complaint.finding, Complaint.received_on, func.count())
            .where(*filters)
            .group_by(kecamatan, Complaint.status, Complaint.finding, Complaint.received_on)
        )
    ).all()
    by_kecamatan: dict[str, int] = defaultdict(int)
    by_status: dict[str, int] = defaultdict(int)
    by_month: dict[str, int] = defaultdict(int)
    by_finding: dict[str, int] = defaultdict(int)
    for code, status, finding, received_on, count in groups:
        by_kecamatan[code] += count
        by_status[status] += count
        by_month[received_on.strftime("%Y-%m")] += count
        if finding:
            by_finding[finding] += count
    names = dict((await session.execute(select(Area.code, Area.name).where(Area.code.in_(list(by_kecamatan))))).all()) if by_kecamatan else {}
    waits = [
        (cast(datetime, responded) - received).total_seconds() / 86400  # only rows with a response are selected
        for received, responded in (
            await session.execute(select(Complaint.received_at, Complaint.first_response_at).where(*filters, Complaint.first_response_at.is_not(None)))
        ).all()
    ]
    decided = sum(by_finding.values())
    return ComplaintStats(
        area=area,
        period_from=period_from,
        period_to=period_to,
        total=small(sum(by_status.values())),
        by_kecamatan=[CountByArea(area=code, name=names.get(code, code), count=small(n)) for code, n in sorted(by_kecamatan.items())],
        by_status=[CountByStatus(status=s, count=small(by_status.get(s.value, 0))) for s in ComplaintStatus],
        by_month=[CountByMonth(month=month, count=small(n)) for month, n in sorted(by_month.items())],
        median_days_to_first_response=rounding.half_up(statistics.median(waits)) if len(waits) >= SMALL_COUNT else None,
        share_substantiated=round(by_finding[Finding.substantiated.value] / decided, 3) if decided >= SMALL_COUNT else None,
    )
