"""engine: a partial index over the outbox (attempts still waiting) replaces (status, due_at)

Revision ID: 0008_engine
Revises: 0007_reports_contacts_by_means
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008_engine'
down_revision = '0007_reports_contacts_by_means'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_attempts_status_due')
        batch_op.create_index(
            'ix_attempts_outbox', ['channel', 'due_at', 'id'], unique=False,
            sqlite_where=sa.text("status = ''"), postgresql_where=sa.text("status = ''"),
        )


def downgrade() -> None:
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_attempts_outbox', sqlite_where=sa.text("status = ''"),
                            postgresql_where=sa.text("status = ''"))
        batch_op.create_index('ix_attempts_status_due', ['status', 'due_at'], unique=False)
