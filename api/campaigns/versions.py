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
changes. The forecast's 7-day sums read only past days, so they are kept per history version and
survive the steady stream of today's figures (queue tickets, offices posting the day).

Versions are fresh random numbers rather than counters, so that a database restored from a backup
and changed again never reuses a version that a browser or proxy has already seen.

Why a body may be cached under the version read at the start of a request: the reader loads the
campaign row first, so everything it reads afterwards is at least as new as that version. A body
stored under a version can therefore only be newer than it, never older, and every later write
sets a new version that no stored body carries.
"""

import secrets
from datetime import date, timedelta
from typing import cast

from sqlalchemy import Table, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm.util import identity_key

from api import calendar
from api.campaigns.models import Campaign

# A writer a little before midnight treats today as past already: a reader on a clock slightly
# ahead may have started the next day and cached its 7-day sums, which include today.
_MIDNIGHT_MARGIN = timedelta(minutes=10)


def new_version() -> int:
    return secrets.randbits(62) | 1  # never 0, the value of a row that no write has touched


async def touch(session: AsyncSession, campaign_id: int, *, history: bool = False) -> None:
    """A write changed what the campaign's progress shows (`history`: including past days' tallies)."""
    version = new_version()
    values = {"data_version": version, "history_version": version} if history else {"data_version": version}
    # ORM-enabled UPDATE: a Campaign already loaded in this session gets the new values too.
    await session.execute(update(Campaign).where(Campaign.id == campaign_id).values(**values), execution_options={"synchronize_session": "evaluate"})


async def tallies_changed(session: AsyncSession, campaign_id: int, *, earliest: date) -> None:
    """Tallies of the campaign changed on `earliest` and maybe later days."""
    campaign = await session.get(Campaign, campaign_id)
    await touch(session, campaign_id, history=campaign is None or touches_history(campaign.timezone, earliest))


def touches_history(timezone: str, earliest: date) -> bool:
    """Whether a change of tallies from `earliest` on changes past days (`history_version`)."""
    return earliest < (calendar.now_utc().astimezone(calendar.zone(timezone)) + _MIDNIGHT_MARGIN).date()


def tallies_changed_values(timezone: str, earliest: date) -> dict[str, int]:
    """The new versions of a campaign whose tallies changed from `earliest` on, for a writer that
    sets them in a statement of its own (`api.tallies.writer.add_recordings` on PostgreSQL: last,
    in the same statement as its other changes); then `loaded` keeps a loaded row in step."""
    version = new_version()
    return {"data_version": version, "history_version": version} if touches_history(timezone, earliest) else {"data_version": version}


def loaded(session: AsyncSession, campaign_id: int, values: dict[str, int]) -> None:
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
        stmt = update(Campaign).values(data_version=version, history_version=version)
        await session.execute(stmt, execution_options={"synchronize_session": "evaluate"})
    else:  # `rekam areas load` works on a connection
        await session.execute(
            update(cast(Table, Campaign.__table__)).values(data_version=version, history_version=version)
        )  # mapped with __tablename__: its __table__ is a Table
