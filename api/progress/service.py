"""Progress: recorded so far, remaining, the forecast, the daily series and the discrepancies.

Rules
- A snapshot is a cumulative figure reported for an area as of a date. Progress of an area is
  its highest reported snapshot plus the daily tallies in its subtree dated after it; where an area
  has no snapshot of its own, the figures of its descendants add up (see `_recorded`).
- A parent snapshot that differs from the sum of its children's at the same date is a
  discrepancy: shown, never fixed. So is an area's own daily tally that differs from the sum of
  its children's tallies of the same day (daily totals posted at two levels; the parent's counts).
- Progress is read from the tallies' daily rollups, never from raw tallies (asked of the tallies
  service). "Today" is the campaign's (api.calendar, in the campaign's time zone).
- Each figure comes in parts (`api.tallies.precedence`): `recorded` = `official` (snapshots and
  official tallies) + `provisional` (queue and home-visit counts no official figure covers yet);
  nothing is counted twice. A snapshot is official and replaces what its subtree counted up to
  its date, provisional counts included. `by_source` adds what the queues and home visits counted
  (superseded counts included), for comparison. An area with no figure at all (`reported` false)
  has not reported yet: it is not "behind", it is unknown.
- Discrepancies: staff see all of them (snapshot and tally); the public sees the plain one that
  matters to residents, the campaign area's own reported total against its children's.
- Each node's forecast follows `campaigns.forecast`.
- The first read after a change (cold) is cheap: the nodes in view with their targets and totals,
  the campaign's newest snapshots, the operational counts and, when the kept ones are out of date,
  the 7-day sums come in one query (`_in_view`); the 7-day sums and what each snapshot dated
  before today covers are kept per campaign with its history version and date (only a past day's
  tally changes them); each node is serialized once per inputs and kept per campaign
  (`progress_json`), so a change recomputes only the nodes whose inputs changed. A tree (root,
  depth) is kept as last answered (`_View`): while the history version and date stay, its areas
  are known and a cold read asks only for the rows of its nodes that changed (`_KEPT_SQL`); so it
  does after a past day's tally, when the campaign's history marks name the areas it changed
  (their nodes and ancestors are read again with their 7-day sums, `_recheck`); and its gzip form
  is made from kept compressed chunks. Everything kept is keyed by what it is
  computed from, or compared with what the database holds now: nothing kept is ever served for
  other inputs.
"""

import io
import json
from collections import defaultdict
from datetime import date, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import Date, Integer, String, bindparam, column, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from api import calendar, csv_cells, rounding
from api.areas import service as areas
from api.areas.models import Area
from api.caching import BodyCache, Encoded, deflated, gzip_member
from api.campaigns import versions
from api.campaigns.forecast import forecast
from api.campaigns.models import Campaign, Snapshot, TargetSource
from api.campaigns.scope import require_area_in_campaign
from api.db import is_postgresql
from api.errors import RuleViolation
from api.progress.schemas import DailyPoint, DailySeries, Discrepancy, ProgressNode
from api.tallies import service as tallies
from api.types import AreaLevel


class Latest(NamedTuple):
    """An area's newest snapshot up to today."""

    area_code: str
    as_of: date
    cumulative: int


async def _latest_snapshots(session: AsyncSession, campaign: Campaign, root: str, until: date) -> dict[str, Latest]:
    latest = (
        select(Snapshot.area_code, func.max(Snapshot.as_of).label("as_of"))
        .where(Snapshot.campaign_id == campaign.id, Snapshot.as_of <= until, areas.in_subtree(Snapshot.area_code, root))
        .group_by(Snapshot.area_code)
        .subquery()
    )
    rows = await session.execute(
        select(Snapshot.area_code, Snapshot.as_of, Snapshot.cumulative)
        .join(latest, (Snapshot.area_code == latest.c.area_code) & (Snapshot.as_of == latest.c.as_of))
        .where(Snapshot.campaign_id == campaign.id)
    )
    return {code: Latest(code, as_of, cumulative) for code, as_of, cumulative in rows}


async def _covered(
    session: AsyncSession, campaign: Campaign, snapshots: dict[str, Latest], today: date, cache: BodyCache | None
) -> dict[tuple[str, date], tallies.Parts]:
    """The tallies each snapshot covers (its subtree's up to its date). Those of snapshots dated
    before today change only with a past day's tally (`history_version`), so they are kept per
    campaign with the history version and date, like the 7-day sums."""
    points = [(s.area_code, s.as_of) for s in snapshots.values()]
    stamp = (campaign.history_version, today)
    kept = cache.value(("snapshot_covered", campaign.id)) if cache is not None else None
    known: dict[tuple[str, date], tallies.Parts] = kept[1] if kept is not None and kept[0] == stamp and len(kept[1]) < MAX_WINDOW_AREAS else {}
    missing = [point for point in points if point not in known]
    if not missing:
        return known
    found = await tallies.subtree_parts_until(session, campaign_id=campaign.id, points=missing)
    result = {**known, **found}
    if cache is not None:
        known.update({point: found.get(point, tallies.Parts()) for point in missing if point[1] < today})
        cache.keep_value(("snapshot_covered", campaign.id), (stamp, known))
    return result


async def _recorded(
    session: AsyncSession,
    campaign: Campaign,
    root: str,
    codes: list[str],
    totals: dict[str, tuple[int, date | None, int]] | None = None,
    snapshots: dict[str, Latest] | None = None,
    cache: BodyCache | None = None,
) -> dict[str, tuple[int, date | None, int]]:
    """Recorded so far, the date of the newest figure, and the provisional part of what is
    recorded, for each code (all inside `root`); `totals`: each code's tally figure, newest day and
    provisional part, and `snapshots`, the campaign's newest ones, when already read.

    recorded(X) = tallies in X's subtree
                  + for each snapshot S counted for X: S.cumulative - tallies in S's subtree up to S.as_of

    A snapshot S counts for X when S is X or below it and no nearer ancestor of S inside X has a
    snapshot of its own: a figure reported for a whole kecamatan stands for its kelurahan's too.
    So a snapshot replaces the tallies it already covers, and tallies after it add on top.
    provisional(X) = provisional tallies in X's subtree - those covered by the snapshots counted for X.
    """
    today = calendar.today(campaign.timezone)
    if snapshots is None:
        snapshots = await _latest_snapshots(session, campaign, root, today)
    if not snapshots and totals is not None:
        return {code: totals.get(code, (0, None, 0)) for code in codes}  # the tallies' figures alone
    # Snapshots above `root` (the city's, when asking about a kecamatan) don't count inside it.
    covered = await _covered(session, campaign, snapshots, today, cache) if snapshots else {}
    contribution: dict[str, int] = defaultdict(int)
    provisional_covered: dict[str, int] = defaultdict(int)
    newest: dict[str, date] = {}
    for code, snapshot in snapshots.items():
        parts = covered.get((code, snapshot.as_of), tallies.Parts())
        value = snapshot.cumulative - parts.figure
        nearest = next((a for a in reversed(areas.ancestors_of(code)) if a in snapshots), None)
        # The snapshot counts for itself and each ancestor strictly below its nearest snapshotted one.
        chain = [code] + list(reversed(areas.ancestors_of(code)))
        for holder in chain:
            if holder == nearest:
                break
            contribution[holder] += value
            provisional_covered[holder] += parts.provisional
            if newest.get(holder) is None or snapshot.as_of > newest[holder]:
                newest[holder] = snapshot.as_of
    if totals is None:
        found = await tallies.subtree_parts(session, campaign_id=campaign.id, codes=codes)
        totals = {code: (parts.figure, last, parts.provisional) for code, (parts, last) in found.items()}
    result = {}
    for code in codes:
        tally_total, last_tally, provisional = totals.get(code, (0, None, 0))
        dates = [d for d in (newest.get(code), last_tally) if d is not None]
        result[code] = (tally_total + contribution.get(code, 0), max(dates) if dates else None, provisional - provisional_covered.get(code, 0))
    return result


_LEVELS = {level.value: level for level in AreaLevel}
_SOURCES = {source.value: source for source in TargetSource}

# The nodes in view (the root and `depth` levels below it) with their target and campaign-wide
# total (tally_totals), one row per node, and after them the campaign's newest snapshot of each
# area up to today (rows without a level: code, cumulative as `target`, date as `last_day`): one
# round trip. With the window, each node's figure on the 7 days that ended yesterday too, from its
# daily rollups (at most 7 rows per node, by their primary key): asked only when the kept 7-day
# sums are out of date (`_last_7_days`), so that a change of a past day costs no second query.
_TREE_SQL = """
WITH RECURSIVE tree(code, name, level, parent_code, depth) AS (
    SELECT code, name, level, parent_code, 0 FROM areas WHERE code = :root
    UNION ALL
    SELECT a.code, a.name, a.level, a.parent_code, tree.depth + 1 FROM areas a JOIN tree ON a.parent_code = tree.code WHERE tree.depth < :depth
)
SELECT tree.code, tree.name, tree.level, tree.parent_code, t.target, t.source, tt.total, tt.last_day, tt.provisional{window}
FROM tree
LEFT JOIN targets t ON t.campaign_id = :campaign_id AND t.area_code = tree.code
LEFT JOIN tally_totals tt ON tt.campaign_id = :campaign_id AND tt.area_code = tree.code
UNION ALL
SELECT s.area_code, NULL, NULL, NULL, s.cumulative, NULL, NULL, s.as_of, NULL{no_window}
FROM snapshots s
WHERE s.campaign_id = :campaign_id
  AND s.as_of = (SELECT MAX(l.as_of) FROM snapshots l WHERE l.campaign_id = :campaign_id AND l.area_code = s.area_code AND l.as_of <= :today){operational}
ORDER BY 1
"""
# With the operational tallies of the root's subtree (rows with a level of '', the count as
# `target`), as `_OPERATIONAL_SQL` reads them for a kept tree.
_TREE_OPERATIONAL_SQL = """
UNION ALL
SELECT o.area_code, NULL, '', NULL, SUM(o.count), o.source, NULL, NULL, NULL{no_window}
FROM {tallies}
WHERE o.campaign_id = :campaign_id AND o.origin_key > 0
  AND (:root = '0' OR o.area_code = :root OR (o.area_code > :below AND o.area_code < :after))
GROUP BY o.area_code, o.source"""
_WINDOW_SQL = """,
    (SELECT SUM(r.total + r.provisional) FROM tally_rollups r
     WHERE r.campaign_id = :campaign_id AND r.area_code = tree.code AND r.day >= :since AND r.day <= :until) AS last_7"""
_COLUMNS: tuple[Any, ...] = (
    column("code", String),
    column("name", String),
    column("level", String),
    column("parent_code", String),
    column("target", Integer),
    column("source", String),
    column("total", Integer),
    column("last_day"),  # a date, as the driver gives it (text on SQLite): see `_day`
    column("provisional", Integer),
)
# SQLite would rather walk the campaign's tallies by the unique index (in area order, for the
# GROUP BY) than read its few operational ones by the partial index: told which index to use.
_TALLIES = {"sqlite": "tallies o INDEXED BY ix_tallies_operational", "postgresql": "tallies o"}


def _tree_statement(*, window: bool, dialect: str | None = None) -> Any:
    """The tree query, with the 7-day sums when `window`, with the operational tallies read as `dialect` best does."""
    no_window = ", NULL" if window else ""
    operational = _TREE_OPERATIONAL_SQL.format(no_window=no_window, tallies=_TALLIES[dialect]) if dialect else ""
    statement = text(_TREE_SQL.format(window=_WINDOW_SQL if window else "", no_window=no_window, operational=operational))
    dates = [bindparam("today", type_=Date)] + ([bindparam("since", type_=Date), bindparam("until", type_=Date)] if window else [])
    return statement.bindparams(*dates).columns(*_COLUMNS, *([column("last_7", Integer)] if window else []))


# The tree with the operational tallies, by dialect and window.
_TREE_STATEMENTS = {(dialect, window): _tree_statement(window=window, dialect=dialect) for dialect in _TALLIES for window in (False, True)}
_PROGRESS_SQL, _PROGRESS_WINDOW_SQL = _tree_statement(window=False), _tree_statement(window=True)


def _day(value: date | str | None) -> date | None:
    """A date column read without SQLAlchemy's type (SQLite gives ISO text, PostgreSQL a date)."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _snapshot(code: str, as_of: date | str, cumulative: int) -> Latest:
    return Latest(code, cast(date, _day(as_of)), cumulative)


# Areas whose 7-day sums are kept per campaign at most (a national tree to the kecamatan is 7,838).
MAX_WINDOW_AREAS = 100_000
# Serialized nodes kept per campaign at most (about 500 bytes each: 10 MB); past it they start over.
MAX_KEPT_NODES = 20_000


def read_key(campaign: Campaign, kind: str, **query: Any) -> tuple[Any, ...]:
    """What a public progress answer depends on: the campaign's data version, the query, and the
    campaign's date (forecasts count days from today). Its ETag and cache entry derive from it."""
    return (kind, campaign.id, campaign.data_version, calendar.today(campaign.timezone).isoformat(), *sorted(query.items()))


def _kept_window(campaign: Campaign, today: date, cache: BodyCache | None) -> dict[str, int] | None:
    """The kept 7-day sums of the campaign, when still current (None: read them again).

    They change only when a past day's tally does (`history_version`), not with today's figures,
    so they are kept per campaign for its current history version and date (one set per campaign:
    an older one is dropped)."""
    kept = cache.value(("last_7_days", campaign.id)) if cache is not None else None
    if kept is None or kept[0] != (campaign.history_version, today) or len(kept[1]) >= MAX_WINDOW_AREAS:
        return None
    return kept[1]


def _keep_window(campaign: Campaign, today: date, cache: BodyCache | None, known: dict[str, int]) -> None:
    if cache is not None:
        cache.keep_value(("last_7_days", campaign.id), ((campaign.history_version, today), known))


async def _last_7_days(session: AsyncSession, campaign: Campaign, codes: list[str], today: date, cache: BodyCache | None) -> dict[str, int]:
    """Tallies of each area's subtree on the 7 days that ended yesterday: the kept sums
    (`_kept_window`), and only areas not seen yet are read."""
    known = _kept_window(campaign, today, cache)
    known = {} if known is None else known
    missing = [code for code in codes if code not in known]
    if missing:
        found = await tallies.totals_between(session, campaign_id=campaign.id, codes=missing, since=today - timedelta(days=7), until=today - timedelta(days=1))
        for code in missing:
            known[code] = found.get(code, 0)
        _keep_window(campaign, today, cache, known)
    return known


# One node's inputs: everything its own fields (all but `children`) are computed from, given the
# campaign's deadline, weekends and date: (name, level, target, target source, recorded, as of,
# provisional, what queues and home visits counted, recorded in the last 7 days).
NodeInputs = tuple[str, str, int | None, str | None, int, date | None, int, tuple[tuple[str, int], ...], int]


async def _in_view(
    session: AsyncSession, *, campaign: Campaign, root_code: str, depth: int, today: date, window: bool, operational: bool = False
) -> tuple[list[Any], dict[str, Latest]]:
    """The rows of the nodes in view (`_PROGRESS_SQL`, with the 7-day sums when `window`) and the
    campaign's newest snapshots, in one round trip; a root outside the campaign is refused. With
    `operational`, the operational tallies of the root's subtree too, after the nodes (level '')."""
    params: dict[str, Any] = {"root": root_code, "depth": depth, "campaign_id": campaign.id, "today": today}
    if window:
        params.update(since=today - timedelta(days=7), until=today - timedelta(days=1))
    if operational:
        params.update(below=root_code + ".", after=root_code + "/")
        statement = _TREE_STATEMENTS[("postgresql" if is_postgresql(session) else "sqlite", window)]
    else:
        statement = _PROGRESS_WINDOW_SQL if window else _PROGRESS_SQL
    found = (await session.execute(statement, params)).all()
    rows, snapshots, counts = [], {}, []
    for row in found:
        if row[2] is None:  # a snapshot
            snapshots[row[0]] = _snapshot(row[0], row[7], row[4])
        elif row[2] == "":
            counts.append(row)
        else:
            rows.append(row)
    if not rows or not areas.is_within(root_code, campaign.root_area_code):
        await require_area_in_campaign(session, campaign, root_code, location="query")  # names the problem
    return rows + counts, snapshots


async def _nodes(
    session: AsyncSession, *, campaign: Campaign, root_code: str, depth: int, today: date, cache: BodyCache | None
) -> list[tuple[str, str | None, NodeInputs]]:
    """(code, parent, inputs) of each node in view, parents before their children, children in
    code order: the tree query, the snapshots, the operational counts (and the 7-day sums when
    the kept ones are out of date, in the tree query itself)."""
    kept = _kept_window(campaign, today, cache)
    rows, snapshots = await _in_view(session, campaign=campaign, root_code=root_code, depth=depth, today=today, window=kept is None)
    codes = [row[0] for row in rows]
    totals = {row[0]: (row[6] or 0, _day(row[7]), row[8] or 0) for row in rows}
    recorded = await _recorded(session, campaign, campaign.root_area_code, codes, totals=totals, snapshots=snapshots, cache=cache)
    counted = await tallies.operational_counts(session, campaign_id=campaign.id, root=root_code, codes=codes)
    if kept is None:
        last_7_days = {row[0]: row[9] or 0 for row in rows}
        _keep_window(campaign, today, cache, dict(last_7_days))
    else:
        last_7_days = await _last_7_days(session, campaign, codes, today, cache)  # reads only areas not seen yet
    return [
        (code, parent, (name, level, target, source, *recorded[code], tuple(counted[code].items()), last_7_days[code]))
        for code, name, level, parent, target, source, *_ in rows
    ]


def _fields(code: str, inputs: NodeInputs, *, campaign: Campaign, today: date, window_days: int, days_left: int, as_json: bool) -> dict[str, Any]:
    """A node's own fields (those of `ProgressNode` but `children`, in its order)."""
    name, level, target, source, value, as_of, provisional, counted, last_7 = inputs
    fields: dict[str, Any] = {
        "code": code,
        "name": name,
        "level": _LEVELS[level],
        "target": target,
        "target_source": None if source is None else _SOURCES[source],
        "recorded": value,
        "as_of": as_of,
        "official": value - provisional,
        "provisional": provisional,
        "reported": as_of is not None or value > 0,
        "by_source": {"official": value - provisional, **dict(counted)},
        "percent": rounding.percent(value, target),
        "remaining": None if target is None else max(target - value, 0),
    }
    forecast(fields, campaign=campaign, today=today, last_7=last_7, window_days=window_days, days_left=days_left)
    if as_json:
        fields["as_of"] = None if as_of is None else as_of.isoformat()
        projected = fields["projected_completion_date"]
        fields["projected_completion_date"] = None if projected is None else projected.isoformat()
    return fields


def _days(campaign: Campaign, today: date) -> tuple[int, int]:
    """Service days in the 7-day window and from tomorrow to the deadline."""
    weekends = campaign.opens_weekends
    window_days = calendar.service_days(today - timedelta(days=7), today - timedelta(days=1), weekends=weekends)
    return window_days, calendar.service_days(today + timedelta(days=1), campaign.deadline, weekends=weekends)


async def progress_tree(
    session: AsyncSession, *, campaign: Campaign, area: str | None = None, depth: int = 1, as_json: bool = False, cache: BodyCache | None = None
) -> dict[str, Any]:
    """The progress tree as plain dicts (the fields of `ProgressNode`, in its order; dates as ISO
    text with `as_json`): a few small queries whatever its size, no model per node."""
    root_code = area or campaign.root_area_code
    today = calendar.today(campaign.timezone)
    nodes = await _nodes(session, campaign=campaign, root_code=root_code, depth=depth, today=today, cache=cache)
    window_days, days_left = _days(campaign, today)
    built: dict[str, dict[str, Any]] = {}
    for code, _parent, inputs in nodes:
        fields = _fields(code, inputs, campaign=campaign, today=today, window_days=window_days, days_left=days_left, as_json=as_json)
        fields["children"] = []
        built[code] = fields
    for code, parent, _inputs in nodes:
        if code != root_code and parent in built:
            built[parent]["children"].append(built[code])
    return built[root_code]


_DUMP = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


# The nodes of a kept view (`_View`) whose target or campaign-wide total changed since it was
# kept, in one round trip with the campaign's newest snapshots (as in `_TREE_SQL`) and the
# operational tallies of the root's subtree (as `tallies.operational_counts` reads them: few, by
# the partial index on the literal `origin_key > 0`), without a walk of the area tree: the view's
# codes come with what the database rendered of their row last time (`seen`, NULL when unknown),
# and only the rows rendered otherwise now come back (a few, not hundreds: the rows are what a
# cold read spends its time on). Each row that comes back brings its 7-day sum (read for those
# rows only), and a node whose 7-day sum may have changed is sent with an unknown rendering.
_KEPT_SQL = """
SELECT 'n' AS kind, k.code, t.target, t.source, tt.total, tt.last_day, tt.provisional, {seen} AS seen,
    (SELECT SUM(r.total + r.provisional) FROM tally_rollups r
     WHERE r.campaign_id = :campaign_id AND r.area_code = k.code AND r.day >= :since AND r.day <= :until) AS last_7
FROM {kept}
LEFT JOIN targets t ON t.campaign_id = :campaign_id AND t.area_code = k.code
LEFT JOIN tally_totals tt ON tt.campaign_id = :campaign_id AND tt.area_code = k.code
WHERE {seen} IS DISTINCT FROM k.seen
UNION ALL
SELECT 's', s.area_code, s.cumulative, NULL, NULL, s.as_of, NULL, NULL, NULL
FROM snapshots s
WHERE s.campaign_id = :campaign_id
  AND s.as_of = (SELECT MAX(l.as_of) FROM snapshots l WHERE l.campaign_id = :campaign_id AND l.area_code = s.area_code AND l.as_of <= :today)
UNION ALL
SELECT 'o', o.area_code, SUM(o.count), o.source, NULL, NULL, NULL, NULL, NULL
FROM {tallies}
WHERE o.campaign_id = :campaign_id AND o.origin_key > 0
  AND (:root = '0' OR o.area_code = :root OR (o.area_code > :below AND o.area_code < :after))
GROUP BY o.area_code, o.source
"""
# No value rendered contains "|" (numbers, dates, a source's name) and NULL renders empty where no
# value does: two different rows never render the same.
_SEEN = "format('%s|%s|%s|%s|%s', t.target, t.source, tt.total, tt.last_day, tt.provisional)"
# The view's codes and renderings come as one JSON object {code: seen} (one parameter; an array
# of pairs took SQLite twice as long, parsing each pair again for each of its two values).
_KEPT_FROM = {
    "sqlite": "(SELECT j.key AS code, j.value AS seen FROM json_each(:kept) AS j) AS k",
    "postgresql": "jsonb_each_text(CAST(:kept AS jsonb)) AS k(code, seen)",
}
_KEPT_STATEMENTS = {
    dialect: text(_KEPT_SQL.format(kept=kept, seen=_SEEN, tallies=_TALLIES[dialect])).bindparams(
        bindparam("today", type_=Date), bindparam("since", type_=Date), bindparam("until", type_=Date)
    )
    for dialect, kept in _KEPT_FROM.items()
}

# A node's row as read: target, target source, tally total, newest tally day, provisional part.
# With the same snapshots, operational counts, history version and date, a node whose row did not
# change has the same inputs (`NodeInputs`): its recorded figure is its total plus what the
# snapshots in its subtree add, and what a snapshot covers changes only with tallies of its
# subtree up to its date, which change this node's total too (no tally is dated after today, and
# a past day's change moves the history version). A past day's change moves its 7-day sum without
# changing its row only in the subtrees of the areas the campaign's history marks name
# (`versions.areas_changed`): those nodes are read again whatever their row (`_recheck`).
Row = tuple[int | None, str | None, int, date | str | None, int]


class _Chunk:
    """Consecutive subtrees of a tree's answer: their bytes, and their `deflated` form once made."""

    __slots__ = ("body", "deflated")

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.deflated: bytes | None = None

    def compressed(self) -> bytes:
        if self.deflated is None:
            self.deflated = deflated(self.body)
        return self.deflated


class _View(NamedTuple):
    """What a tree (root, depth) was last answered from, kept per process: its nodes (parents
    first, children in code order), their rows and serialized fields, and its chunks. The nodes
    (areas) change only with the history version (`touch_all` moves it), so with the same stamp
    (history version, date, deadline, weekends) a cold read asks only for the rows of these codes
    that changed (`_KEPT_SQL`); so it does after past days' tallies changed in areas that the
    campaign's history marks name (`_recheck`)."""

    stamp: tuple[Any, ...]
    history: tuple[int, int, str | None]  # the campaign's history marks (`versions.history_marks`) when kept
    codes: list[str]
    parents: dict[str, str | None]
    shape: dict[str, tuple[str, str]]  # code -> (name, level)
    last_7: dict[str, int]
    snapshots: dict[str, Latest]
    counted: dict[str, tuple[tuple[str, int], ...]]  # only the nodes with operational counts
    rows: dict[str, Row]
    seen: dict[str, str | None]  # code -> "code": its row as the database rendered it (`_SEEN`), in JSON; None: unknown
    pieces: dict[str, bytes]  # code -> its own fields serialized, without the closing brace
    groups: list[list[str]]  # the root's children, in runs (`_groups`)
    group_of: dict[str, int]  # code -> its run, for the nodes below the root
    chunks: list[_Chunk]  # one per run


# Nodes of a tree kept as a view at most (about 1.3 KB each with its bytes: a province at depth 2
# is 0.9 MB); a larger tree is walked on every cold read.
MAX_VIEW_NODES = 2_000

_CLOSING = b"]}"
_CLOSING_DEFLATED = deflated(_CLOSING)

# Nodes per chunk of a tree's answer, about: a chunk whose nodes changed is serialized and
# compressed again whole (24 nodes: about 11 KB, 0.2 ms), and each chunk is compressed without the
# others' context (the fewer, the smaller the answer).
CHUNK_NODES = 24


def _groups(root: str, codes: list[str], parents: dict[str, str | None]) -> tuple[list[list[str]], dict[str, int]]:
    """The root's children in runs of subtrees holding about CHUNK_NODES nodes. Runs end where the
    tree's shape says (not its bytes), so that a changed figure never moves another run's bounds."""
    top: dict[str, str] = {}  # code -> its ancestor among the root's children
    sizes: dict[str, int] = defaultdict(int)
    for code in codes:
        parent = parents[code]
        if code == root or parent is None:
            continue
        top[code] = code if parent == root else top[parent]
        sizes[top[code]] += 1
    groups: list[list[str]] = []
    run: list[str] = []
    count = 0
    for child in sizes:  # in the order of `codes`
        run.append(child)
        count += sizes[child]
        if count >= CHUNK_NODES:
            groups.append(run)
            run, count = [], 0
    if run:
        groups.append(run)
    run_of = {child: i for i, group in enumerate(groups) for child in group}
    return groups, {code: run_of[ancestor] for code, ancestor in top.items()}


async def _changed_rows(
    session: AsyncSession, *, campaign: Campaign, root: str, view: _View, today: date, recheck: set[str]
) -> tuple[dict[str, tuple[Row, str, int]], dict[str, Latest], dict[str, tuple[tuple[str, int], ...]]]:
    """The rows of the view's nodes that changed since it was kept, or are to be read again
    (`recheck`), with their rendering and 7-day sum; the campaign's newest snapshots; and what the
    queues and home visits counted in each node's subtree (as `tallies.operational_counts` gives it)."""
    statement = _KEPT_STATEMENTS["postgresql" if is_postgresql(session) else "sqlite"]
    kept = ",".join([entry if (entry := view.seen[code]) is not None and code not in recheck else _seen(code, None) for code in view.codes])
    params = {"kept": "{" + kept + "}", "campaign_id": campaign.id, "today": today, "since": today - timedelta(days=7), "until": today - timedelta(days=1)}
    found = (await session.execute(statement, {**params, "root": root, "below": root + ".", "after": root + "/"})).all()
    rows, snapshots, counts = {}, {}, []
    for kind, code, target, source, total, last_day, provisional, seen, last_7 in found:
        if kind == "n":
            rows[code] = ((target, source, total or 0, last_day, provisional or 0), seen, last_7 or 0)
        elif kind == "s":
            snapshots[code] = _snapshot(code, last_day, target)
        else:
            counts.append((code, source, target))
    return rows, snapshots, _counted(view.parents, counts)


_NO_COUNTS: tuple[tuple[str, int], ...] = (("queue", 0), ("home_visit", 0))


def _recheck(view: _View | None, campaign: Campaign, stamp: tuple[Any, ...]) -> set[str] | None:
    """The nodes of a kept view to read again whatever their row: none with the same history
    version; after past days' tallies changed in areas the campaign's history marks name
    (`versions.areas_changed`), those of the view and their ancestors in it (whose 7-day sums
    they may have moved). None: the view cannot be brought up to date (the tree is walked again)."""
    if view is None or view.stamp[1:] != stamp[1:]:
        return None
    if view.stamp[0] == stamp[0]:
        return set()
    changed = versions.areas_changed(campaign, view.history)
    if changed is None:
        return None
    parents = view.parents
    return {code for area in set(changed) for code in (area, *areas.ancestors_of(area)) if code in parents}


def _counted(nodes: dict[str, Any], counts: list[tuple[str, str, int]]) -> dict[str, tuple[tuple[str, int], ...]]:
    """What the queues and home visits counted in the subtree of each node (a key of `nodes`) per
    source, from the operational tallies' sums per area and source; only the nodes with counts
    (the others: `_NO_COUNTS`)."""
    return {code: tuple(by_source.items()) for code, by_source in tallies.counted_in_subtrees(counts, nodes).items()}


def _seen(code: str, rendered: str | None) -> str:
    """`"code":"rendered"` for the JSON object of `_KEPT_FROM` (one call per node of a walked
    tree: json.dumps costs 2 us a call)."""
    return _JSON_TEXT(code) + ":" + ("null" if rendered is None else _JSON_TEXT(rendered))


_JSON_TEXT = json.encoder.encode_basestring_ascii  # C, exact JSON text


async def progress_json(session: AsyncSession, *, campaign: Campaign, area: str | None = None, depth: int = 1, cache: BodyCache | None = None) -> Encoded:
    """The progress tree serialized, as the `ProgressNode` response model describes it, and the
    means to gzip it.

    Each node's own fields are serialized once per inputs (`NodeInputs`) and kept per campaign
    with the date, deadline and weekends they were computed for: after a change only the nodes
    whose inputs changed (the changed areas and their ancestors) are computed and serialized
    again; the answer is the kept pieces joined (the same bytes as serializing the whole tree).
    A tree (root, depth) is kept as last answered (`_View`): with the same history version and
    date, a cold read asks only for its nodes' rows and computes only the nodes whose row changed;
    the answer is made of chunks (the root's fields, runs of its children's subtrees) of which
    only those holding a changed node are serialized and compressed again."""
    root_code = area or campaign.root_area_code
    today = calendar.today(campaign.timezone)
    stamp = (campaign.history_version, today, campaign.deadline, campaign.opens_weekends)
    key = ("progress_view", campaign.id, root_code, depth)
    view: _View | None = cache.value(key) if cache is not None else None
    recheck = _recheck(view, campaign, stamp)
    if view is not None and recheck is not None:
        codes, parents, shape = view.codes, view.parents, view.shape
        found, snapshots, counted = await _changed_rows(session, campaign=campaign, root=root_code, view=view, today=today, recheck=recheck)
        rows, seen, last_7 = dict(view.rows), dict(view.seen), dict(view.last_7)
        for code, (row, rendered, sum_7) in found.items():
            rows[code], seen[code], last_7[code] = row, _seen(code, rendered), sum_7
        # Every node may have changed when the snapshots did, or, after past days' changes, what
        # those dated before them cover (the rows need not tell: see `Row`).
        if view.snapshots == snapshots and not (snapshots and view.stamp != stamp):
            moved = set(found)
            if counted != view.counted:
                moved.update(code for code in counted.keys() | view.counted.keys() if counted.get(code) != view.counted.get(code))
            changed_codes = [code for code in codes if code in moved]
        else:
            changed_codes = codes
    else:
        kept_window = _kept_window(campaign, today, cache)
        found_rows, snapshots = await _in_view(
            session, campaign=campaign, root_code=root_code, depth=depth, today=today, window=kept_window is None, operational=True
        )
        counts = [row for row in found_rows if row[2] == ""]
        found_rows = found_rows[: len(found_rows) - len(counts)]
        codes, parents, shape, rows, seen, last_7 = [], {}, {}, {}, {}, {}
        unknown = None  # the rendering of the rows: the next read asks for every one once
        for row in found_rows:
            code = row[0]
            codes.append(code)
            parents[code], shape[code], seen[code] = row[3], (row[1], row[2]), unknown
            rows[code] = (row[4], row[5], row[6] or 0, row[7], row[8] or 0)
            if kept_window is None:
                last_7[code] = row[9] or 0
        counted = _counted(parents, [(row[0], row[5], row[4]) for row in counts])
        if kept_window is None:
            _keep_window(campaign, today, cache, dict(last_7))
        else:
            last_7 = await _last_7_days(session, campaign, codes, today, cache)  # reads only areas not seen yet
        if view is not None and (view.codes != codes or view.parents != parents):
            view = None  # other nodes: nothing of it is reused
        changed_codes = codes
    changed = changed_codes
    pieces = dict(view.pieces) if view is not None else {}
    if changed:
        totals = {code: (rows[code][2], _day(rows[code][3]), rows[code][4]) for code in changed}
        recorded = await _recorded(session, campaign, campaign.root_area_code, changed, totals=totals, snapshots=snapshots, cache=cache)
        kept_stamp = stamp[1:]
        kept = cache.value(("progress_nodes", campaign.id)) if cache is not None else None
        known: dict[str, tuple[NodeInputs, bytes]] = kept[1] if kept is not None and kept[0] == kept_stamp and len(kept[1]) < MAX_KEPT_NODES else {}
        days: tuple[int, int] | None = None
        for code in changed:
            target, source, *_ = rows[code]
            inputs: NodeInputs = (*shape[code], target, source, *recorded[code], counted.get(code, _NO_COUNTS), last_7[code])
            piece = known.get(code)
            if piece is None or piece[0] != inputs:
                days = days or _days(campaign, today)
                text_ = _DUMP(_fields(code, inputs, campaign=campaign, today=today, window_days=days[0], days_left=days[1], as_json=True))
                piece = known[code] = (inputs, text_[:-1].encode() + b',"children":[')  # the fields without the closing brace
            pieces[code] = piece[1]
        if cache is not None:
            cache.keep_value(("progress_nodes", campaign.id), (kept_stamp, known))
    children: dict[str, list[str]] = defaultdict(list)
    for code in codes:
        parent = parents[code]
        if code != root_code and parent is not None:
            children[parent].append(code)

    def serialized(code: str) -> bytes:
        return pieces[code] + b",".join([serialized(child) for child in children.get(code, ())]) + _CLOSING

    groups, group_of = (view.groups, view.group_of) if view is not None else _groups(root_code, codes, parents)
    # A chunk is made again when a node of it got other bytes (each the same object when kept).
    stale = {group_of.get(code, -1) for code in changed if view is None or pieces[code] is not view.pieces.get(code)}
    chunks = []
    for i, group in enumerate(groups):
        if view is None or i in stale:
            chunks.append(_Chunk((b"," if i else b"") + b",".join([serialized(child) for child in group])))
        else:
            chunks.append(view.chunks[i])
    if cache is not None and len(codes) <= MAX_VIEW_NODES:
        history = versions.history_marks(campaign)
        cache.keep_value(key, _View(stamp, history, codes, parents, shape, last_7, snapshots, counted, rows, seen, pieces, groups, group_of, chunks))
    head = pieces[root_code]
    body = b"".join([head, *(chunk.body for chunk in chunks), _CLOSING])

    def gzipped() -> bytes:
        return gzip_member([deflated(head), *(chunk.compressed() for chunk in chunks), _CLOSING_DEFLATED], body)

    fresh = len(head) + sum(len(chunk.body) for chunk in chunks if chunk.deflated is None)
    return Encoded(body, gzipped, fresh)


async def progress(session: AsyncSession, *, campaign: Campaign, area: str | None = None, depth: int = 1, cache: BodyCache | None = None) -> ProgressNode:
    return ProgressNode.model_validate(await progress_tree(session, campaign=campaign, area=area, depth=depth, cache=cache))


PROGRESS_CSV_COLUMNS: tuple[Any, ...] = (
    "code",
    "name",
    "level",
    "target",
    "recorded",
    "as_of",
    "percent",
    "remaining",
    "recorded_last_7_days",
    "rate_7d",
    "service_days_left",
    "required_per_day",
    "projected_completion_date",
    "on_track",
    "official",
    "provisional",
    "reported",
    "counted_queue",
    "counted_home_visit",
)


async def progress_csv(session: AsyncSession, *, campaign: Campaign, area: str | None = None, depth: int = 1, cache: BodyCache | None = None) -> str:
    """The progress table, one row per area (parents before their children), for spreadsheets."""
    root = await progress(session, campaign=campaign, area=area, depth=depth, cache=cache)
    out = io.StringIO()
    writer = csv_cells.writer(out, lineterminator="\r\n")  # area names are text staff typed (RW, RT)
    writer.writerow(PROGRESS_CSV_COLUMNS)
    stack = [root]
    while stack:
        node = stack.pop()
        values = node.model_dump(include=set(PROGRESS_CSV_COLUMNS))
        values["counted_queue"], values["counted_home_visit"] = node.by_source.get("queue", 0), node.by_source.get("home_visit", 0)
        writer.writerow(["" if values[c] is None else values[c] for c in PROGRESS_CSV_COLUMNS])
        stack.extend(reversed(node.children))
    return out.getvalue()


MAX_SERIES_DAYS = 3660


async def daily(
    session: AsyncSession, *, campaign: Campaign, area: str | None = None, since: date | None = None, until: date | None = None, cache: BodyCache | None = None
) -> DailySeries:
    """Recordings per day and the cumulative figure at the end of each day.

    cumulative(d) = recorded now - tallies after d: before a snapshot's date this gives the
    snapshot less the tallies between d and it, so the series meets the reported figure.
    """
    code = area or campaign.root_area_code
    today = calendar.today(campaign.timezone)
    # The area's row, its campaign-wide total and the snapshots: one round trip, as for the tree.
    rows, snapshots = await _in_view(session, campaign=campaign, root_code=code, depth=0, today=today, window=False)
    start, end = since or campaign.start_date, until or today
    if end < start:
        raise RuleViolation.on_field("to", location="query", code="range.reversed")
    if (end - start).days >= MAX_SERIES_DAYS:
        raise RuleViolation.on_field("from", location="query", code="range.too_long", params={"days": MAX_SERIES_DAYS})
    totals = {row[0]: (row[6] or 0, _day(row[7]), row[8] or 0) for row in rows}
    now_recorded, _, _ = (await _recorded(session, campaign, campaign.root_area_code, [code], totals=totals, snapshots=snapshots, cache=cache))[code]
    per_day = await tallies.daily_parts(session, campaign_id=campaign.id, code=code, since=start, until=max(end, today))
    after = sum(parts.figure for day, parts in per_day.items() if day > end)
    points = []
    empty = tallies.Parts()
    for offset in range((end - start).days, -1, -1):
        day = start + timedelta(days=offset)
        parts = per_day.get(day, empty)
        points.append(DailyPoint(date=day, recorded=parts.figure, official=parts.official, provisional=parts.provisional, cumulative=now_recorded - after))
        after += parts.figure
    points.reverse()
    return DailySeries(area=code, start=start, end=end, days=points)


async def discrepancies(session: AsyncSession, *, campaign: Campaign, area: str | None = None, public: bool = False) -> list[Discrepancy]:
    """Parents whose snapshot (or own daily tally) differs from the sum of their children's of the
    same date; `public`: only the campaign area's own reported totals against its children's."""
    root = area or campaign.root_area_code
    if public:
        found = await discrepancies(session, campaign=campaign, area=area)
        return [d for d in found if d.kind == "snapshot" and d.area == campaign.root_area_code]
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
    child_counts = (
        dict((await session.execute(select(Area.parent_code, func.count()).where(Area.parent_code.in_(parents)).group_by(Area.parent_code))).all())
        if parents
        else {}
    )
    result = []
    for (code, as_of), total in sorted(children_sum.items()):
        reported = by_key[(code, as_of)].cumulative
        if reported != total:
            result.append(
                Discrepancy(
                    area=code,
                    as_of=as_of,
                    reported=reported,
                    children_sum=total,
                    difference=reported - total,
                    children_reporting=children_reporting[(code, as_of)],
                    children_total=child_counts.get(code, 0),
                )
            )
    for code, day, own, below, reporting in sorted(tally_rows):
        result.append(
            Discrepancy(
                area=code,
                as_of=day,
                reported=own,
                children_sum=below,
                difference=own - below,
                children_reporting=reporting,
                children_total=child_counts.get(code, 0),
                kind="tally",
            )
        )
    return result
