"""attempts: cheaper writes for the engine (two redundant indexes dropped, room for HOT updates)

``ix_attempts_alert_means_status`` is a prefix of ``ix_attempts_alert_status_reason`` and
``ix_attempts_created_at`` one of ``ix_attempts_created_means_status``: every query they
served is served as well by the longer index, and each one cost an entry per write. On
PostgreSQL the table keeps 60% of each page free: a claim changes no indexed column, and
with room on its page for a new version of every row (a claim takes the page's rows
together) it is a HOT update that writes no index entry at all. With 20% free, four
claims in five were not HOT and a claim of 1,000 attempts took 2.4 times as long.

Revision ID: 0009_attempts_write_cost
Revises: 0008_engine
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = '0009_attempts_write_cost'
down_revision = '0008_engine'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_attempts_alert_means_status')
        batch_op.drop_index('ix_attempts_created_at')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE attempts SET (fillfactor = 40)')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE attempts RESET (fillfactor)')
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.create_index('ix_attempts_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_attempts_alert_means_status', ['alert_id', 'means', 'status'], unique=False)
