"""Reading what was posted: tallies and their history, for staff.

Rules
- A list shows the asked area's subtree (inside the campaign's root and the caller's view: 403
  outside it), or without an area the campaign's (admins, viewers) or the caller's own subtree.
- History entries come oldest first (by time, then id): the stored entries, and the creations of
  tallies made by an import that have not changed since (see `api.tallies.writer`), drawn from
  the tally and its import; both kinds look alike.
- An entry's id is a string that never changes and is never reused: `c<n>` for an entry stored
  when it happened, `i<import>-<area>-<date>-p<point>-d<device>` for the creation of a tally by an
  import, whether it is still drawn from the tally or was stored when the tally later changed
  (`0` for no service point or device). Entries are ordered by time, then id.
"""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, String, and_, case, cast, func, literal, null, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from api.area_codes import in_subtree, is_within, require_code
from api.campaigns.models import Campaign
from api.errors import Forbidden, RuleViolation, field_problem
from api.pagination import PageParams, decode_cursor, encode_cursor, paginate
from api.principal import Principal
from api.tallies.models import Tally, TallyImport
from api.tallies.writer import CHANGE, TALLY


def _reader_area(actor: Principal, campaign: Campaign, area: str | None) -> str:
    """The subtree a list shows: the asked one (inside the caller's view) or the caller's own."""
    if area is not None:
        require_code(area, location="query")
        if not is_within(area, campaign.root_area_code):
            params = {"code": area, "root": campaign.root_area_code}
            raise RuleViolation.on_field("area", location="query", code="area.outside_campaign", params=params)
        if not actor.sees_area(area):
            raise Forbidden(
                code="scope.area", params={"code": area}, errors=[field_problem("area", location="query", code="scope.area", params={"code": area})]
            )
        return area
    if actor.sees_area(campaign.root_area_code):
        return campaign.root_area_code
    if actor.area and is_within(actor.area, campaign.root_area_code):
        return actor.area
    raise Forbidden(code="scope.campaign")


async def list_tallies(
    session: AsyncSession,
    *,
    campaign: Campaign,
    actor: Principal,
    page: PageParams,
    area: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> tuple[list[Tally], str | None]:
    root = _reader_area(actor, campaign, area)
    stmt = select(Tally).where(Tally.campaign_id == campaign.id, in_subtree(Tally.area_code, root))
    if since:
        stmt = stmt.where(Tally.day >= since)
    if until:
        stmt = stmt.where(Tally.day <= until)
    return await paginate(session, stmt, keys=[Tally.area_code, Tally.day, Tally.id], page=page)


async def list_history(
    session: AsyncSession, *, campaign: Campaign, actor: Principal, page: PageParams, area: str | None = None, day: date | None = None
) -> tuple[Sequence[Any], str | None]:
    """History entries oldest first (by time, then id): the stored entries, and the creations of
    tallies made by an import that have not changed since (see `Writer`), drawn from the tally
    and its import. Such a creation has the same id (see the module's rules) whether it is drawn
    from the tally or stored once the tally changed, at the same time and place in the order."""
    root = _reader_area(actor, campaign, area)
    imports = TallyImport.__table__
    stored_id = case(
        (
            and_(CHANGE.c.old_count.is_(None), CHANGE.c.import_id.is_not(None)),
            _creation_id(CHANGE.c.import_id, CHANGE.c.area_code, CHANGE.c.day, CHANGE.c.service_point_id, CHANGE.c.device_id),
        ),
        else_=literal("c") + cast(CHANGE.c.id, String),
    )
    stored = select(
        stored_id.label("id"),
        CHANGE.c.area_code,
        CHANGE.c.day,
        CHANGE.c.service_point_id,
        CHANGE.c.device_id,
        CHANGE.c.old_count,
        CHANGE.c.new_count,
        CHANGE.c.source,
        CHANGE.c.at,
        CHANGE.c.actor_kind,
        CHANGE.c.actor_name,
        CHANGE.c.import_id,
    ).where(CHANGE.c.campaign_id == campaign.id, in_subtree(CHANGE.c.area_code, root))
    recorded = (
        select(CHANGE.c.id)
        .where(
            CHANGE.c.campaign_id == TALLY.c.campaign_id,
            CHANGE.c.area_code == TALLY.c.area_code,
            CHANGE.c.day == TALLY.c.day,
            CHANGE.c.service_point_id.is_not_distinct_from(TALLY.c.service_point_id),
            CHANGE.c.device_id.is_not_distinct_from(TALLY.c.device_id),
            CHANGE.c.import_id == TALLY.c.import_id,
        )
        .exists()
    )
    created = (
        select(
            _creation_id(TALLY.c.import_id, TALLY.c.area_code, TALLY.c.day, TALLY.c.service_point_id, TALLY.c.device_id).label("id"),
            TALLY.c.area_code,
            TALLY.c.day,
            TALLY.c.service_point_id,
            TALLY.c.device_id,
            cast(null(), Integer).label("old_count"),
            TALLY.c.count.label("new_count"),
            TALLY.c.source,
            TALLY.c.updated_at.label("at"),
            imports.c.actor_kind,
            imports.c.actor_name,
            TALLY.c.import_id,
        )
        .join(imports, imports.c.id == TALLY.c.import_id)
        .where(TALLY.c.campaign_id == campaign.id, in_subtree(TALLY.c.area_code, root), ~recorded)
    )
    if day:
        stored = stored.where(CHANGE.c.day == day)
        created = created.where(TALLY.c.day == day)
    history = union_all(stored, created).subquery()
    stmt = select(history)
    if page.cursor:
        after_at, after_id = decode_cursor(page.cursor, 2)
        try:
            after_at, after_id = datetime.fromisoformat(after_at), str(after_id)
        except (TypeError, ValueError):
            raise RuleViolation.on_field("cursor", location="query", code="cursor.invalid") from None
        stmt = stmt.where(or_(history.c.at > after_at, and_(history.c.at == after_at, history.c.id > after_id)))
    rows = (await session.execute(stmt.order_by(history.c.at, history.c.id).limit(page.limit + 1))).all()
    next_cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        next_cursor = encode_cursor([rows[-1].at, rows[-1].id])
    return rows, next_cursor


def _creation_id(import_id: Any, area_code: Any, day: Any, point_id: Any, device_id: Any) -> Any:
    """`i<import>-<area>-<date>-p<point>-d<device>`: the creation of a tally by an import, in SQL."""

    def text(value: Any) -> Any:
        return cast(value, String)

    return (
        literal("i")
        + text(import_id)
        + "-"
        + text(area_code)
        + "-"
        + text(day)
        + "-p"
        + text(func.coalesce(point_id, 0))
        + "-d"
        + text(func.coalesce(device_id, 0))
    )
