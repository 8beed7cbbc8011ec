"""ticket_line: indexes that find the next ticket in line without sorting the whole line

Call-next takes the first due appointment, else the first elderly or disabled resident, else the
first by number (api/queues/service.py). Each is now one index seek: `ix_tickets_queue` gains
`number`, and two partial indexes hold the few due and flagged tickets. A busy office's day
(thousands of waiting tickets) no longer costs a sort per call.

Revision ID: b8_ticket_line
Revises: b7_remote_caps
Created: 2026-12-06 21:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b8_ticket_line"
down_revision: str | Sequence[str] | None = "b7_remote_caps"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLAGGED = "priority IN ('elderly','disabled')"
DUE = "due_at IS NOT NULL"


def upgrade() -> None:
    op.drop_index("ix_tickets_queue", table_name="tickets")
    op.create_index("ix_tickets_queue", "tickets", ["service_point_id", "day", "status", "number"])
    op.create_index(
        "ix_tickets_due", "tickets", ["service_point_id", "day", "status", "due_at"], sqlite_where=sa.text(DUE), postgresql_where=sa.text(DUE)
    )
    op.create_index(
        "ix_tickets_flagged", "tickets", ["service_point_id", "day", "status", "number"], sqlite_where=sa.text(FLAGGED), postgresql_where=sa.text(FLAGGED)
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_flagged", table_name="tickets")
    op.drop_index("ix_tickets_due", table_name="tickets")
    op.drop_index("ix_tickets_queue", table_name="tickets")
    op.create_index("ix_tickets_queue", "tickets", ["service_point_id", "day", "status"])
