"""reports: contacts attempted and reached per means counted in index order

Revision ID: 0007_reports_contacts_by_means
Revises: 0006_reports_failures
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = '0007_reports_contacts_by_means'
down_revision = '0006_reports_failures'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_attempts_alert_contact_means')
        batch_op.create_index('ix_attempts_alert_means_contact',
                              ['alert_id', 'means', 'contact_id', 'reached'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_attempts_alert_means_contact')
        batch_op.create_index('ix_attempts_alert_contact_means',
                              ['alert_id', 'contact_id', 'means', 'reached', 'completed_at'],
                              unique=False)
