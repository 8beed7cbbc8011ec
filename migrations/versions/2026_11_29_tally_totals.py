"""tally_totals: each area's campaign-wide figure next to the daily rollups (progress reads one row per area)

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


def upgrade() -> None:
    op.create_table(
        "tally_totals",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.String(length=40).with_variant(sa.String(length=40, collation="C"), "postgresql"), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.CheckConstraint("total >= 0", name=op.f("ck_tally_totals_not_negative")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_tally_totals_campaign_id_campaigns"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "area_code", name=op.f("pk_tally_totals")),
    )
    # Existing rollups: their sums become the totals.
    op.execute(
        "INSERT INTO tally_totals (campaign_id, area_code, total, last_day) "
        "SELECT campaign_id, area_code, SUM(total), MAX(CASE WHEN total > 0 THEN day END) FROM tally_rollups GROUP BY campaign_id, area_code"
    )


def downgrade() -> None:
    op.drop_table("tally_totals")
