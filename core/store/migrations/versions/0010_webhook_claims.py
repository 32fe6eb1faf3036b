"""webhook_claims: replay protection of provider webhooks, shared by every process

Revision ID: 0010_webhook_claims
Revises: 0009_attempts_write_cost
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tocsin.store.schema

revision = '0010_webhook_claims'
down_revision = '0009_attempts_write_cost'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webhook_claims',
    sa.Column('scope', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('claimed_at', tocsin.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'key', name=op.f('pk_webhook_claims'))
    )
    with op.batch_alter_table('webhook_claims', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_claims_claimed_at', ['claimed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('webhook_claims', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_claims_claimed_at')
    op.drop_table('webhook_claims')
