"""Campaigns: the target, how it is shared out over areas, and reported snapshots.

This is the domain's face: the routers, the demo and other domains call it. Its modules hold the
rules: `scope` (areas inside a campaign), `targets` (entered and apportioned targets),
`forecast` (one node's forecast) and `versions` (what cached progress answers are valid for).
Progress itself (recorded against target) joins campaigns and tallies: it is `api.progress`'s.

Rules
- A campaign has a root area, a start date, a deadline, a target (residents who must be
  recorded) and a time zone (REKAM_TIMEZONE by default); its dates are local to that zone
  (`today_for`, over api.calendar).
- The active campaign for an area on a day is the one whose root contains the area and whose
  start and deadline enclose the day; the deepest such root wins (`campaign_for_area`).
- The campaigns of a place (`windows_for_area`) are those whose root contains the area, or lies
  inside it; their start..deadline are the windows a device or operator may be placed there in.
- A snapshot is a cumulative figure reported for an area as of a date, not in the future; the same
  area and date again replaces it.
"""

from datetime import date

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api import calendar
from api.area_codes import ancestors_of, depth_of
from api.areas import service as areas
from api.audit import service as audit
from api.campaigns import versions
from api.campaigns.models import Campaign, Snapshot, Target, TargetSource
from api.campaigns.schemas import CampaignCreate, CampaignUpdate, SnapshotCreate
from api.campaigns.scope import require_area_in_campaign
from api.campaigns.targets import apportion, get_targets, largest_remainder, parse_targets_csv, put_targets
from api.errors import RuleViolation, get_or_404
from api.pagination import PageParams, paginate
from api.principal import Principal, ensure_area

__all__ = [
    "apportion", "below_milestone", "campaign_covering", "campaign_for_area", "claim_milestone", "create_campaign", "get_campaign", "get_targets", "largest_remainder",
    "list_campaigns", "list_snapshots", "parse_targets_csv", "put_targets",
    "record_snapshot", "require_area_in_campaign", "today_for", "update_campaign", "windows_for_area",
]  # fmt: skip

CAMPAIGN_FIELDS = [
    "id", "name", "root_area_code", "start_date", "deadline", "target", "opens_weekends", "what_to_bring", "cap_remote_numbers", "cap_bookings_per_nik",
]  # fmt: skip


def today_for(campaign: Campaign) -> date:
    """Today in the campaign's time zone: dates are local, never UTC (a thin name over api.calendar)."""
    return calendar.today(campaign.timezone)


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
        what_to_bring=data.what_to_bring,
        cap_remote_numbers=data.cap_remote_numbers,
        cap_bookings_per_nik=data.cap_bookings_per_nik,
        is_demo=is_demo,
        data_version=versions.new_version(),
        history_version=versions.new_version(),
    )
    session.add(campaign)
    await session.flush()
    session.add(Target(campaign_id=campaign.id, area_code=data.root_area, target=data.target, source=TargetSource.official.value))
    await session.flush()
    await audit.record(
        session, actor=actor, action="campaign.create", entity="campaign", entity_id=campaign.id, after=audit.snapshot_of(campaign, CAMPAIGN_FIELDS)
    )
    return campaign


async def update_campaign(session: AsyncSession, *, campaign_id: int, data: CampaignUpdate, actor: Principal) -> Campaign:
    """Change what residents read with every point and the remote caps; audited with before and after.

    The caps are read when a number or booking is made, so a change applies to the next one; what
    was already taken stays. A field sent as null is refused (`not_null`): none of these can be
    emptied. The caller must be allowed the campaign's whole area (an admin, or a supervisor of a
    subtree that contains its root)."""
    campaign = await get_campaign(session, campaign_id=campaign_id)
    ensure_area(actor, campaign.root_area_code, field="campaign_id")
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise RuleViolation.on_field(name, code="not_null")
    before = audit.snapshot_of(campaign, CAMPAIGN_FIELDS)
    for name, value in changes.items():
        setattr(campaign, name, value)
    await session.flush()
    after = audit.snapshot_of(campaign, CAMPAIGN_FIELDS)
    if after != before:
        await audit.record(session, actor=actor, action="campaign.update", entity="campaign", entity_id=campaign.id, before=before, after=after)
    return campaign


async def get_campaign(session: AsyncSession, *, campaign_id: int) -> Campaign:
    return await get_or_404(session, Campaign, campaign_id, what="campaign")


async def list_campaigns(session: AsyncSession, *, page: PageParams) -> tuple[list[Campaign], str | None]:
    return await paginate(session, select(Campaign), keys=[Campaign.id], page=page)


async def below_milestone(session: AsyncSession, *, on: date) -> list[Campaign]:
    """Campaigns begun by `on` with a tenth of progress still to tell (`Campaign.milestone`): a
    late tally may move a campaign past its deadline, so those are asked too."""
    return list((await session.scalars(select(Campaign).where(Campaign.start_date <= on, Campaign.milestone < 100).order_by(Campaign.id))).all())


async def claim_milestone(session: AsyncSession, *, campaign: Campaign, reached: int) -> bool:
    """Move the campaign's told milestone from the one `campaign` holds to `reached`. False when
    another process moved it first: that one tells them (each milestone is told once)."""
    moved = await session.execute(
        update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.milestone == campaign.milestone)
        .values(milestone=reached)
        .execution_options(synchronize_session=False)
    )
    return bool(moved.rowcount)  # type: ignore[attr-defined]  # a CursorResult for an UPDATE


async def campaign_for_area(session: AsyncSession, *, area_code: str, on: date) -> Campaign:
    """The active campaign whose root contains the area (the deepest root, if several)."""
    campaign = await campaign_covering(session, area_code=area_code, on=on)
    if campaign is None:
        raise RuleViolation.on_field("area", code="campaign.none_for_area")
    return campaign


async def campaign_covering(session: AsyncSession, *, area_code: str, on: date) -> Campaign | None:
    """`campaign_for_area`, or None when no campaign runs there that day."""
    roots = [*ancestors_of(area_code), area_code]
    candidates = (await session.scalars(select(Campaign).where(Campaign.root_area_code.in_(roots), Campaign.start_date <= on, Campaign.deadline >= on))).all()
    return max(candidates, key=lambda c: (depth_of(c.root_area_code), c.start_date, c.id)) if candidates else None


async def windows_for_area(session: AsyncSession, *, area_code: str) -> list[tuple[date, date]]:
    """The (start, deadline) of every campaign whose root contains the area or lies inside it, by start."""
    roots = [*ancestors_of(area_code), area_code]
    rows = await session.execute(
        select(Campaign.start_date, Campaign.deadline)
        .where(or_(Campaign.root_area_code.in_(roots), Campaign.root_area_code.startswith(area_code + ".", autoescape=True)))
        .order_by(Campaign.start_date, Campaign.id)
    )
    return [(start, deadline) for start, deadline in rows.all()]


# --- snapshots -----------------------------------------------------------------------------


async def record_snapshot(session: AsyncSession, *, campaign: Campaign, data: SnapshotCreate, actor: Principal) -> tuple[Snapshot, bool]:
    """Record a cumulative figure; the same area and date again replaces it. Returns (snapshot, created)."""
    await require_area_in_campaign(session, campaign, data.area)
    ensure_area(actor, data.area)
    if data.as_of > today_for(campaign):
        raise RuleViolation.on_field("as_of", code="snapshot.future", params={"day": data.as_of})
    snapshot = await session.scalar(select(Snapshot).where(Snapshot.campaign_id == campaign.id, Snapshot.area_code == data.area, Snapshot.as_of == data.as_of))
    before = audit.snapshot_of(snapshot, ["area_code", "as_of", "cumulative", "source"]) if snapshot else None
    created = snapshot is None
    if snapshot is None:
        snapshot = Snapshot(campaign_id=campaign.id, area_code=data.area, as_of=data.as_of, cumulative=data.cumulative, source=data.source)
        session.add(snapshot)
    else:
        snapshot.cumulative, snapshot.source = data.cumulative, data.source
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="snapshot.create" if created else "snapshot.replace",
        entity="snapshot",
        entity_id=snapshot.id,
        before=before,
        after=audit.snapshot_of(snapshot, ["area_code", "as_of", "cumulative", "source"]),
    )
    await versions.touch(session, campaign.id)
    return snapshot, created


async def list_snapshots(session: AsyncSession, *, campaign: Campaign, page: PageParams, area: str | None = None) -> tuple[list[Snapshot], str | None]:
    stmt = select(Snapshot).where(Snapshot.campaign_id == campaign.id)
    if area:
        areas.require_code(area, location="query")
        stmt = stmt.where(areas.in_subtree(Snapshot.area_code, area))
    return await paginate(session, stmt, keys=[Snapshot.id], page=page)
