"""reports: verifications and statistics indexes

Revision ID: 0004_reports
Revises: 0003_server
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tocsin.store.schema

revision = '0004_reports'
down_revision = '0003_server'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('verifications',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('means_id', sa.Integer(), nullable=False),
    sa.Column('via', sa.String(length=32), nullable=False),
    sa.Column('salt', sa.String(length=32), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=True),
    sa.Column('failures', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_verifications_attempt_id_attempts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['means_id'], ['contact_means.id'], name=op.f('fk_verifications_means_id_contact_means'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verifications')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_verifications_token_hash'))
    )
    with op.batch_alter_table('verifications', schema=None) as batch_op:
        batch_op.create_index('ix_verifications_means', ['means_id', 'created_at'], unique=False)

    # the overview reads one alert's attempts through these alone (no table lookups)
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.create_index('ix_attempts_alert_contact_means', ['alert_id', 'contact_id', 'means', 'reached', 'completed_at'], unique=False)
        batch_op.create_index('ix_attempts_alert_means_status_reached', ['alert_id', 'means', 'status', 'reached'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_attempts_alert_means_status_reached')
        batch_op.drop_index('ix_attempts_alert_contact_means')

    with op.batch_alter_table('verifications', schema=None) as batch_op:
        batch_op.drop_index('ix_verifications_means')

    op.drop_table('verifications')
