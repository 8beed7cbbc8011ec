"""Daily tallies: the number of recordings made each day, posted by kecamatan offices and scripts.

This module is the domain's face: the router and other domains call the functions named here
(`from api.tallies import service as tallies`). The work and its rules live in modules named for
what they do, each with its rules in its docstring:

- `parsing`: a JSON body or a streamed CSV into numbered raw rows.
- `checks`: which rows are rejected or warned about (`Checker`), and the accepted `Row`.
- `writer`: the one place tallies change (`Writer`), with history, rollups and totals;
  `add_recordings` for recordings made through Rekam (queue tickets, home visits).
- `precedence`: the kinds of source (official, operational), how they combine into one figure
  per area and day, and the campaign's policy (`set_policy`).
- `rollups`: the per-area daily rollups and totals (official and provisional parts), kept
  current by the writer, read by dashboards.
- `reconciliation`: official figures next to what the queues and home visits counted, for staff.
- `imports`: posting tallies (atomic, dry run, replace, idempotency), the import log, the CSV template.
- `history`: listing tallies and their history.
- `bulk`: the bulk SQL statements of the writer and the checks.

Rules
- A tally is the number of recordings on one day for one area (a kecamatan or below), optionally
  at one service point and on one device, with its source (`manual` by default, `script`, `demo`;
  `queue` and `home_visit` come from Rekam itself through `add_recordings`). The natural key is
  (campaign, area, date, service point, device): posting a key again replaces its value, never adds.
- Official sources (`manual`, `script`, `demo`) and operational ones (`queue`, `home_visit`):
  for one area and day, an official figure supersedes the operational counts of that area and
  its subtree; until one arrives, the operational counts stand, marked provisional. A campaign
  can count its operational sources as official (`set_policy`). The full rule: `precedence`.
- Dates are local dates in the campaign's time zone (`api.calendar`).
"""

from api.tallies.history import list_history, list_tallies
from api.tallies.imports import get_import, list_imports, post_tallies, template_csv
from api.tallies.models import SOURCES
from api.tallies.precedence import (
    OFFICIAL_SOURCES,
    OPERATIONAL_SOURCES,
    operational_official,
    sources_for,
)
from api.tallies.reconciliation import (
    Reconciliation,
    counted_in_subtrees,
    operational_counts,
    reconcile,
    reconciliation,
)
from api.tallies.rollups import (
    Parts,
    daily_parts,
    daily_totals,
    level_disagreements,
    parts_between,
    roll_up,
    subtree_parts,
    subtree_parts_until,
    subtree_totals,
    subtree_totals_until,
    totals_between,
)
from api.tallies.writer import add_recordings, put_point_count, set_policy

__all__ = [
    "OFFICIAL_SOURCES",
    "OPERATIONAL_SOURCES",
    "SOURCES",
    "Parts",
    "Reconciliation",
    "add_recordings",
    "put_point_count",
    "daily_parts",
    "daily_totals",
    "get_import",
    "level_disagreements",
    "list_history",
    "list_imports",
    "list_tallies",
    "counted_in_subtrees",
    "operational_counts",
    "operational_official",
    "parts_between",
    "post_tallies",
    "reconcile",
    "reconciliation",
    "roll_up",
    "set_policy",
    "sources_for",
    "subtree_parts",
    "subtree_parts_until",
    "subtree_totals",
    "subtree_totals_until",
    "template_csv",
    "totals_between",
]
