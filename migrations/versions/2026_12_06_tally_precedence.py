"""tallies: official and operational sources (api/tallies/precedence.py). Rollups and totals get a
provisional part next to the official one; a per-campaign policy says whether queue and home-visit
counts are official. The rollups are recomputed from the raw tallies under the new rule: a figure
changes only where an official figure and operational counts of the same area and day were added
up (the double count the rule removes), or where operational counts at two levels hid each other.

Revision ID: b3_tally_precedence
Revises: b2_notifications
Create Date: 2026-12-06
"""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "b3_tally_precedence"
down_revision: str | Sequence[str] | None = "b2_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AREA_CODE = sa.String(length=40).with_variant(sa.String(length=40, collation="C"), "postgresql")
OFFICIAL = {"manual", "script", "demo"}


def _rollups(*, parts: bool) -> None:
    extra: list[Any] = []
    if parts:
        extra = [
            sa.Column("op_own", sa.Integer(), server_default="0", nullable=False),
            sa.Column("op_below", sa.Integer(), server_default="0", nullable=False),
            sa.Column("provisional", sa.Integer(), server_default="0", nullable=False),
            sa.CheckConstraint("op_own >= 0 AND op_below >= 0", name=op.f("ck_tally_rollups_operational_not_negative")),
            sa.CheckConstraint("provisional = CASE WHEN own_rows > 0 THEN 0 ELSE op_own + op_below END", name=op.f("ck_tally_rollups_provisional")),
        ]
    op.create_table(
        "tally_rollups",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("area_code", AREA_CODE, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("own", sa.Integer(), nullable=False),
        sa.Column("own_rows", sa.Integer(), nullable=False),
        sa.Column("below", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        *extra,
        sa.CheckConstraint("own >= 0 AND own_rows >= 0 AND below >= 0", name=op.f("ck_tally_rollups_not_negative")),
        sa.CheckConstraint("total = CASE WHEN own_rows > 0 THEN own ELSE below END", name=op.f("ck_tally_rollups_total")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_tally_rollups_campaign_id_campaigns"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "area_code", "day", name=op.f("pk_tally_rollups")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "tally_totals",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("area_code", AREA_CODE, nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        *([sa.Column("provisional", sa.Integer(), server_default="0", nullable=False)] if parts else []),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.CheckConstraint("total >= provisional AND provisional >= 0" if parts else "total >= 0", name=op.f("ck_tally_totals_not_negative")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_tally_totals_campaign_id_campaigns"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "area_code", name=op.f("pk_tally_totals")),
        sqlite_with_rowid=False,
    )


def _parent(code: str) -> str:
    return code.rsplit(".", 1)[0] if "." in code else ""


def _recompute(*, parts: bool) -> None:
    """Rollups and totals from the raw tallies: with `parts`, under the rule of
    api/tallies/precedence.py (every campaign on the default policy); without, the rule before it
    (every source alike: an area's own tallies stand for its subtree)."""
    bind = op.get_bind()
    roots = dict(bind.execute(sa.text("SELECT id, root_area_code FROM campaigns")).all())
    grouped = bind.execute(sa.text("SELECT campaign_id, area_code, day, source, SUM(count), COUNT(*) FROM tallies GROUP BY campaign_id, area_code, day, source"))
    # (campaign, day) -> area -> [own, own_rows, op_own]
    own: dict[tuple[int, Any], dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for campaign_id, area, day, source, count, rows in grouped:
        entry = own[(campaign_id, day)][area]
        if not parts or source in OFFICIAL:
            entry[0] += int(count)
            entry[1] += int(rows)
        else:
            entry[2] += int(count)
    rollups: list[dict[str, Any]] = []
    totals: dict[tuple[int, str], list[Any]] = {}
    for (campaign_id, day), areas in own.items():
        root = roots[campaign_id]
        depth = root.count(".")
        children: dict[str, set[str]] = defaultdict(set)
        nodes = set()
        for area in areas:
            code = area
            nodes.add(code)
            while code != root and code.count(".") > depth:
                parent = _parent(code)
                children[parent].add(code)
                nodes.add(parent)
                code = parent
        values: dict[str, tuple[int, int]] = {}
        for code in sorted(nodes, key=lambda c: -c.count(".")):  # children first
            o, rows, op_own = areas.get(code, (0, 0, 0))
            below = sum(values[c][0] for c in children.get(code, ()))
            op_below = sum(values[c][1] for c in children.get(code, ()))
            total = o if rows > 0 else below
            provisional = 0 if rows > 0 else op_own + op_below
            values[code] = (total, provisional)
            row = {"c": campaign_id, "a": code, "d": day, "o": o, "r": rows, "b": below, "t": total}
            if parts:
                row.update(po=op_own, pb=op_below, p=provisional)
            rollups.append(row)
            entry = totals.setdefault((campaign_id, code), [0, 0, None])
            entry[0] += total
            entry[1] += provisional
            if total + provisional > 0 and (entry[2] is None or str(day) > str(entry[2])):
                entry[2] = day
    if parts:
        insert_rollup = "INSERT INTO tally_rollups (campaign_id, area_code, day, own, own_rows, below, total, op_own, op_below, provisional) VALUES (:c, :a, :d, :o, :r, :b, :t, :po, :pb, :p)"
        insert_total = "INSERT INTO tally_totals (campaign_id, area_code, total, provisional, last_day) VALUES (:c, :a, :t, :p, :d)"
    else:
        insert_rollup = "INSERT INTO tally_rollups (campaign_id, area_code, day, own, own_rows, below, total) VALUES (:c, :a, :d, :o, :r, :b, :t)"
        insert_total = "INSERT INTO tally_totals (campaign_id, area_code, total, last_day) VALUES (:c, :a, :t, :d)"
    for start in range(0, len(rollups), 5000):
        bind.execute(sa.text(insert_rollup), rollups[start : start + 5000])
    rows = [{"c": c, "a": a, "t": t + p, "p": p, "d": d} if parts else {"c": c, "a": a, "t": t + p, "d": d} for (c, a), (t, p, d) in totals.items()]
    for start in range(0, len(rows), 5000):
        bind.execute(sa.text(insert_total), rows[start : start + 5000])


ORIGIN = "CASE source WHEN 'queue' THEN 1 WHEN 'home_visit' THEN 2 ELSE 0 END"
OLD_KEY = ["campaign_id", "area_code", "day", "point_key", "device_key"]


def upgrade() -> None:
    # Recordings counted by Rekam (queue, home visit) get tallies of their own, apart from posted figures.
    with op.batch_alter_table("tallies") as batch_op:
        batch_op.add_column(sa.Column("origin_key", sa.Integer(), server_default="0", nullable=False))
    op.execute(f"UPDATE tallies SET origin_key = {ORIGIN}")
    with op.batch_alter_table("tallies") as batch_op:
        batch_op.drop_constraint(op.f("uq_tallies_campaign_id_area_code_day_point_key_device_key"), type_="unique")
        batch_op.create_unique_constraint(op.f("uq_tallies_campaign_id_area_code_day_point_key_device_key_origin_key"), [*OLD_KEY, "origin_key"])
        batch_op.create_check_constraint("origin_key", f"origin_key = {ORIGIN}")
    op.create_index(
        "ix_tallies_operational", "tallies", ["campaign_id", "day", "area_code"],
        sqlite_where=sa.text("origin_key > 0"), postgresql_where=sa.text("origin_key > 0"),
    )
    op.create_table(
        "tally_policies",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("operational_official", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_tally_policies_campaign_id_campaigns"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_tally_policies")),
    )
    op.drop_table("tally_totals")
    op.drop_table("tally_rollups")
    _rollups(parts=True)
    _recompute(parts=True)


def downgrade() -> None:
    op.drop_table("tally_policies")
    op.drop_index("ix_tallies_operational", table_name="tallies")
    # Tallies that now share a key are merged into one (their counts add up, as they did before).
    op.execute(
        "UPDATE tallies SET count = (SELECT SUM(o.count) FROM tallies o WHERE o.campaign_id = tallies.campaign_id AND o.area_code = tallies.area_code "
        "AND o.day = tallies.day AND o.point_key = tallies.point_key AND o.device_key = tallies.device_key) WHERE origin_key = (SELECT MIN(o.origin_key) "
        "FROM tallies o WHERE o.campaign_id = tallies.campaign_id AND o.area_code = tallies.area_code AND o.day = tallies.day AND o.point_key = tallies.point_key "
        "AND o.device_key = tallies.device_key)"
    )
    op.execute(
        "DELETE FROM tallies WHERE origin_key > (SELECT MIN(o.origin_key) FROM tallies o WHERE o.campaign_id = tallies.campaign_id "
        "AND o.area_code = tallies.area_code AND o.day = tallies.day AND o.point_key = tallies.point_key AND o.device_key = tallies.device_key)"
    )
    with op.batch_alter_table("tallies") as batch_op:
        batch_op.drop_constraint(op.f("ck_tallies_origin_key"), type_="check")
        batch_op.drop_constraint(op.f("uq_tallies_campaign_id_area_code_day_point_key_device_key_origin_key"), type_="unique")
        batch_op.create_unique_constraint(op.f("uq_tallies_campaign_id_area_code_day_point_key_device_key"), OLD_KEY)
        batch_op.drop_column("origin_key")
    op.drop_table("tally_totals")
    op.drop_table("tally_rollups")
    _rollups(parts=False)
    _recompute(parts=False)
