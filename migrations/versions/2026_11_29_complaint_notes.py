"""complaint entries: internal notes

Revision ID: a9_complaint_notes
Revises: a8_campaign_data_version
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a9_complaint_notes"
down_revision: str | Sequence[str] | None = "a8_campaign_data_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "'transition','reply','message','assignment','sanction'"


def _kinds(kinds: str) -> None:
    # SQLite cannot alter a CHECK constraint: the batch rebuilds the table (it has no triggers).
    with op.batch_alter_table("complaint_entries") as batch_op:
        batch_op.drop_constraint(op.f("ck_complaint_entries_kind"), type_="check")
        batch_op.create_check_constraint("kind", f"kind IN ({kinds})")


def upgrade() -> None:
    _kinds(KINDS + ",'note'")


def downgrade() -> None:
    op.execute("DELETE FROM complaint_entries WHERE kind = 'note'")
    _kinds(KINDS)
