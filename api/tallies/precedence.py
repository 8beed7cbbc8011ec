"""Precedence: which sources of a recording count are official, and how the two kinds combine
into one figure per area and day that counts nobody twice.

Rules
- Kinds of source. Official: figures from the recording system or typed by staff (`script`,
  `manual`, and `demo`, which stands in for the recording system in the demo data). Operational:
  counts Rekam derives itself (`queue`: a completed ticket; `home_visit`: a completed visit).
  A campaign whose city has no recording-system export makes its operational counts official
  (`TallyPolicy.operational_official`, `api.tallies.writer.set_policy`, which rebuilds its rollups).
- Precedence. For one area A and day d, an official figure (any official tally posted for A on d)
  supersedes the operational counts of A and of its whole subtree on d: the office's daily total
  already contains the people recorded at its counters and on its home visits. Until an official
  figure arrives, the operational counts stand, marked provisional.
- The figure of a node N on day d is `official + provisional`, where
  official(N, d)    = own official sum of N           if N has official tallies on d,
                      else the sum of official(child, d) over N's children;
  provisional(N, d) = 0                               if N has official tallies on d,
                      else own operational sum of N + the sum of provisional(child, d).
  Equivalently: official(N, d) sums the official tallies of the highest official areas of N's
  subtree (an official figure stands for its subtree, so two levels never add up), and
  provisional(N, d) sums the operational tallies at areas B of N's subtree such that no area
  on the path from N down to B (both included) has an official figure on d. An official figure
  of an ancestor above N does not erase what N's own subtree knows; it only replaces it in the
  ancestor's figure. Whatever order the tallies arrive in, the figure is the same.
- Operational counts are never a discrepancy: a parent's official figure that differs from its
  children's official figures is one (`api.tallies.rollups.level_disagreements`); the difference
  between an official figure and what the queues and home visits counted under it is for staff
  to reconcile (`api.tallies.reconciliation`).
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Executable, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.db import in_one_trip
from api.tallies.models import TallyPolicy

OFFICIAL_SOURCES = frozenset({"manual", "script", "demo"})
OPERATIONAL_SOURCES = frozenset({"queue", "home_visit"})
ALL_OFFICIAL = OFFICIAL_SOURCES | OPERATIONAL_SOURCES


def official_sources(*, operational_official: bool = False) -> frozenset[str]:
    """The sources whose tallies are official under a campaign's policy."""
    return ALL_OFFICIAL if operational_official else OFFICIAL_SOURCES


def policy_read(campaign_id: int) -> Select[bool]:
    """The read of a campaign's policy (`official_from` its rows), for a caller that sends it
    with other statements (`api.db.in_one_trip`)."""
    return select(TallyPolicy.operational_official).where(TallyPolicy.campaign_id == campaign_id)


def official_from(rows: Sequence[Any]) -> frozenset[str]:
    """The official sources by the rows of `policy_read`."""
    return official_sources(operational_official=_operational(rows))


def _operational(rows: Sequence[Any]) -> bool:
    return bool(rows and rows[0][0])  # no row: the default policy


async def operational_official(session: AsyncSession, *, campaign_id: int, after: Sequence[Executable] = ()) -> bool:
    """The campaign's policy: are queue and home-visit counts official? `after`: statements sent
    first in the same round trip (a lock: the policy is then read under it)."""
    *_, rows = await in_one_trip(session, *after, policy_read(campaign_id))
    return _operational(rows)


async def sources_for(session: AsyncSession, *, campaign_id: int, after: Sequence[Executable] = ()) -> frozenset[str]:
    """The official sources of one campaign (`after`: as for `operational_official`)."""
    return official_sources(operational_official=await operational_official(session, campaign_id=campaign_id, after=after))
