"""what_to_bring: a campaign says what residents bring to be recorded (shown with every service point)

Revision ID: b5_what_to_bring
Revises: b4_home_visit_merges
Created: 2026-12-06 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b5_what_to_bring"
down_revision: str | Sequence[str] | None = "b4_home_visit_merges"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT = "Bawa Kartu Keluarga (KK) asli atau fotokopi"


# Plain ALTER TABLE, never batch mode's copy-and-move: on SQLite, with foreign keys on, dropping
# the old `campaigns` table would delete every tally, target and snapshot that points at it.
def upgrade() -> None:
    op.add_column("campaigns", sa.Column("what_to_bring", sa.String(length=500), nullable=False, server_default=DEFAULT))


def downgrade() -> None:
    op.execute("ALTER TABLE campaigns DROP COLUMN what_to_bring")
