"""tallies: daily tallies, their history, imports and per-area daily rollups; idempotency records

Revision ID: a2_tallies
Revises: 2ce35ba89f6a
Created: 2026-11-29 06:29:26.323839
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.db

revision: str = 'a2_tallies'
down_revision: str | Sequence[str] | None = 'a6_complaints'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('idempotency_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('caller', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_records')),
    sa.UniqueConstraint('caller', 'key', name=op.f('uq_idempotency_records_caller_key'))
    )
    op.create_table('tally_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('atomic', sa.Boolean(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_tally_imports_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tally_imports'))
    )
    with op.batch_alter_table('tally_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tally_imports_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('tally_rollups',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('area_code', sa.String(length=40).with_variant(sa.String(length=40, collation='C'), 'postgresql'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('own', sa.Integer(), nullable=False),
    sa.Column('own_rows', sa.Integer(), nullable=False),
    sa.Column('below', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.CheckConstraint('own >= 0 AND own_rows >= 0 AND below >= 0', name=op.f('ck_tally_rollups_not_negative')),
    sa.CheckConstraint('total = CASE WHEN own_rows > 0 THEN own ELSE below END', name=op.f('ck_tally_rollups_total')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_tally_rollups_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'area_code', 'day', name=op.f('pk_tally_rollups'))
    )
    op.create_table('tallies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('area_code', sa.String(length=40).with_variant(sa.String(length=40, collation='C'), 'postgresql'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('service_point_id', sa.Integer(), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('point_key', sa.Integer(), nullable=False),
    sa.Column('device_key', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('manual','script','queue','home_visit','demo')", name=op.f('ck_tallies_source')),
    sa.CheckConstraint('count >= 0', name=op.f('ck_tallies_count_not_negative')),
    sa.CheckConstraint('device_key = COALESCE(device_id, 0)', name=op.f('ck_tallies_device_key')),
    sa.CheckConstraint('point_key = COALESCE(service_point_id, 0)', name=op.f('ck_tallies_point_key')),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], name=op.f('fk_tallies_area_code_areas')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_tallies_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_tallies_device_id_devices')),
    sa.ForeignKeyConstraint(['import_id'], ['tally_imports.id'], name=op.f('fk_tallies_import_id_tally_imports'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['service_point_id'], ['service_points.id'], name=op.f('fk_tallies_service_point_id_service_points')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tallies')),
    sa.UniqueConstraint('campaign_id', 'area_code', 'day', 'point_key', 'device_key', name=op.f('uq_tallies_campaign_id_area_code_day_point_key_device_key'))
    )
    op.create_table('tally_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('area_code', sa.String(length=40).with_variant(sa.String(length=40, collation='C'), 'postgresql'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('service_point_id', sa.Integer(), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('old_count', sa.Integer(), nullable=True),
    sa.Column('new_count', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_tally_changes_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['import_id'], ['tally_imports.id'], name=op.f('fk_tally_changes_import_id_tally_imports'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tally_changes'))
    )
    with op.batch_alter_table('tally_changes', schema=None) as batch_op:
        batch_op.create_index('ix_tally_changes_campaign_area_day', ['campaign_id', 'area_code', 'day'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tally_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_tally_changes_campaign_area_day')

    op.drop_table('tally_changes')
    op.drop_table('tallies')
    op.drop_table('tally_rollups')
    with op.batch_alter_table('tally_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tally_imports_campaign_id'))

    op.drop_table('tally_imports')
    op.drop_table('idempotency_records')
