"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tocsin.store.schema

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contacts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('first_name', sa.String(length=200), server_default='', nullable=False),
    sa.Column('last_name', sa.String(length=200), server_default='', nullable=False),
    sa.Column('language', sa.String(length=16), server_default='', nullable=False),
    sa.Column('organisation', sa.String(length=200), server_default='', nullable=False),
    sa.Column('address_line1', sa.String(length=300), server_default='', nullable=False),
    sa.Column('address_line2', sa.String(length=300), server_default='', nullable=False),
    sa.Column('postal_code', sa.String(length=32), server_default='', nullable=False),
    sa.Column('city', sa.String(length=200), server_default='', nullable=False),
    sa.Column('department', sa.String(length=100), server_default='', nullable=False),
    sa.Column('region', sa.String(length=100), server_default='', nullable=False),
    sa.Column('country', sa.String(length=100), server_default='', nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('opted_out', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('external_id', name=op.f('uq_contacts_external_id'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index('ix_contacts_name', ['last_name', 'first_name'], unique=False)

    op.create_table('groups',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groups')),
    sa.UniqueConstraint('name', name=op.f('uq_groups_name'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=150), nullable=False),
    sa.Column('display_name', sa.String(length=200), server_default='', nullable=False),
    sa.Column('email', sa.String(length=320), server_default='', nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('language', sa.String(length=16), server_default='', nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('created_at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('assignments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('assigner_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('assigned', sa.Boolean(), nullable=False),
    sa.Column('conversation', sa.String(length=200), server_default='', nullable=False),
    sa.Column('at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_assignments_agent_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['assigner_id'], ['users.id'], name=op.f('fk_assignments_assigner_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_assignments_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments'))
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index('ix_assignments_at', ['at'], unique=False)

    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('contract_types', sa.JSON(), nullable=False),
    sa.Column('referent_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['referent_user_id'], ['users.id'], name=op.f('fk_campaigns_referent_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    op.create_table('contact_means',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=320), nullable=False),
    sa.Column('verified', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('preference', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('failing', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_means_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_means')),
    sa.UniqueConstraint('contact_id', 'kind', 'value', name='uq_contact_means_contact_kind_value')
    )
    with op.batch_alter_table('contact_means', schema=None) as batch_op:
        batch_op.create_index('ix_contact_means_value', ['value'], unique=False)

    op.create_table('group_members',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_group_members_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_group_members_group_id_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'contact_id', name=op.f('pk_group_members'))
    )
    with op.batch_alter_table('group_members', schema=None) as batch_op:
        batch_op.create_index('ix_group_members_contact', ['contact_id'], unique=False)

    op.create_table('alerts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=100), nullable=False),
    sa.Column('requires_confirmation', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_alerts_campaign_id_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_alerts_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_updated_at', ['updated_at'], unique=False)

    op.create_table('alert_contacts',
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('missing', sa.String(length=200), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_contacts_alert_id_alerts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_alert_contacts_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('alert_id', 'contact_id', name=op.f('pk_alert_contacts'))
    )
    with op.batch_alter_table('alert_contacts', schema=None) as batch_op:
        batch_op.create_index('ix_alert_contacts_contact', ['contact_id'], unique=False)

    op.create_table('attempts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('means', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=100), server_default='', nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('round', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('status', sa.String(length=32), server_default='', nullable=False),
    sa.Column('reached', sa.Boolean(), nullable=True),
    sa.Column('error', sa.Text(), server_default='', nullable=False),
    sa.Column('provider_ref', sa.String(length=200), nullable=True),
    sa.Column('tries', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('anomalies', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=100), nullable=True),
    sa.Column('claimed_until', tocsin.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_attempts_alert_id_alerts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_attempts_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attempts'))
    )
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.create_index('ix_attempts_alert_contact', ['alert_id', 'contact_id'], unique=False)
        batch_op.create_index('ix_attempts_alert_means_status', ['alert_id', 'means', 'status'], unique=False)
        batch_op.create_index('ix_attempts_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_attempts_provider_ref', ['channel', 'provider_ref'], unique=False)
        batch_op.create_index('ix_attempts_status_due', ['status', 'due_at'], unique=False)

    op.create_table('recontacts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('requested_at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_recontacts_alert_id_alerts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_recontacts_requested_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recontacts'))
    )
    with op.batch_alter_table('recontacts', schema=None) as batch_op:
        batch_op.create_index('ix_recontacts_alert', ['alert_id'], unique=False)

    op.create_table('timers',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=True),
    sa.Column('due_at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('done_at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=100), nullable=True),
    sa.Column('claimed_until', tocsin.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_timers_alert_id_alerts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timers'))
    )
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.create_index('ix_timers_due', ['done_at', 'due_at'], unique=False)

    op.create_table('status_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), server_default='', nullable=False),
    sa.Column('source', sa.String(length=100), server_default='', nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('anomaly', sa.Text(), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_status_events_attempt_id_attempts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_events'))
    )
    with op.batch_alter_table('status_events', schema=None) as batch_op:
        batch_op.create_index('ix_status_events_attempt', ['attempt_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('status_events', schema=None) as batch_op:
        batch_op.drop_index('ix_status_events_attempt')

    op.drop_table('status_events')
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.drop_index('ix_timers_due')

    op.drop_table('timers')
    with op.batch_alter_table('recontacts', schema=None) as batch_op:
        batch_op.drop_index('ix_recontacts_alert')

    op.drop_table('recontacts')
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_attempts_status_due')
        batch_op.drop_index('ix_attempts_provider_ref')
        batch_op.drop_index('ix_attempts_created_at')
        batch_op.drop_index('ix_attempts_alert_means_status')
        batch_op.drop_index('ix_attempts_alert_contact')

    op.drop_table('attempts')
    with op.batch_alter_table('alert_contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_contacts_contact')

    op.drop_table('alert_contacts')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_updated_at')

    op.drop_table('alerts')
    with op.batch_alter_table('group_members', schema=None) as batch_op:
        batch_op.drop_index('ix_group_members_contact')

    op.drop_table('group_members')
    with op.batch_alter_table('contact_means', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_means_value')

    op.drop_table('contact_means')
    op.drop_table('campaigns')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_at')

    op.drop_table('assignments')
    op.drop_table('users')
    op.drop_table('groups')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_contacts_name')

    op.drop_table('contacts')
