"""Daily tallies: the number of recordings made each day, posted by kecamatan offices and scripts.

This module is the domain's face: the router and other domains call the functions named here
(`from api.tallies import service as tallies`). The work and its rules live in modules named for
what they do, each with its rules in its docstring:

- `parsing`: a JSON body or a streamed CSV into numbered raw rows.
- `checks`: which rows are rejected or warned about (`Checker`), and the accepted `Row`.
- `writer`: the one place tallies change (`Writer`), with history, rollups and totals;
  `add_recordings` for recordings made through Rekam (queue tickets, home visits).
- `rollups`: the per-area daily rollups and totals, kept current by the writer, read by dashboards.
- `imports`: posting tallies (atomic, dry run, replace, idempotency), the import log, the CSV template.
- `history`: listing tallies and their history.
- `bulk`: the bulk SQL statements of the writer and the checks.

Rules
- A tally is the number of recordings on one day for one area (a kecamatan or below), optionally
  at one service point and on one device, with its source (`manual` by default, `script`, `demo`;
  `queue` and `home_visit` come from Rekam itself through `add_recordings`). The natural key is
  (campaign, area, date, service point, device): posting a key again replaces its value, never adds.
- Dates are local dates in the campaign's time zone (`api.calendar`).
"""

from api.tallies.history import list_history, list_tallies
from api.tallies.imports import list_imports, post_tallies, template_csv
from api.tallies.models import SOURCES
from api.tallies.rollups import daily_totals, level_disagreements, roll_up, subtree_totals, subtree_totals_until, totals_between
from api.tallies.writer import add_recordings

__all__ = [
    "SOURCES",
    "add_recordings",
    "daily_totals",
    "level_disagreements",
    "list_history",
    "list_imports",
    "list_tallies",
    "post_tallies",
    "roll_up",
    "subtree_totals",
    "subtree_totals_until",
    "template_csv",
    "totals_between",
]
