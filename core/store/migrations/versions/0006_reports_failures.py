"""reports: attempts by status and failures by reason from one index; the log by means
and status in time order

Revision ID: 0006_reports_failures
Revises: 0005_reports_indexes
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_reports_failures'
down_revision = '0005_reports_indexes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_attempts_alert_means_status_reached')
        batch_op.create_index('ix_attempts_created_means_status', ['created_at', 'means', 'status'],
                              unique=False)
    op.create_index('ix_attempts_alert_status_reason', 'attempts',
                    ['alert_id', 'means', 'status', 'reached', sa.text('substr(error, 1, 200)')],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_attempts_alert_status_reason', table_name='attempts')
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_attempts_created_means_status')
        batch_op.create_index('ix_attempts_alert_means_status_reached',
                              ['alert_id', 'means', 'status', 'reached'], unique=False)
