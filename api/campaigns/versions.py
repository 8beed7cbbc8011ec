"""Campaign data versions: what public progress answers are cached and validated against.

`Campaign.data_version` changes, in the same transaction, with every write that can alter what
progress, progress/daily or progress.csv show:
- tallies: `tallies_changed`, called by `api.tallies.writer.Writer.finish` after every other
  statement of the write (imports in both modes and the deletions of mode=replace, queue tickets
  and home visits through `add_recordings`, the demo; on PostgreSQL an operational recording sets
  `tallies_changed_values` in its one statement instead), and by a rebuild of the rollups. Its
  UPDATE locks the campaign's row until COMMIT, so it comes last: concurrent writers of one
  campaign wait for each other only for that statement and the COMMIT, not for their whole work;
- snapshots, targets (entered or apportioned), campaign creation: `touch`;
- areas (an RW/RT added or renamed appears in progress trees): `touch_all`, called by the layers
  above both domains (api.flows for staff's changes, the loaders of the official list).

`Campaign.history_version` changes only when a tally of a day before today (campaign-local)
changes, or the areas do (`touch_all`). The forecast's 7-day sums read only past days, so they are
kept per history version and survive the steady stream of today's figures (queue tickets, offices
posting the day). `history_since` and `history_areas` say where: every move of `history_version`
since the version `history_since` was a change of past days' tallies of the areas listed in
`history_areas` (in the order written; NULL: something else moved it, or a writer did not tell the
areas, or the list grew past `MAX_HISTORY_AREAS`). A writer appends its areas to a known list, or
starts a new one from the version it replaces. So a reader that kept figures at an earlier history
version learns which areas' past figures to read again (`areas_changed`): a late post for one
kecamatan re-reads the 7-day sums of that kecamatan and its ancestors, not of every area.

Versions are fresh random numbers rather than counters, so that a database restored from a backup
and changed again never reuses a version that a browser or proxy has already seen.

Why a body may be cached under the version read at the start of a request: the reader loads the
campaign row first, so everything it reads afterwards is at least as new as that version. A body
stored under a version can therefore only be newer than it, never older, and every later write
sets a new version that no stored body carries.
"""

import secrets
from collections.abc import Collection
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import Table, case, func, literal, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm.util import identity_key

from api import calendar
from api.campaigns.models import Campaign
from api.db import holds_last_writes, last_statement

# A writer a little before midnight treats today as past already: a reader on a clock slightly
# ahead may have started the next day and cached its 7-day sums, which include today.
_MIDNIGHT_MARGIN = timedelta(minutes=10)


def new_version() -> int:
    return secrets.randbits(62) | 1  # never 0, the value of a row that no write has touched


_CAMPAIGNS = cast(Table, Campaign.__table__)  # mapped with __tablename__: its __table__ is a Table


async def touch(session: AsyncSession, campaign_id: int, *, history: bool = False, at_commit: bool = False) -> None:
    """A write changed what the campaign's progress shows (`history`: including past days' tallies);
    `at_commit`: as `tallies_changed`."""
    version = new_version()
    values = {"data_version": version, **_history_moved(version)} if history else {"data_version": version}
    if at_commit:
        await last_statement(session, update(_CAMPAIGNS).where(_CAMPAIGNS.c.id == campaign_id).values(**values), {})
        loaded(session, campaign_id, values)
        return
    # ORM-enabled UPDATE: a Campaign already loaded in this session gets the new values too.
    await session.execute(update(Campaign).where(Campaign.id == campaign_id).values(**values), execution_options={"synchronize_session": "evaluate"})


def _history_moved(version: int) -> dict[str, Any]:
    """A new history version whose areas are not known: readers read every past figure again."""
    return {"history_version": version, "history_areas": None}


# The longest list of areas whose past days changed (`history_areas`, about 200 kelurahan codes):
# past it, readers read every past figure again, and the next writer starts a new list.
MAX_HISTORY_AREAS = 2_000


async def tallies_changed(
    session: AsyncSession, campaign_id: int, *, earliest: date, areas: Collection[str] | None = None, timezone: str | None = None, at_commit: bool = False
) -> None:
    """Tallies of the campaign changed on `earliest` and maybe later days, in `areas` (None: not
    told); `timezone`: the campaign's, when the caller knows it (else it is read). `at_commit`:
    nothing of the transaction comes after; an update that needs no answer is sent with the COMMIT
    (`api.db.last_statement`)."""
    if timezone is None:
        campaign = await session.get(Campaign, campaign_id)
        timezone = campaign.timezone if campaign is not None else None
    history = timezone is None or touches_history(timezone, earliest)
    listed = ",".join(sorted(areas)) if areas else None
    if not history or listed is None or len(listed) > MAX_HISTORY_AREAS:
        await touch(session, campaign_id, history=history, at_commit=at_commit)
        return
    version = new_version()
    # Decided by the UPDATE itself, on the row as the last writer left it (concurrent writers of a
    # campaign on PostgreSQL update its row one after the other): the areas are appended to a
    # known list that stays short enough, else a new list starts from the version this write replaces.
    campaigns = _CAMPAIGNS.c
    known = campaigns.history_areas.is_not(None)
    fits = func.length(campaigns.history_areas) + len(listed) < MAX_HISTORY_AREAS
    statement = (
        update(_CAMPAIGNS)
        .where(campaigns.id == campaign_id)
        .values(
            data_version=version,
            history_version=version,
            history_since=case((known, campaigns.history_since), else_=campaigns.history_version),
            history_areas=case((known & fits, campaigns.history_areas + "," + literal(listed)), (known, None), else_=literal(listed)),
        )
    )
    if at_commit and holds_last_writes(session):  # with the COMMIT, in one round trip: the row it locks is the last
        await last_statement(session, statement, {})
        loaded(session, campaign_id, {"data_version": version, "history_version": version})
        return
    since, listed = (await session.execute(statement.returning(campaigns.history_since, campaigns.history_areas))).one()
    loaded(session, campaign_id, {"data_version": version, "history_version": version, "history_since": since, "history_areas": listed})


def areas_changed(campaign: Campaign, seen: tuple[int, int, str | None]) -> list[str] | None:
    """The areas whose past days' tallies changed since a reader saw the campaign's history marks
    `seen` (`history_marks`) and `history_version` moved (with repeats), or None when not known:
    any past figure may have changed, or the areas themselves."""
    listed = campaign.history_areas
    if listed is None:
        return None
    if campaign.history_since == seen[0]:  # the list began right after the reader's version
        return listed.split(",")
    # Or it was running then: it has only grown since (a new list starts from a fresh random
    # version, never an older list's).
    before = seen[2]
    if campaign.history_since == seen[1] and before is not None and listed.startswith(before + ","):
        return listed[len(before) + 1 :].split(",")
    return None


def history_marks(campaign: Campaign) -> tuple[int, int, str | None]:
    return campaign.history_version, campaign.history_since, campaign.history_areas


def touches_history(timezone: str, earliest: date) -> bool:
    """Whether a change of tallies from `earliest` on changes past days (`history_version`)."""
    return earliest < (calendar.now_utc().astimezone(calendar.zone(timezone)) + _MIDNIGHT_MARGIN).date()


def tallies_changed_values(timezone: str, earliest: date) -> dict[str, Any]:
    """The new versions of a campaign whose tallies changed from `earliest` on, for a writer that
    sets them in a statement of its own (`api.tallies.writer.add_recordings` on PostgreSQL: last,
    in the same statement as its other changes); then `loaded` keeps a loaded row in step."""
    version = new_version()
    return {"data_version": version, **_history_moved(version)} if touches_history(timezone, earliest) else {"data_version": version}


def loaded(session: AsyncSession, campaign_id: int, values: dict[str, Any]) -> None:
    """A Campaign of this session's identity map, if loaded, gets versions set by SQL of its own."""
    from sqlalchemy.orm.attributes import set_committed_value

    campaign = session.identity_map.get(identity_key(Campaign, campaign_id))
    if campaign is not None:
        for key, value in values.items():
            set_committed_value(campaign, key, value)


async def touch_all(session: AsyncSession | AsyncConnection) -> None:
    """Something every campaign may show changed (areas' names or children)."""
    version = new_version()
    if isinstance(session, AsyncSession):
        stmt = update(Campaign).values(data_version=version, **_history_moved(version))
        await session.execute(stmt, execution_options={"synchronize_session": "evaluate"})
    else:  # `rekam areas load` works on a connection
        await session.execute(update(_CAMPAIGNS).values(data_version=version, **_history_moved(version)))
