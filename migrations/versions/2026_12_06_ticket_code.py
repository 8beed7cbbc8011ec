"""ticket_code: a ticket's secret code, the resident's key to reading it (its own address on the phone)

Older tickets have none: nobody reads them that way.

Revision ID: b6_ticket_code
Revises: b5_what_to_bring
Created: 2026-12-06 16:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b6_ticket_code"
down_revision: str | Sequence[str] | None = "b5_what_to_bring"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=24), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_tickets_code"), ["code"])


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_tickets_code"), type_="unique")
        batch_op.drop_column("code")
