"""remote_caps: one active remote number per point and day per phone, one booking per NIK per day

A campaign switches each cap (both on by default). A ticket taken remotely keeps a keyed hash of
the phone's address while it is active; a booking keeps a keyed hash of the NIK while it stands.
Unique indexes hold the caps (NULLs never collide: numbers issued on site, ended tickets,
cancelled bookings, caps switched off).

Revision ID: b7_remote_caps
Revises: b6_ticket_code
Created: 2026-12-06 19:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7_remote_caps"
down_revision: str | Sequence[str] | None = "b6_ticket_code"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE and CREATE INDEX, never batch mode's copy-and-move: on SQLite, with foreign
# keys on, dropping the old `campaigns` or `tickets` table would delete (or refuse for) the rows
# that point at them.
def upgrade() -> None:
    op.add_column("campaigns", sa.Column("cap_remote_numbers", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("campaigns", sa.Column("cap_bookings_per_nik", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("tickets", sa.Column("holder_hash", sa.String(length=64), nullable=True))
    op.create_index("ux_tickets_holder", "tickets", ["service_point_id", "day", "holder_hash"], unique=True)
    op.add_column("appointments", sa.Column("nik_hash", sa.String(length=64), nullable=True))
    op.create_index("ux_appointments_nik_day", "appointments", ["day", "nik_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_appointments_nik_day", table_name="appointments")
    op.execute("ALTER TABLE appointments DROP COLUMN nik_hash")
    op.drop_index("ux_tickets_holder", table_name="tickets")
    op.execute("ALTER TABLE tickets DROP COLUMN holder_hash")
    op.execute("ALTER TABLE campaigns DROP COLUMN cap_bookings_per_nik")
    op.execute("ALTER TABLE campaigns DROP COLUMN cap_remote_numbers")
