"""reports indexes: outcome counts, medians, the log by alert or contact, unattempted reasons

Revision ID: 0005_reports_indexes
Revises: 0004_reports
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = '0005_reports_indexes'
down_revision = '0004_reports'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alert_contacts', schema=None) as batch_op:
        batch_op.create_index('ix_alert_contacts_alert_missing', ['alert_id', 'missing'], unique=False)

    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.create_index('ix_attempts_alert_created', ['alert_id', 'created_at'], unique=False)
        batch_op.create_index('ix_attempts_alert_means_reached_completed', ['alert_id', 'means', 'reached', 'completed_at'], unique=False)
        batch_op.create_index('ix_attempts_alert_reached_contact', ['alert_id', 'reached', 'contact_id', 'means'], unique=False)
        batch_op.create_index('ix_attempts_contact_created', ['contact_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_attempts_contact_created')
        batch_op.drop_index('ix_attempts_alert_reached_contact')
        batch_op.drop_index('ix_attempts_alert_means_reached_completed')
        batch_op.drop_index('ix_attempts_alert_created')

    with op.batch_alter_table('alert_contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_contacts_alert_missing')
