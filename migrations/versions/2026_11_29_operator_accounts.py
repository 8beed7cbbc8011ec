"""operator_accounts: an operator account linked to a petugas (users.operator_id) needs no service
point: a mobile kit's crew signs in to read its day plan and mark its home visits

Revision ID: a8_operator_accounts
Revises: a7_tally_totals
Created: 2026-11-29 09:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a8_operator_accounts"
down_revision: str | Sequence[str] | None = "a7_tally_totals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUPERVISOR_SCOPE = "(role <> 'supervisor' OR scope_area_code IS NOT NULL)"
OLD_SCOPE = f"{SUPERVISOR_SCOPE} AND (role <> 'operator' OR scope_service_point_id IS NOT NULL)"
NEW_SCOPE = f"{SUPERVISOR_SCOPE} AND (role <> 'operator' OR scope_service_point_id IS NOT NULL OR operator_id IS NOT NULL)"


def _replace_scope(condition: str) -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_scope"), type_="check")
        batch_op.create_check_constraint(op.f("ck_users_scope"), condition)


def upgrade() -> None:
    _replace_scope(NEW_SCOPE)


def downgrade() -> None:
    # Operator accounts without a service point break the old rule: they are deactivated (no
    # sign-in, their tokens stop working) under a role that needs no scope, kept for the audit trail.
    op.execute("UPDATE users SET active = false, role = 'viewer' WHERE role = 'operator' AND scope_service_point_id IS NULL")
    _replace_scope(OLD_SCOPE)
