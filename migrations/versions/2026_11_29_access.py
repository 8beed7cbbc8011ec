"""access: rate-limit counters (failed sign-ins, public writes), audit trail indexes

Revision ID: a1_access
Revises: 2ce35ba89f6a
Created: 2026-11-29 06:12:07.531208
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1_access"
down_revision: str | Sequence[str] | None = "2ce35ba89f6a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_counters",
        sa.Column("bucket", sa.String(length=32), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.CheckConstraint("hits > 0", name=op.f("ck_rate_counters_hits_positive")),
        sa.PrimaryKeyConstraint("bucket", "window_start", "key_hash", name=op.f("pk_rate_counters")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entries_actor_name", ["actor_name"], unique=False)
        batch_op.create_index("ix_audit_entries_entity_entity_id", ["entity", "entity_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_entity_entity_id")
        batch_op.drop_index("ix_audit_entries_actor_name")
    op.drop_table("rate_counters")
