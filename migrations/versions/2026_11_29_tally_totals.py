"""tally_totals: each area's campaign-wide figure next to the daily rollups (progress reads one row per area);
on SQLite, tally_rollups and tally_totals are WITHOUT ROWID tables (the primary key is the table, so
reading a day's total is one index search and writing a rollup one B-tree insert)

Revision ID: a7_tally_totals
Revises: a2_tallies
Created: 2026-11-29 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7_tally_totals"
down_revision: str | Sequence[str] | None = "a2_tallies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


AREA_CODE = sa.String(length=40).with_variant(sa.String(length=40, collation="C"), "postgresql")


def _rollups(name: str, *, with_rowid: bool) -> None:
    op.create_table(
        name,
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("area_code", AREA_CODE, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("own", sa.Integer(), nullable=False),
        sa.Column("own_rows", sa.Integer(), nullable=False),
        sa.Column("below", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.CheckConstraint("own >= 0 AND own_rows >= 0 AND below >= 0", name=op.f("ck_tally_rollups_not_negative")),
        sa.CheckConstraint("total = CASE WHEN own_rows > 0 THEN own ELSE below END", name=op.f("ck_tally_rollups_total")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_tally_rollups_campaign_id_campaigns"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "area_code", "day", name=op.f("pk_tally_rollups")),
        sqlite_with_rowid=with_rowid,
    )


def _rebuild_rollups(*, with_rowid: bool) -> None:
    """SQLite only: a table's rowid cannot be altered, so copy the rollups into a rebuilt table."""
    _rollups("tally_rollups_rebuilt", with_rowid=with_rowid)
    op.execute("INSERT INTO tally_rollups_rebuilt (campaign_id, area_code, day, own, own_rows, below, total) SELECT campaign_id, area_code, day, own, own_rows, below, total FROM tally_rollups")
    op.drop_table("tally_rollups")
    op.rename_table("tally_rollups_rebuilt", "tally_rollups")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_rollups(with_rowid=False)
    op.create_table(
        "tally_totals",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("area_code", AREA_CODE, nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.CheckConstraint("total >= 0", name=op.f("ck_tally_totals_not_negative")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_tally_totals_campaign_id_campaigns"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "area_code", name=op.f("pk_tally_totals")),
        sqlite_with_rowid=False,
    )
    # Existing rollups: their sums become the totals.
    op.execute(
        "INSERT INTO tally_totals (campaign_id, area_code, total, last_day) "
        "SELECT campaign_id, area_code, SUM(total), MAX(CASE WHEN total > 0 THEN day END) FROM tally_rollups GROUP BY campaign_id, area_code"
    )


def downgrade() -> None:
    op.drop_table("tally_totals")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_rollups(with_rowid=True)
