"""campaigns.data_version (changes with every write that can alter a campaign's progress) and
campaigns.history_version (changes when a past day's tallies change): public progress answers carry
an ETag and are cached per version (api/data_versions.py)

Revision ID: a8_campaign_data_version
Revises: a8_operator_accounts
Created: 2026-11-29 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a8_campaign_data_version"
down_revision: str | Sequence[str] | None = "a8_operator_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("data_version", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("history_version", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("history_version")
        batch.drop_column("data_version")
