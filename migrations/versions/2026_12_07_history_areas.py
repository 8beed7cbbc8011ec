"""campaigns.history_since, history_areas: which areas' past days' tallies changed since a history
version, so that kept progress trees re-read only those areas' 7-day sums (api/campaigns/versions.py)

Revision ID: b9_history_areas
Revises: b8_ticket_line
Created: 2026-12-07 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b9_history_areas"
down_revision: str | Sequence[str] | None = "b8_ticket_line"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, never batch mode's copy-and-move: on SQLite, with foreign keys on, dropping
# the old `campaigns` table would delete the rows that point at it.
def upgrade() -> None:
    op.add_column("campaigns", sa.Column("history_since", sa.BigInteger(), nullable=False, server_default="0"))
    op.add_column("campaigns", sa.Column("history_areas", sa.Text(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE campaigns DROP COLUMN history_areas")
    op.execute("ALTER TABLE campaigns DROP COLUMN history_since")
