"""Campaigns: the target, how it is shared out over areas, reported snapshots, and progress.

Rules
- A campaign has a root area, a start date, a deadline and a target (residents who must be
  recorded). The root's target is the campaign's target, marked `official`.
- Targets below the root are entered (`official`) or apportioned from a parent by the largest-
  remainder method (`apportioned`), so that apportioned children always sum exactly to the parent.
  A hand-entered child that breaks its parent's sum is reported, never corrected silently.
- A snapshot is a cumulative figure reported for an area as of a date. Progress of an area is
  its highest reported snapshot plus the daily tallies in its subtree dated after it; where an area
  has no snapshot of its own, the figures of its descendants add up (see `_recorded`).
- A parent snapshot that differs from the sum of its children's at the same date is a
  discrepancy: shown, never fixed. So is an area's own daily tally that differs from the sum of
  its children's tallies of the same day (daily totals posted at two levels; the parent's counts).
- Progress is read from the tallies' daily rollups, never from raw tallies.

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
  ceil(remaining / rate)-th service day from tomorrow at the exact rate; null when the rate is 0.
- `on_track`: nothing remains, or the projected date is on or before the deadline (null without
  a target).
"""

import csv
import io
import json
import math
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from fractions import Fraction
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, String, column, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from api.areas import service as areas
from api.areas.models import LEVELS, Area, AreaLevel
from api.audit import service as audit
from api.auth.policy import Principal, ensure_area
from api import rounding
from api.caching import BodyCache
from api.campaigns import versions
from api.campaigns.models import Campaign, Snapshot, Target, TargetSource
from api.campaigns.schemas import (
    MAX_COUNT,
    ApportionMethod,
    ApportionRequest,
    CampaignCreate,
    DailyPoint,
    DailySeries,
    Discrepancy,
    ProgressNode,
    SnapshotCreate,
    TargetIn,
    TargetInconsistency,
)
from api.db import upsert_statement
from api.errors import Forbidden, NotFound, RuleViolation
from api.pagination import PageParams, paginate
from api.tallies import service as tallies

CAMPAIGN_FIELDS = ["id", "name", "root_area_code", "start_date", "deadline", "target", "opens_weekends"]


def today_for(campaign: Campaign) -> date:
    """Today in the campaign's time zone (Asia/Jakarta): dates are local, never UTC."""
    return datetime.now(ZoneInfo(campaign.timezone)).date()


async def create_campaign(session: AsyncSession, *, data: CampaignCreate, actor: Principal, is_demo: bool = False) -> Campaign:
    await areas.get(session, code=data.root_area, field="root_area", location="body")
    ensure_area(actor, data.root_area, field="root_area")
    campaign = Campaign(
        name=data.name,
        description=data.description,
        root_area_code=data.root_area,
        start_date=data.start_date,
        deadline=data.deadline,
        target=data.target,
        opens_weekends=data.opens_weekends,
        is_demo=is_demo,
        data_version=versions.new_version(),
        history_version=versions.new_version(),
    )
    session.add(campaign)
    await session.flush()
    session.add(Target(campaign_id=campaign.id, area_code=data.root_area, target=data.target, source=TargetSource.official.value))
    await session.flush()
    await audit.record(session, actor=actor, action="campaign.create", entity="campaign", entity_id=campaign.id, after=audit.snapshot_of(campaign, CAMPAIGN_FIELDS))
    return campaign


async def get_campaign(session: AsyncSession, *, campaign_id: int) -> Campaign:
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"There is no campaign {campaign_id}.")
    return campaign


async def list_campaigns(session: AsyncSession, *, page: PageParams) -> tuple[list[Campaign], str | None]:
    return await paginate(session, select(Campaign), keys=[Campaign.id], page=page)


async def require_area_in_campaign(
    session: AsyncSession, campaign: Campaign, code: str, *, field: str = "area", location: str = "body", row: int | None = None
) -> Area:
    """The area, which must exist and lie inside the campaign's root area."""
    area = await areas.get(session, code=code, field=field, location=location)
    if not areas.is_within(code, campaign.root_area_code):
        item = {"location": location, "field": field, "message": f"outside the campaign's area {campaign.root_area_code}"}
        if row is not None:
            item["row"] = row
        raise RuleViolation(f"Area {code} is outside the campaign's area {campaign.root_area_code}.", errors=[item])
    return area


# --- targets -------------------------------------------------------------------------------


def largest_remainder(total: int, weights: list[Fraction | int | float]) -> list[int]:
    """Integer shares of `total` proportional to `weights` that sum exactly to `total`.

    Each share gets its quota's floor; the units left over go to the largest fractional parts,
    ties to the earlier position, so the result is deterministic. Exact fractions avoid float drift.
    """
    exact = [Fraction(w) for w in weights]
    if any(w < 0 for w in exact):
        raise ValueError("weights must not be negative")
    weight_sum = sum(exact)
    if not exact:
        return []
    if weight_sum == 0:
        raise ValueError("weights must not all be zero")
    quotas = [total * w / weight_sum for w in exact]
    shares = [q.numerator // q.denominator for q in quotas]
    left = total - sum(shares)
    order = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - shares[i]), i))
    for i in order[:left]:
        shares[i] += 1
    return shares


def parse_targets_csv(text: str) -> list[TargetIn]:
    """`area,target` rows (comma or semicolon, optional BOM); row numbers count the header as 1."""
    text = text.lstrip("\ufeff")
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "area" not in header or "target" not in header:
        raise RuleViolation("The CSV needs a header row with the columns area and target.", errors=[{"row": 1, "field": None, "message": "missing area,target header"}])
    reader.fieldnames = header
    items, errors = [], []
    for number, record in enumerate(reader, start=2):
        area, raw = (record.get("area") or "").strip(), (record.get("target") or "").strip().replace(".", "")
        if not raw.isdigit() or int(raw) > MAX_COUNT:
            errors.append({"row": number, "field": "target", "message": "must be a whole number from 0"})
            continue
        items.append(TargetIn(area=area, target=int(raw)))
    if errors:
        raise RuleViolation(f"{len(errors)} row(s) of the CSV are not valid.", errors=errors)
    if not items:
        raise RuleViolation("The CSV has no rows.", errors=[{"row": 2, "field": None, "message": "no rows"}])
    return items


async def put_targets(session: AsyncSession, *, campaign: Campaign, items: list[TargetIn], actor: Principal) -> list[Target]:
    """Enter official targets; nothing is written unless every row is valid and in the caller's scope."""
    errors, outside = [], []
    seen: set[str] = set()
    for row, item in enumerate(items, start=1):
        if item.area in seen:
            errors.append({"row": row, "field": "area", "message": f"{item.area} appears twice"})
        seen.add(item.area)
        level = areas.level_of(item.area)
        if level is None:
            errors.append({"row": row, "field": "area", "message": "not an area code"})
        elif not areas.is_within(item.area, campaign.root_area_code):
            errors.append({"row": row, "field": "area", "message": f"outside the campaign's area {campaign.root_area_code}"})
        elif not actor.covers_area(item.area):
            outside.append({"row": row, "field": "area", "message": "outside your scope"})
    if outside:
        # Out of scope is 403 like everywhere else, however many other rows are fine.
        raise Forbidden(f"{len(outside)} target row(s) are outside your scope; nothing was saved.", errors=outside)
    known = set((await session.scalars(select(Area.code).where(Area.code.in_(seen)))).all())
    rejected = {e["row"] for e in errors}
    for row, item in enumerate(items, start=1):
        if row not in rejected and item.area not in known:
            errors.append({"row": row, "field": "area", "message": f"unknown area {item.area}"})
    if errors:
        errors.sort(key=lambda e: e["row"])
        raise RuleViolation(f"{len(errors)} target row(s) are not valid; nothing was saved.", errors=errors)
    existing = {t.area_code: t for t in (await session.scalars(select(Target).where(Target.campaign_id == campaign.id, Target.area_code.in_(seen)))).all()}
    saved = []
    for item in items:
        target = existing.get(item.area)
        before = audit.snapshot_of(target, ["area_code", "target", "source"]) if target else None
        if target is None:
            target = Target(campaign_id=campaign.id, area_code=item.area, target=item.target, source=TargetSource.official.value)
            session.add(target)
        elif target.target == item.target and target.source == TargetSource.official.value:
            saved.append(target)
            continue
        else:
            target.target, target.source, target.basis = item.target, TargetSource.official.value, None
        if item.area == campaign.root_area_code:
            campaign.target = item.target
        await session.flush()
        await audit.record(session, actor=actor, action="target.set", entity="target", entity_id=f"{campaign.id}:{item.area}", before=before, after=audit.snapshot_of(target, ["area_code", "target", "source"]))
        saved.append(target)
    await versions.touch(session, campaign.id)
    return saved


async def get_targets(session: AsyncSession, *, campaign: Campaign, area: str | None = None) -> tuple[list[Target], list[TargetInconsistency]]:
    stmt = select(Target).where(Target.campaign_id == campaign.id)
    if area:
        areas.require_code(area, location="query")
        stmt = stmt.where(areas.in_subtree(Target.area_code, area))
    targets = list((await session.scalars(stmt.order_by(Target.area_code))).all())
    by_code = {t.area_code: t for t in targets}
    sums: dict[str, int] = defaultdict(int)
    for t in targets:
        parent = areas.parent_of(t.area_code)
        if parent in by_code:
            sums[parent] += t.target
    inconsistencies = [
        TargetInconsistency(area=code, target=by_code[code].target, children_sum=total, difference=by_code[code].target - total)
        for code, total in sorted(sums.items())
        if total != by_code[code].target
    ]
    return targets, inconsistencies


async def apportion(session: AsyncSession, *, campaign: Campaign, request: ApportionRequest, actor: Principal) -> list[Target]:
    """Share a parent's target among its descendants at one level by the largest-remainder method."""
    parent = await require_area_in_campaign(session, campaign, request.parent, field="parent")
    ensure_area(actor, parent.code, field="parent")
    if LEVELS.index(request.level) <= LEVELS.index(AreaLevel(parent.level)):
        raise RuleViolation.on_field("level", f"{request.level.value} is not below the parent's level ({parent.level}).")
    parent_target = await session.scalar(select(Target).where(Target.campaign_id == campaign.id, Target.area_code == parent.code))
    if parent_target is None:
        raise RuleViolation.on_field("parent", f"Area {parent.code} has no target to apportion; set it first.")
    children = list(
        (await session.scalars(select(Area).where(areas.in_subtree(Area.code, parent.code), Area.level == request.level.value).order_by(Area.code))).all()
    )
    if not children:
        raise RuleViolation.on_field("level", f"Area {parent.code} has no {request.level.value} below it.")
    codes = [c.code for c in children]
    if request.method == ApportionMethod.equal:
        weights: list[Fraction | int | float] = [1] * len(children)
        basis = request.basis or "equal shares"
    elif request.method == ApportionMethod.population:
        missing = [c.code for c in children if c.population is None]
        if missing:
            raise RuleViolation.on_field("method", f"No population is known for {', '.join(missing[:5])}; give weights instead.")
        weights = [c.population or 0 for c in children]
        basis = request.basis or "area population"
    else:
        given = request.weights or {}
        errors = [{"location": "body", "field": f"weights.{code}", "message": "missing weight"} for code in codes if code not in given]
        errors += [{"location": "body", "field": f"weights.{code}", "message": f"not a {request.level.value} below {parent.code}"} for code in given if code not in codes]
        errors += [{"location": "body", "field": f"weights.{code}", "message": "must be a finite number from 0"} for code, w in given.items() if not (w >= 0 and w != float("inf"))]
        if errors:
            raise RuleViolation("The weights must name every child once with a weight from 0.", errors=errors)
        weights = [Fraction(str(given[code])) for code in codes]
        if sum(weights) == 0:
            raise RuleViolation.on_field("weights", "At least one weight must be above zero.")
        basis = request.basis or "weights given by staff"
    shares = largest_remainder(parent_target.target, weights)
    existing = {t.area_code: t for t in (await session.scalars(select(Target).where(Target.campaign_id == campaign.id, Target.area_code.in_(codes)))).all()}
    result = []
    for code, share in zip(codes, shares, strict=True):
        target = existing.get(code)
        before = audit.snapshot_of(target, ["area_code", "target", "source", "basis"]) if target else None
        if target is None:
            target = Target(campaign_id=campaign.id, area_code=code)
            session.add(target)
        target.target, target.source, target.basis = share, TargetSource.apportioned.value, basis
        await session.flush()
        await audit.record(session, actor=actor, action="target.apportion", entity="target", entity_id=f"{campaign.id}:{code}", before=before, after=audit.snapshot_of(target, ["area_code", "target", "source", "basis"]))
        result.append(target)
    await versions.touch(session, campaign.id)
    return result


# --- snapshots -----------------------------------------------------------------------------


async def record_snapshot(session: AsyncSession, *, campaign: Campaign, data: SnapshotCreate, actor: Principal) -> tuple[Snapshot, bool]:
    """Record a cumulative figure; the same area and date again replaces it. Returns (snapshot, created)."""
    await require_area_in_campaign(session, campaign, data.area)
    ensure_area(actor, data.area)
    if data.as_of > today_for(campaign):
        raise RuleViolation.on_field("as_of", f"{data.as_of} is in the future; a snapshot reports what was already recorded.")
    snapshot = await session.scalar(select(Snapshot).where(Snapshot.campaign_id == campaign.id, Snapshot.area_code == data.area, Snapshot.as_of == data.as_of))
    before = audit.snapshot_of(snapshot, ["area_code", "as_of", "cumulative", "source"]) if snapshot else None
    created = snapshot is None
    if snapshot is None:
        snapshot = Snapshot(campaign_id=campaign.id, area_code=data.area, as_of=data.as_of, cumulative=data.cumulative, source=data.source)
        session.add(snapshot)
    else:
        snapshot.cumulative, snapshot.source = data.cumulative, data.source
    await session.flush()
    await audit.record(session, actor=actor, action="snapshot.create" if created else "snapshot.replace", entity="snapshot", entity_id=snapshot.id, before=before, after=audit.snapshot_of(snapshot, ["area_code", "as_of", "cumulative", "source"]))
    await versions.touch(session, campaign.id)
    return snapshot, created


async def list_snapshots(session: AsyncSession, *, campaign: Campaign, page: PageParams, area: str | None = None) -> tuple[list[Snapshot], str | None]:
    stmt = select(Snapshot).where(Snapshot.campaign_id == campaign.id)
    if area:
        areas.require_code(area, location="query")
        stmt = stmt.where(areas.in_subtree(Snapshot.area_code, area))
    return await paginate(session, stmt, keys=[Snapshot.id], page=page)


# --- progress ------------------------------------------------------------------------------


async def _latest_snapshots(session: AsyncSession, campaign: Campaign, root: str, until: date) -> dict[str, Snapshot]:
    latest = (
        select(Snapshot.area_code, func.max(Snapshot.as_of).label("as_of"))
        .where(Snapshot.campaign_id == campaign.id, Snapshot.as_of <= until, areas.in_subtree(Snapshot.area_code, root))
        .group_by(Snapshot.area_code)
        .subquery()
    )
    rows = await session.scalars(
        select(Snapshot).join(latest, (Snapshot.area_code == latest.c.area_code) & (Snapshot.as_of == latest.c.as_of)).where(Snapshot.campaign_id == campaign.id)
    )
    return {s.area_code: s for s in rows.all()}


async def _recorded(
    session: AsyncSession, campaign: Campaign, root: str, codes: list[str], totals: dict[str, tuple[int, date | None]] | None = None
) -> dict[str, tuple[int, date | None]]:
    """Recorded so far and the date of the newest figure, for each code (all inside `root`).

    recorded(X) = tallies in X's subtree
                  + for each snapshot S counted for X: S.cumulative - tallies in S's subtree up to S.as_of

    A snapshot S counts for X when S is X or below it and no nearer ancestor of S inside X has a
    snapshot of its own: a figure reported for a whole kecamatan stands for its kelurahan's too.
    So a snapshot replaces the tallies it already covers, and tallies after it add on top.
    """
    today = today_for(campaign)
    snapshots = await _latest_snapshots(session, campaign, root, today)
    # Snapshots above `root` (the city's, when asking about a kecamatan) don't count inside it.
    covered = await tallies.subtree_totals_until(session, campaign_id=campaign.id, points=[(s.area_code, s.as_of) for s in snapshots.values()])
    contribution: dict[str, int] = defaultdict(int)
    newest: dict[str, date] = {}
    for code, snapshot in snapshots.items():
        value = snapshot.cumulative - covered.get((code, snapshot.as_of), 0)
        nearest = next((a for a in reversed(areas.ancestors_of(code)) if a in snapshots), None)
        # The snapshot counts for itself and each ancestor strictly below its nearest snapshotted one.
        chain = [code] + list(reversed(areas.ancestors_of(code)))
        for holder in chain:
            if holder == nearest:
                break
            contribution[holder] += value
            if newest.get(holder) is None or snapshot.as_of > newest[holder]:
                newest[holder] = snapshot.as_of
    if totals is None:
        totals = await tallies.subtree_totals(session, campaign_id=campaign.id, codes=codes)
    result = {}
    for code in codes:
        tally_total, last_tally = totals.get(code, (0, None))
        dates = [d for d in (newest.get(code), last_tally) if d is not None]
        result[code] = (tally_total + contribution.get(code, 0), max(dates) if dates else None)
    return result


def service_days(first: date, last: date, *, weekends: bool) -> int:
    """Days from `first` to `last` (both included) on which recording is open."""
    days = (last - first).days + 1
    if days <= 0:
        return 0
    if weekends:
        return days
    weeks, rest = divmod(days, 7)
    return weeks * 5 + sum(1 for i in range(rest) if (first + timedelta(days=i)).weekday() < 5)


def nth_service_day(first: date, n: int, *, weekends: bool) -> date | None:
    """The n-th (1-based) service day counting from `first`; None beyond the calendar."""
    try:
        if weekends:
            return first + timedelta(days=n - 1)
        while first.weekday() >= 5:
            first += timedelta(days=1)
        weeks, rest = divmod(n - 1, 5)
        day = first + timedelta(weeks=weeks)
        while rest:
            day += timedelta(days=1)
            if day.weekday() < 5:
                rest -= 1
        return day
    except OverflowError:
        return None


def _forecast(fields: dict, *, campaign: Campaign, today: date, last_7: int, window_days: int, days_left: int) -> None:
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
        projected = nth_service_day(today + timedelta(days=1), needed, weekends=campaign.opens_weekends)
    fields["projected_completion_date"] = projected
    fields["on_track"] = projected is not None and projected <= campaign.deadline


_LEVELS = {level.value: level for level in AreaLevel}
_SOURCES = {source.value: source for source in TargetSource}

# The nodes in view (the root and `depth` levels below it) with their target and campaign-wide
# total (tally_totals): one query, one row per node. The last 7 days come from `_last_7_days`.
_PROGRESS_SQL = text("""
WITH RECURSIVE tree(code, name, level, parent_code, depth) AS (
    SELECT code, name, level, parent_code, 0 FROM areas WHERE code = :root
    UNION ALL
    SELECT a.code, a.name, a.level, a.parent_code, tree.depth + 1 FROM areas a JOIN tree ON a.parent_code = tree.code WHERE tree.depth < :depth
)
SELECT tree.code, tree.name, tree.level, tree.parent_code, t.target, t.source, tt.total, tt.last_day
FROM tree
LEFT JOIN targets t ON t.campaign_id = :campaign_id AND t.area_code = tree.code
LEFT JOIN tally_totals tt ON tt.campaign_id = :campaign_id AND tt.area_code = tree.code
ORDER BY tree.code
""").columns(
    column("code", String), column("name", String), column("level", String), column("parent_code", String), column("target", Integer),
    column("source", String), column("total", Integer), column("last_day", Date),
)

# Areas whose 7-day sums are kept per campaign at most (a national tree to the kecamatan is 7,838).
MAX_WINDOW_AREAS = 100_000


def read_key(campaign: Campaign, kind: str, **query: Any) -> tuple[Any, ...]:
    """What a public progress answer depends on: the campaign's data version, the query, and the
    campaign's date (forecasts count days from today). Its ETag and cache entry derive from it."""
    return (kind, campaign.id, campaign.data_version, today_for(campaign).isoformat(), *sorted(query.items()))


async def _last_7_days(session: AsyncSession, campaign: Campaign, codes: list[str], today: date, cache: BodyCache | None) -> dict[str, int]:
    """Tallies of each area's subtree on the 7 days that ended yesterday.

    They change only when a past day's tally does (`history_version`), not with today's figures,
    so the sums are kept per campaign for its current history version and date (one set per
    campaign: an older one is dropped), and only areas not seen yet are read."""
    stamp = (campaign.history_version, today)
    kept = cache.value(("last_7_days", campaign.id)) if cache is not None else None
    known: dict[str, int] = kept[1] if kept is not None and kept[0] == stamp and len(kept[1]) < MAX_WINDOW_AREAS else {}
    missing = [code for code in codes if code not in known]
    if missing:
        found = await tallies.totals_between(session, campaign_id=campaign.id, codes=missing, since=today - timedelta(days=7), until=today - timedelta(days=1))
        for code in missing:
            known[code] = found.get(code, 0)
        if cache is not None:
            cache.keep_value(("last_7_days", campaign.id), (stamp, known))
    return known


async def progress_tree(
    session: AsyncSession, *, campaign: Campaign, area: str | None = None, depth: int = 1, as_json: bool = False, cache: BodyCache | None = None
) -> dict[str, Any]:
    """The progress tree as plain dicts (the fields of `ProgressNode`, in its order; dates as ISO
    text with `as_json`): a few small queries whatever its size, no model per node."""
    root_code = area or campaign.root_area_code
    today = today_for(campaign)
    rows = (await session.execute(_PROGRESS_SQL, {"root": root_code, "depth": depth, "campaign_id": campaign.id})).all()
    if not rows or not areas.is_within(root_code, campaign.root_area_code):
        await require_area_in_campaign(session, campaign, root_code, location="query")  # names the problem
    codes = [row[0] for row in rows]
    recorded = await _recorded(session, campaign, campaign.root_area_code, codes, totals={row[0]: (row[6] or 0, row[7]) for row in rows})
    last_7_days = await _last_7_days(session, campaign, codes, today, cache)
    weekends = campaign.opens_weekends
    window_days = service_days(today - timedelta(days=7), today - timedelta(days=1), weekends=weekends)
    days_left = service_days(today + timedelta(days=1), campaign.deadline, weekends=weekends)
    built: dict[str, dict[str, Any]] = {}
    for code, name, level, _parent, target, source, _total, _last in rows:
        value, as_of = recorded[code]
        fields = {
            "code": code, "name": name, "level": _LEVELS[level],
            "target": target, "target_source": None if source is None else _SOURCES[source],
            "recorded": value, "as_of": as_of,
            "percent": rounding.percent(value, target),
            "remaining": None if target is None else max(target - value, 0),
        }
        _forecast(fields, campaign=campaign, today=today, last_7=last_7_days[code], window_days=window_days, days_left=days_left)
        if as_json:
            fields["as_of"] = None if as_of is None else as_of.isoformat()
            projected = fields["projected_completion_date"]
            fields["projected_completion_date"] = None if projected is None else projected.isoformat()
        fields["children"] = []
        built[code] = fields
    for code, _name, _level, parent, *_ in rows:
        if code != root_code and parent in built:
            built[parent]["children"].append(built[code])
    return built[root_code]


async def progress_json(session: AsyncSession, *, campaign: Campaign, area: str | None = None, depth: int = 1, cache: BodyCache | None = None) -> bytes:
    """The progress tree serialized once, as the `ProgressNode` response model describes it."""
    tree = await progress_tree(session, campaign=campaign, area=area, depth=depth, as_json=True, cache=cache)
    return json.dumps(tree, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


async def progress(session: AsyncSession, *, campaign: Campaign, area: str | None = None, depth: int = 1, cache: BodyCache | None = None) -> ProgressNode:
    return ProgressNode.model_validate(await progress_tree(session, campaign=campaign, area=area, depth=depth, cache=cache))


PROGRESS_CSV_COLUMNS = (
    "code", "name", "level", "target", "recorded", "as_of", "percent", "remaining", "recorded_last_7_days", "rate_7d",
    "service_days_left", "required_per_day", "projected_completion_date", "on_track",
)


async def progress_csv(session: AsyncSession, *, campaign: Campaign, area: str | None = None, depth: int = 1, cache: BodyCache | None = None) -> str:
    """The progress table, one row per area (parents before their children), for spreadsheets."""
    root = await progress(session, campaign=campaign, area=area, depth=depth, cache=cache)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(PROGRESS_CSV_COLUMNS)
    stack = [root]
    while stack:
        node = stack.pop()
        values = node.model_dump(include=set(PROGRESS_CSV_COLUMNS))
        writer.writerow(["" if values[c] is None else values[c] for c in PROGRESS_CSV_COLUMNS])
        stack.extend(reversed(node.children))
    return out.getvalue()


MAX_SERIES_DAYS = 3660


async def daily(session: AsyncSession, *, campaign: Campaign, area: str | None = None, since: date | None = None, until: date | None = None) -> DailySeries:
    """Recordings per day and the cumulative figure at the end of each day.

    cumulative(d) = recorded now - tallies after d: before a snapshot's date this gives the
    snapshot less the tallies between d and it, so the series meets the reported figure.
    """
    code = area or campaign.root_area_code
    await require_area_in_campaign(session, campaign, code, location="query")
    today = today_for(campaign)
    start, end = since or campaign.start_date, until or today
    if end < start:
        raise RuleViolation.on_field("to", "must not be before from", location="query")
    if (end - start).days >= MAX_SERIES_DAYS:
        raise RuleViolation.on_field("from", f"a series covers at most {MAX_SERIES_DAYS} days", location="query")
    now_recorded, _ = (await _recorded(session, campaign, campaign.root_area_code, [code]))[code]
    per_day = await tallies.daily_totals(session, campaign_id=campaign.id, code=code, since=start, until=max(end, today))
    after = sum(total for day, total in per_day.items() if day > end)
    points = []
    for offset in range((end - start).days, -1, -1):
        day = start + timedelta(days=offset)
        points.append(DailyPoint(date=day, recorded=per_day.get(day, 0), cumulative=now_recorded - after))
        after += per_day.get(day, 0)
    points.reverse()
    return DailySeries(area=code, start=start, end=end, days=points)


async def discrepancies(session: AsyncSession, *, campaign: Campaign, area: str | None = None) -> list[Discrepancy]:
    """Parents whose snapshot (or own daily tally) differs from the sum of their children's of the same date."""
    root = area or campaign.root_area_code
    await require_area_in_campaign(session, campaign, root, location="query")
    snapshots = list((await session.scalars(select(Snapshot).where(Snapshot.campaign_id == campaign.id, areas.in_subtree(Snapshot.area_code, root)))).all())
    by_key = {(s.area_code, s.as_of): s for s in snapshots}
    children_sum: dict[tuple[str, date], int] = defaultdict(int)
    children_reporting: dict[tuple[str, date], int] = defaultdict(int)
    for s in snapshots:
        parent = areas.parent_of(s.area_code)
        if parent is not None and (parent, s.as_of) in by_key:
            children_sum[(parent, s.as_of)] += s.cumulative
            children_reporting[(parent, s.as_of)] += 1
    tally_rows = await tallies.level_disagreements(session, campaign_id=campaign.id, root=root)
    parents = sorted({code for code, _ in children_sum} | {row[0] for row in tally_rows})
    child_counts = dict(
        (await session.execute(select(Area.parent_code, func.count()).where(Area.parent_code.in_(parents)).group_by(Area.parent_code))).all()
    ) if parents else {}
    result = []
    for (code, as_of), total in sorted(children_sum.items()):
        reported = by_key[(code, as_of)].cumulative
        if reported != total:
            result.append(
                Discrepancy(
                    area=code, as_of=as_of, reported=reported, children_sum=total, difference=reported - total,
                    children_reporting=children_reporting[(code, as_of)], children_total=child_counts.get(code, 0),
                )
            )
    for code, day, own, below, reporting in sorted(tally_rows):
        result.append(
            Discrepancy(
                area=code, as_of=day, reported=own, children_sum=below, difference=own - below,
                children_reporting=reporting, children_total=child_counts.get(code, 0), kind="tally",
            )
        )
    return result
