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


# A unique index rather than a table constraint, and plain ALTER TABLE: on SQLite a constraint
# would make batch mode copy `tickets` into a new table and drop the old one, and with foreign keys
# on, that DROP deletes (or refuses for) the appointments that point at its tickets.
def upgrade() -> None:
    op.add_column("tickets", sa.Column("code", sa.String(length=24), nullable=True))
    op.create_index("ix_tickets_code", "tickets", ["code"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_tickets_code", table_name="tickets")
    op.execute("ALTER TABLE tickets DROP COLUMN code")
