"""campaigns.milestone: the highest tenth of progress told as `progress.milestone`, so that the
worker's job tells each once (api/flows.py `tell_milestones`)

Revision ID: c1_milestone
Revises: b9_history_areas
Created: 2026-12-07 07:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c1_milestone"
down_revision: str | Sequence[str] | None = "b9_history_areas"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = "milestone >= 0 AND milestone <= 100"


# Plain ALTER TABLE, never batch mode's copy-and-move (see b9_history_areas); SQLite cannot add a
# constraint to a table, so there the check comes with the column.
def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE campaigns ADD COLUMN milestone INTEGER NOT NULL DEFAULT 0 CONSTRAINT ck_campaigns_milestone_percent CHECK ({CHECK})")
        return
    op.execute("ALTER TABLE campaigns ADD COLUMN milestone INTEGER NOT NULL DEFAULT 0")
    op.create_check_constraint(op.f("ck_campaigns_milestone_percent"), "campaigns", CHECK)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_campaigns_milestone_percent"), "campaigns", type_="check")
    op.execute("ALTER TABLE campaigns DROP COLUMN milestone")
