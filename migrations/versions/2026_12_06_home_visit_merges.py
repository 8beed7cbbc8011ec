"""home_visit_merges: a second request for a resident with an open one is merged into it

Issue #17, item 11: instead of answering 409 (which told anyone that the resident had an open
request), the second submission is kept here, attached to the open request, with its own
tracking code. The open request and its one-per-NIK index are unchanged.

Revision ID: b4_home_visit_merges
Revises: b3_tally_precedence
Created: 2026-12-06 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b4_home_visit_merges"
down_revision: str | Sequence[str] | None = "b3_tally_precedence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "home_visit_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("home_visit_id", sa.Integer(), nullable=False),
        sa.Column("tracking_code", sa.String(length=16), nullable=False),
        sa.Column("area_code", sa.String(length=40).with_variant(sa.String(length=40, collation="C"), "postgresql"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("reason", sa.String(length=10), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("preferred_dates", sa.JSON(), nullable=False),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.CheckConstraint("reason IN ('sick','disabled','elderly','other')", name=op.f("ck_home_visit_merges_reason")),
        sa.ForeignKeyConstraint(["area_code"], ["areas.code"], name=op.f("fk_home_visit_merges_area_code_areas")),
        sa.ForeignKeyConstraint(["home_visit_id"], ["home_visits.id"], name=op.f("fk_home_visit_merges_home_visit_id_home_visits"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_home_visit_merges")),
        sa.UniqueConstraint("tracking_code", name=op.f("uq_home_visit_merges_tracking_code")),
    )
    with op.batch_alter_table("home_visit_merges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_home_visit_merges_home_visit_id"), ["home_visit_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("home_visit_merges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_home_visit_merges_home_visit_id"))
    op.drop_table("home_visit_merges")
