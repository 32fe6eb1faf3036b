"""status_events: no foreign key to attempts; a trigger deletes an attempt's events

The key's check ran once per recorded event, a query of its own that also locked the
attempt (``FOR KEY SHARE``): on PostgreSQL 60% of the time to record a batch of events
(60,000 events: 366 ms with the key, 144 ms without). It guarded nothing the writer does
not: the status applier records events only for the attempts it has just read and
locked in the same transaction, and ``Attempts.insert_events`` checks that its attempts
exist. What the key also did, deleting an attempt's events with it (a contact erased, an
alert deleted), a trigger on ``attempts`` now does.

Revision ID: 0011_events_no_foreign_key
Revises: 0010_webhook_claims
Create Date: 2026-12-07
"""

from __future__ import annotations

import warnings

from alembic import op

revision = '0011_events_no_foreign_key'
down_revision = '0010_webhook_claims'
branch_labels = None
depends_on = None

# PostgreSQL: once per DELETE statement, over the rows it deleted (a cascade from a
# contact or an alert included); the function keeps the schema it was created in
PG_FUNCTION = """
CREATE FUNCTION tocsin_delete_attempt_events() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM status_events e USING gone g WHERE e.attempt_id = g.id;
    RETURN NULL;
END
$$
"""
PG_TRIGGER = """
CREATE TRIGGER tocsin_attempts_delete_events AFTER DELETE ON attempts
REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
EXECUTE FUNCTION tocsin_delete_attempt_events()
"""
SQLITE_TRIGGER = """
CREATE TRIGGER tocsin_attempts_delete_events AFTER DELETE ON attempts
BEGIN
    DELETE FROM status_events WHERE attempt_id = OLD.id;
END
"""


def upgrade() -> None:
    # SQLite rebuilds the table, reflecting the attempts table it references, whose
    # expression index SQLAlchemy cannot reflect (and need not: it is not rebuilt)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        with op.batch_alter_table('status_events', schema=None) as batch_op:
            batch_op.drop_constraint('fk_status_events_attempt_id_attempts', type_='foreignkey')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        op.execute(SQLITE_TRIGGER)


def downgrade() -> None:
    op.execute('DROP TRIGGER IF EXISTS tocsin_attempts_delete_events' + (
        ' ON attempts' if op.get_bind().dialect.name == 'postgresql' else ''))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS tocsin_delete_attempt_events()')
    with op.batch_alter_table('status_events', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_status_events_attempt_id_attempts', 'attempts',
                                    ['attempt_id'], ['id'], ondelete='CASCADE')
