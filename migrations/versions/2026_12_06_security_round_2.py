"""security_round_2: API keys get an owner and an expiry; the server's secret for keyed hashes

Existing keys are owned by their creator, or else by the first admin (lowest id); a key with
neither is revoked. Every existing key expires one year after this migration. The secret that
keys the hashes of rate-limit keys (client addresses, usernames) is generated here, once, so that
every API process reads the same one (REKAM_SECRET_KEY overrides it).

Revision ID: b1_security_round_2
Revises: a9_complaint_notes
Created: 2026-12-06 15:40:00
"""

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from api.db import UtcDateTime

revision: str = "b1_security_round_2"
down_revision: str | Sequence[str] | None = "a9_complaint_notes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("expires_at", UtcDateTime(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_api_keys_owner_id_users"), "users", ["owner_id"], ["id"])
        batch_op.create_index(op.f("ix_api_keys_owner_id"), ["owner_id"], unique=False)

    bind = op.get_bind()
    now = datetime.now(UTC)
    keys = sa.table(
        "api_keys",
        sa.column("id", sa.Integer),
        sa.column("owner_id", sa.Integer),
        sa.column("created_by_user_id", sa.Integer),
        sa.column("expires_at", UtcDateTime()),
        sa.column("revoked_at", UtcDateTime()),
    )
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("role", sa.String))
    first_admin = bind.execute(sa.select(sa.func.min(users.c.id)).where(users.c.role == "admin")).scalar()
    bind.execute(sa.update(keys).values(owner_id=keys.c.created_by_user_id, expires_at=now + timedelta(days=365)))
    if first_admin is not None:
        bind.execute(sa.update(keys).where(keys.c.owner_id.is_(None)).values(owner_id=first_admin))
    bind.execute(sa.update(keys).where(keys.c.owner_id.is_(None), keys.c.revoked_at.is_(None)).values(revoked_at=now))

    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.alter_column("expires_at", existing_type=UtcDateTime(), nullable=False)

    secrets_table = op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_secrets")),
    )
    op.bulk_insert(secrets_table, [{"name": "hash-key", "value": secrets.token_hex(32), "created_at": now}])


def downgrade() -> None:
    op.drop_table("server_secrets")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(op.f("ix_api_keys_owner_id"))
        batch_op.drop_constraint(op.f("fk_api_keys_owner_id_users"), type_="foreignkey")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("owner_id")
