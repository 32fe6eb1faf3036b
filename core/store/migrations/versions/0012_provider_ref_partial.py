"""attempts: the provider reference index holds only attempts that have one

An attempt is written without a provider reference (it gets one when a channel accepts
it), yet every new attempt wrote a NULL entry into ``ix_attempts_provider_ref``. Lookups
are by a given reference (``provider_ref = ?`` or ``IN``/``= ANY``), which both
databases match to the partial index.

Revision ID: 0012_provider_ref_partial
Revises: 0011_events_no_foreign_key
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012_provider_ref_partial'
down_revision = '0011_events_no_foreign_key'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_attempts_provider_ref', table_name='attempts')
    op.create_index('ix_attempts_provider_ref', 'attempts', ['channel', 'provider_ref'], unique=False,
                    sqlite_where=sa.text('provider_ref IS NOT NULL'),
                    postgresql_where=sa.text('provider_ref IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_attempts_provider_ref', table_name='attempts')
    op.create_index('ix_attempts_provider_ref', 'attempts', ['channel', 'provider_ref'], unique=False)
