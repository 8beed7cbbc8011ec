"""visits: home-visit requests and their history

Revision ID: a5_visits
Revises: 2ce35ba89f6a
Created: 2026-11-29 06:31:44.975706
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a5_visits'
down_revision: str | Sequence[str] | None = 'a1_access'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('home_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tracking_code', sa.String(length=16), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('area_code', sa.String(length=40).with_variant(sa.String(length=40, collation='C'), 'postgresql'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('nik', sa.String(length=16), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=False),
    sa.Column('reason', sa.String(length=10), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.Column('preferred_dates', sa.JSON(), nullable=False),
    sa.Column('consented_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('requested_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('priority', sa.String(length=8), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('operator_id', sa.Integer(), nullable=True),
    sa.Column('visit_date', sa.Date(), nullable=True),
    sa.Column('window_start', sa.Time(), nullable=True),
    sa.Column('window_end', sa.Time(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("priority IS NULL OR priority IN ('urgent','high','normal','low')", name=op.f('ck_home_visits_priority')),
    sa.CheckConstraint("reason IN ('sick','disabled','elderly','other')", name=op.f('ck_home_visits_reason')),
    sa.CheckConstraint("status IN ('submitted','triaged','scheduled','visited','unreachable','cancelled')", name=op.f('ck_home_visits_status')),
    sa.CheckConstraint("status NOT IN ('scheduled','visited') OR (device_id IS NOT NULL AND operator_id IS NOT NULL AND visit_date IS NOT NULL AND window_start IS NOT NULL AND window_end IS NOT NULL)", name=op.f('ck_home_visits_scheduled_has_plan')),
    sa.CheckConstraint('length(nik) = 16', name=op.f('ck_home_visits_nik_length')),
    sa.CheckConstraint('window_start IS NULL OR window_end > window_start', name=op.f('ck_home_visits_window_order')),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], name=op.f('fk_home_visits_area_code_areas')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_home_visits_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_home_visits_device_id_devices')),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_home_visits_operator_id_operators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_home_visits')),
    sa.UniqueConstraint('tracking_code', name=op.f('uq_home_visits_tracking_code'))
    )
    with op.batch_alter_table('home_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_home_visits_area_code'), ['area_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_home_visits_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index('ix_home_visits_device_day', ['device_id', 'visit_date'], unique=False)
        batch_op.create_index('ix_home_visits_operator_day', ['operator_id', 'visit_date'], unique=False)
        batch_op.create_index('ix_home_visits_status_requested', ['status', 'requested_on'], unique=False)
        batch_op.create_index('uq_home_visits_open_nik', ['nik'], unique=True, sqlite_where=sa.text("status IN ('submitted','triaged','scheduled')"), postgresql_where=sa.text("status IN ('submitted','triaged','scheduled')"))

    op.create_table('home_visit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('home_visit_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('from_status', sa.String(length=12), nullable=True),
    sa.Column('to_status', sa.String(length=12), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("to_status IN ('submitted','triaged','scheduled','visited','unreachable','cancelled')", name=op.f('ck_home_visit_events_to_status')),
    sa.ForeignKeyConstraint(['home_visit_id'], ['home_visits.id'], name=op.f('fk_home_visit_events_home_visit_id_home_visits'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_home_visit_events'))
    )
    with op.batch_alter_table('home_visit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_home_visit_events_home_visit_id'), ['home_visit_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('home_visit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_home_visit_events_home_visit_id'))

    op.drop_table('home_visit_events')
    with op.batch_alter_table('home_visits', schema=None) as batch_op:
        batch_op.drop_index('uq_home_visits_open_nik', sqlite_where=sa.text("status IN ('submitted','triaged','scheduled')"), postgresql_where=sa.text("status IN ('submitted','triaged','scheduled')"))
        batch_op.drop_index('ix_home_visits_status_requested')
        batch_op.drop_index('ix_home_visits_operator_day')
        batch_op.drop_index('ix_home_visits_device_day')
        batch_op.drop_index(batch_op.f('ix_home_visits_campaign_id'))
        batch_op.drop_index(batch_op.f('ix_home_visits_area_code'))

    op.drop_table('home_visits')
