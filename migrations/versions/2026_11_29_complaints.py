"""complaints: fee complaints, their reporters (kept apart), log and sanctions; users.operator_id

Revision ID: a6_complaints
Revises: a1_access
Created: 2026-11-29 06:29:18.511313
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.db

revision: str = "a6_complaints"
down_revision: str | Sequence[str] | None = 'a4_services'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('complaints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('finding', sa.String(length=16), nullable=True),
    sa.Column('service_point_id', sa.Integer(), nullable=True),
    sa.Column('area_code', sa.String(length=40).with_variant(sa.String(length=40, collation='C'), 'postgresql'), nullable=False),
    sa.Column('place', sa.String(length=500), nullable=True),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=True),
    sa.Column('operator_description', sa.String(length=500), nullable=True),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('handler_id', sa.Integer(), nullable=True),
    sa.Column('received_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('first_response_at', api.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', api.db.UtcDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status IN ('received','investigating')) = (finding IS NULL)", name=op.f('ck_complaints_finding_matches_status')),
    sa.CheckConstraint("finding IS NULL OR finding IN ('substantiated','unsubstantiated')", name=op.f('ck_complaints_finding')),
    sa.CheckConstraint("status IN ('received','investigating','substantiated','unsubstantiated','action_taken','closed')", name=op.f('ck_complaints_status')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_complaints_amount_positive')),
    sa.CheckConstraint('service_point_id IS NOT NULL OR place IS NOT NULL', name=op.f('ck_complaints_where_given')),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], name=op.f('fk_complaints_area_code_areas')),
    sa.ForeignKeyConstraint(['handler_id'], ['users.id'], name=op.f('fk_complaints_handler_id_users')),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_complaints_operator_id_operators')),
    sa.ForeignKeyConstraint(['service_point_id'], ['service_points.id'], name=op.f('fk_complaints_service_point_id_service_points')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints')),
    sa.UniqueConstraint('receipt', name=op.f('uq_complaints_receipt'))
    )
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaints_area_code'), ['area_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_handler_id'), ['handler_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_operator_id'), ['operator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_received_on'), ['received_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_status'), ['status'], unique=False)

    op.create_table('complaint_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind <> 'message' OR author_id IS NULL", name=op.f('ck_complaint_entries_reporter_is_anonymous')),
    sa.CheckConstraint("kind <> 'transition' OR (from_status IS NOT NULL AND to_status IS NOT NULL)", name=op.f('ck_complaint_entries_transition_states')),
    sa.CheckConstraint("kind IN ('transition','reply','message','assignment','sanction')", name=op.f('ck_complaint_entries_kind')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_complaint_entries_author_id_users')),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_complaint_entries_complaint_id_complaints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_entries'))
    )
    with op.batch_alter_table('complaint_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_entries_complaint_id'), ['complaint_id'], unique=False)

    op.create_table('complaint_reporters',
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('reporter_name', sa.String(length=200), nullable=True),
    sa.Column('reporter_contact', sa.String(length=200), nullable=True),
    sa.CheckConstraint('reporter_name IS NOT NULL OR reporter_contact IS NOT NULL', name=op.f('ck_complaint_reporters_something_given')),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_complaint_reporters_complaint_id_complaints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('complaint_id', name=op.f('pk_complaint_reporters'))
    )
    op.create_table('complaint_sanctions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('warning','suspension','removal')", name=op.f('ck_complaint_sanctions_kind')),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_complaint_sanctions_complaint_id_complaints'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_complaint_sanctions_operator_id_operators')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_complaint_sanctions_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_sanctions')),
    sa.UniqueConstraint('complaint_id', name=op.f('uq_complaint_sanctions_complaint_id'))
    )
    with op.batch_alter_table('complaint_sanctions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_sanctions_operator_id'), ['operator_id'], unique=False)

    # "This account is that operator": keeps complaints about an operator from their own account.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('operator_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_users_operator_id'), ['operator_id'])
        batch_op.create_foreign_key(batch_op.f('fk_users_operator_id_operators'), 'operators', ['operator_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_users_operator_id_operators'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_users_operator_id'), type_='unique')
        batch_op.drop_column('operator_id')

    with op.batch_alter_table('complaint_sanctions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_sanctions_operator_id'))

    op.drop_table('complaint_sanctions')
    op.drop_table('complaint_reporters')
    with op.batch_alter_table('complaint_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_entries_complaint_id'))

    op.drop_table('complaint_entries')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaints_status'))
        batch_op.drop_index(batch_op.f('ix_complaints_received_on'))
        batch_op.drop_index(batch_op.f('ix_complaints_operator_id'))
        batch_op.drop_index(batch_op.f('ix_complaints_handler_id'))
        batch_op.drop_index(batch_op.f('ix_complaints_due_on'))
        batch_op.drop_index(batch_op.f('ix_complaints_area_code'))

    op.drop_table('complaints')
