"""notifications: the outbox (events), webhook subscriptions and deliveries, resident contacts and messages, VAPID keys

Revision ID: b2_notifications
Revises: b1_security_round_2
Created: 2026-12-06 15:18:40.114956
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.db

revision: str = "b2_notifications"
down_revision: str | Sequence[str] | None = "b1_security_round_2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notification_keys',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('private_pem', sa.Text(), nullable=False),
    sa.Column('public_key', sa.String(length=200), nullable=False),
    sa.Column('created_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_notification_keys'))
    )
    op.create_table('notification_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=40), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('subject_kind', sa.String(length=16), nullable=True),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("subject_kind IS NULL OR subject_kind IN ('ticket','appointment','home_visit','complaint')", name=op.f('ck_notification_events_subject_kind')),
    sa.CheckConstraint("type IN ('ticket.called','ticket.near','appointment.reminder','home_visit.scheduled','home_visit.rescheduled','home_visit.visited','complaint.replied','complaint.status_changed','tallies.imported','progress.milestone')", name=op.f('ck_notification_events_type')),
    sa.CheckConstraint('(subject_kind IS NULL) = (subject_id IS NULL)', name=op.f('ck_notification_events_subject_complete')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_events')),
    sa.UniqueConstraint('uid', name=op.f('uq_notification_events_uid'))
    )
    with op.batch_alter_table('notification_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_events_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_events_type'), ['type'], unique=False)
        batch_op.create_index('ix_notification_events_subject', ['subject_kind', 'subject_id', 'type'], unique=False)

    op.create_table('resident_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_kind', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=12), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('phone_masked', sa.String(length=20), nullable=True),
    sa.Column('push_subscription', sa.JSON(), nullable=True),
    sa.Column('consent_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('erased_at', api.db.UtcDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("channel IN ('sms','whatsapp','webpush')", name=op.f('ck_resident_contacts_channel')),
    sa.CheckConstraint("erased_at IS NOT NULL OR (channel = 'webpush' AND push_subscription IS NOT NULL) OR (channel <> 'webpush' AND phone IS NOT NULL)", name=op.f('ck_resident_contacts_address_given')),
    sa.CheckConstraint("subject_kind IN ('ticket','appointment','home_visit','complaint')", name=op.f('ck_resident_contacts_subject_kind')),
    sa.CheckConstraint('erased_at IS NULL OR (phone IS NULL AND push_subscription IS NULL)', name=op.f('ck_resident_contacts_erased_is_empty')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resident_contacts')),
    sa.UniqueConstraint('subject_kind', 'subject_id', 'channel', name=op.f('uq_resident_contacts_subject_kind_subject_id_channel'))
    )
    with op.batch_alter_table('resident_contacts', schema=None) as batch_op:
        batch_op.create_index('ix_resident_contacts_phone', ['phone'], unique=False)

    op.create_table('webhook_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('disabled_reason', sa.String(length=500), nullable=True),
    sa.Column('disabled_at', api.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('created_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=True),
    sa.CheckConstraint("url LIKE 'http://%' OR url LIKE 'https://%'", name=op.f('ck_webhook_subscriptions_url_scheme')),
    sa.CheckConstraint('active OR disabled_reason IS NOT NULL', name=op.f('ck_webhook_subscriptions_disabled_has_reason')),
    sa.CheckConstraint('consecutive_failures >= 0', name=op.f('ck_webhook_subscriptions_failures_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscriptions'))
    )
    op.create_table('resident_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=12), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', api.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('claim_token', sa.String(length=40), nullable=True),
    sa.Column('last_attempt_at', api.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', api.db.UtcDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'succeeded') = (delivered_at IS NOT NULL)", name=op.f('ck_resident_messages_delivered_when_succeeded')),
    sa.CheckConstraint("channel IN ('sms','whatsapp','webpush')", name=op.f('ck_resident_messages_channel')),
    sa.CheckConstraint("status IN ('pending','failed','succeeded','dead')", name=op.f('ck_resident_messages_status')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_resident_messages_attempts_not_negative')),
    sa.ForeignKeyConstraint(['contact_id'], ['resident_contacts.id'], name=op.f('fk_resident_messages_contact_id_resident_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['notification_events.id'], name=op.f('fk_resident_messages_event_id_notification_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resident_messages')),
    sa.UniqueConstraint('event_id', 'contact_id', name=op.f('uq_resident_messages_event_id_contact_id'))
    )
    with op.batch_alter_table('resident_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resident_messages_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index('ix_resident_messages_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_resident_messages_event_id'), ['event_id'], unique=False)

    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', api.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('claim_token', sa.String(length=40), nullable=True),
    sa.Column('last_attempt_at', api.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', api.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', api.db.UtcDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'succeeded') = (delivered_at IS NOT NULL)", name=op.f('ck_webhook_deliveries_delivered_when_succeeded')),
    sa.CheckConstraint("status IN ('pending','failed','succeeded','dead')", name=op.f('ck_webhook_deliveries_status')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_webhook_deliveries_attempts_not_negative')),
    sa.ForeignKeyConstraint(['event_id'], ['notification_events.id'], name=op.f('fk_webhook_deliveries_event_id_notification_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscriptions.id'], name=op.f('fk_webhook_deliveries_subscription_id_webhook_subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('event_id', 'subscription_id', name=op.f('uq_webhook_deliveries_event_id_subscription_id'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_subscription_id'), ['subscription_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_subscription_id'))
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_event_id'))
        batch_op.drop_index('ix_webhook_deliveries_due')

    op.drop_table('webhook_deliveries')
    with op.batch_alter_table('resident_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resident_messages_event_id'))
        batch_op.drop_index('ix_resident_messages_due')
        batch_op.drop_index(batch_op.f('ix_resident_messages_contact_id'))

    op.drop_table('resident_messages')
    op.drop_table('webhook_subscriptions')
    with op.batch_alter_table('resident_contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_resident_contacts_phone')

    op.drop_table('resident_contacts')
    with op.batch_alter_table('notification_events', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_events_subject')
        batch_op.drop_index(batch_op.f('ix_notification_events_type'))
        batch_op.drop_index(batch_op.f('ix_notification_events_created_at'))

    op.drop_table('notification_events')
    op.drop_table('notification_keys')
