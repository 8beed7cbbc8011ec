"""Targets: entered per area, or shared out from a parent.

Rules
- The root's target is the campaign's target, marked `official`.
- Targets below the root are entered (`official`) or apportioned from a parent by the largest-
  remainder method (`apportioned`), so that apportioned children always sum exactly to the parent.
  A hand-entered child that breaks its parent's sum is reported, never corrected silently.
- Targets arrive as JSON or CSV (`area,target`, comma or semicolon); nothing is written unless
  every row is valid and in the caller's scope.
"""

import csv
import io
from collections import defaultdict
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.areas import service as areas
from api.areas.models import Area
from api.audit import service as audit
from api.campaigns import versions
from api.campaigns.models import Campaign, Target, TargetSource
from api.campaigns.schemas import MAX_COUNT, ApportionMethod, ApportionRequest, TargetIn, TargetInconsistency
from api.campaigns.scope import require_area_in_campaign
from api.errors import Forbidden, RuleViolation, field_problem
from api.principal import Principal, ensure_area
from api.types import LEVELS, AreaLevel


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
        raise RuleViolation(code="targets.header", errors=[field_problem(None, location=None, row=1, code="targets.header")])
    reader.fieldnames = header
    items, errors = [], []
    for number, record in enumerate(reader, start=2):
        area, raw = (record.get("area") or "").strip(), (record.get("target") or "").strip().replace(".", "")
        if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_COUNT:
            errors.append(field_problem("target", location=None, row=number, code="targets.not_count"))
            continue
        items.append(TargetIn(area=area, target=int(raw)))
    if errors:
        raise RuleViolation(code="rows.invalid", params={"count": len(errors)}, errors=errors)
    if not items:
        raise RuleViolation(code="csv.no_rows", errors=[field_problem(None, location=None, row=2, code="csv.no_rows")])
    return items


async def put_targets(session: AsyncSession, *, campaign: Campaign, items: list[TargetIn], actor: Principal) -> list[Target]:
    """Enter official targets; nothing is written unless every row is valid and in the caller's scope."""
    errors: list[dict[str, Any]] = []
    outside = []
    seen: set[str] = set()
    for row, item in enumerate(items, start=1):
        if item.area in seen:
            errors.append(field_problem("area", location=None, row=row, code="targets.repeated", params={"code": item.area}))
        seen.add(item.area)
        level = areas.level_of(item.area)
        if level is None:
            errors.append(field_problem("area", location=None, row=row, code="area.not_code"))
        elif not areas.is_within(item.area, campaign.root_area_code):
            params = {"code": item.area, "root": campaign.root_area_code}
            errors.append(field_problem("area", location=None, row=row, code="area.outside_campaign", params=params))
        elif not actor.covers_area(item.area):
            outside.append(field_problem("area", location=None, row=row, code="scope.area", params={"code": item.area}))
    if outside:
        # Out of scope is 403 like everywhere else, however many other rows are fine.
        raise Forbidden(code="rows.outside_scope", params={"count": len(outside)}, errors=outside)
    known = set((await session.scalars(select(Area.code).where(Area.code.in_(seen)))).all())
    rejected = {e["row"] for e in errors}
    for row, item in enumerate(items, start=1):
        if row not in rejected and item.area not in known:
            errors.append(field_problem("area", location=None, row=row, code="area.unknown", params={"code": item.area}))
    if errors:
        errors.sort(key=lambda e: e["row"])
        raise RuleViolation(code="rows.invalid", params={"count": len(errors)}, errors=errors)
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
        await audit.record(
            session,
            actor=actor,
            action="target.set",
            entity="target",
            entity_id=f"{campaign.id}:{item.area}",
            before=before,
            after=audit.snapshot_of(target, ["area_code", "target", "source"]),
        )
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
        raise RuleViolation.on_field("level", code="targets.level_not_below", params={"level": request.level.value, "parent_level": parent.level})
    parent_target = await session.scalar(select(Target).where(Target.campaign_id == campaign.id, Target.area_code == parent.code))
    if parent_target is None:
        raise RuleViolation.on_field("parent", code="targets.parent_without_target", params={"code": parent.code})
    children = list(
        (await session.scalars(select(Area).where(areas.in_subtree(Area.code, parent.code), Area.level == request.level.value).order_by(Area.code))).all()
    )
    if not children:
        raise RuleViolation.on_field("level", code="targets.no_children", params={"code": parent.code, "level": request.level.value})
    codes = [c.code for c in children]
    if request.method == ApportionMethod.equal:
        weights: list[Fraction | int | float] = [1] * len(children)
        basis = request.basis or "equal shares"
    elif request.method == ApportionMethod.population:
        missing = [c.code for c in children if c.population is None]
        if missing:
            raise RuleViolation.on_field("method", code="targets.population_unknown", params={"codes": missing[:5]})
        weights = [c.population or 0 for c in children]
        basis = request.basis or "area population"
    else:
        given = request.weights or {}
        errors = [field_problem(f"weights.{code}", code="missing") for code in codes if code not in given]
        errors += [
            field_problem(f"weights.{code}", code="targets.weight_not_child", params={"level": request.level.value, "code": parent.code})
            for code in given
            if code not in codes
        ]
        errors += [field_problem(f"weights.{code}", code="targets.weight_invalid") for code, w in given.items() if not (w >= 0 and w != float("inf"))]
        if errors:
            raise RuleViolation(code="targets.weights", errors=errors)
        weights = [Fraction(str(given[code])) for code in codes]
        if sum(weights) == 0:
            raise RuleViolation.on_field("weights", code="targets.weights_zero")
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
        await audit.record(
            session,
            actor=actor,
            action="target.apportion",
            entity="target",
            entity_id=f"{campaign.id}:{code}",
            before=before,
            after=audit.snapshot_of(target, ["area_code", "target", "source", "basis"]),
        )
        result.append(target)
    await versions.touch(session, campaign.id)
    return result
