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


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("what_to_bring", sa.String(length=500), nullable=False, server_default=DEFAULT))


def downgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("what_to_bring")
