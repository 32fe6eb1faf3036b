"""The SQL schema, one SQLAlchemy Core table per stored kind.

Alembic migrations produce exactly this schema (a test compares them). Datetimes are
stored in UTC; statuses are the status machine's strings, ``""`` meaning "waiting in
the outbox".
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Computed,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to the store; use aware UTC times")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        stamp: dt.datetime = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
        return stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp.astimezone(dt.UTC)


def _id() -> Column[int]:
    return Column("id", Integer, primary_key=True, autoincrement=True)


def _created() -> Column[dt.datetime]:
    return Column("created_at", UTCDateTime(), nullable=False)


users = Table(
    "users",
    metadata,
    _id(),
    Column("username", String(150), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False, server_default=""),
    Column("email", String(320), nullable=False, server_default=""),
    Column("role", String(32), nullable=False),
    Column("language", String(16), nullable=False, server_default=""),
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("password_hash", String(255), nullable=True),
    _created(),
)

contacts = Table(
    "contacts",
    metadata,
    _id(),
    Column("external_id", String(200), nullable=True, unique=True),
    Column("first_name", String(200), nullable=False, server_default=""),
    Column("last_name", String(200), nullable=False, server_default=""),
    Column("language", String(16), nullable=False, server_default=""),
    Column("organisation", String(200), nullable=False, server_default=""),
    Column("address_line1", String(300), nullable=False, server_default=""),
    Column("address_line2", String(300), nullable=False, server_default=""),
    Column("postal_code", String(32), nullable=False, server_default=""),
    Column("city", String(200), nullable=False, server_default=""),
    Column("department", String(100), nullable=False, server_default=""),
    Column("region", String(100), nullable=False, server_default=""),
    Column("country", String(100), nullable=False, server_default=""),
    Column("attributes", JSON, nullable=False),
    Column("opted_out", Boolean, nullable=False, server_default=false()),
    _created(),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_contacts_name", "last_name", "first_name"),
)

contact_means = Table(
    "contact_means",
    metadata,
    _id(),
    Column("contact_id", Integer, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("value", String(320), nullable=False),
    Column("verified", Boolean, nullable=False, server_default=false()),
    Column("preference", Integer, nullable=False, server_default=text("0")),
    Column("failing", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("contact_id", "kind", "value", name="uq_contact_means_contact_kind_value"),
    Index("ix_contact_means_value", "value"),
)

groups = Table(
    "groups",
    metadata,
    _id(),
    Column("name", String(200), nullable=False, unique=True),
    Column("description", Text, nullable=False, server_default=""),
    _created(),
)

group_members = Table(
    "group_members",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("contact_id", Integer, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False),
    PrimaryKeyConstraint("group_id", "contact_id"),
    Index("ix_group_members_contact", "contact_id"),
)

campaigns = Table(
    "campaigns",
    metadata,
    _id(),
    Column("name", String(200), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("year", Integer, nullable=True),
    Column("contract_types", JSON, nullable=False),
    Column("referent_user_id", Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    _created(),
)

alerts = Table(
    "alerts",
    metadata,
    _id(),
    Column("title", String(300), nullable=False),
    Column("campaign_id", Integer, ForeignKey("campaigns.id", ondelete="SET NULL"), nullable=True),
    Column("category", String(100), nullable=False),
    Column("requires_confirmation", Boolean, nullable=False),
    Column("state", String(32), nullable=False),
    # messages, reminder offsets, escalation plan and target: the alert's spec as JSON
    Column("spec", JSON, nullable=False),
    Column("created_by", Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    _created(),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=True),
    Column("finished_at", UTCDateTime(), nullable=True),
    Index("ix_alerts_updated_at", "updated_at"),
)

alert_contacts = Table(
    "alert_contacts",
    metadata,
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
    Column("contact_id", Integer, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False),
    # the means this contact could not be reached by for want of an address, e.g. "call,sms"
    Column("missing", String(200), nullable=False, server_default=""),
    PrimaryKeyConstraint("alert_id", "contact_id"),
    Index("ix_alert_contacts_contact", "contact_id"),
)

attempts = Table(
    "attempts",
    metadata,
    _id(),
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=True),
    Column("contact_id", Integer, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False),
    Column("means", String(32), nullable=False),
    Column("channel", String(100), nullable=False, server_default=""),
    Column("address", String(320), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("round", Integer, nullable=False, server_default=text("0")),
    Column("status", String(32), nullable=False, server_default=""),
    Column("reached", Boolean, nullable=True),
    Column("error", Text, nullable=False, server_default=""),
    # the failure reason as the reports group by it: the error's first 200 characters (a
    # whole provider message could exceed the size of an index entry). Kept by the
    # database (stored; virtual on SQLite, whose migration could only add it so) so that
    # the overview's index holds a column, which PostgreSQL can answer from the index
    # alone, not an expression, for which it reads every row (migration 0013)
    Column("reason", String(200), Computed("substr(error, 1, 200)", persisted=True)),
    Column("provider_ref", String(200), nullable=True),
    Column("tries", Integer, nullable=False, server_default=text("0")),
    Column("anomalies", Integer, nullable=False, server_default=text("0")),
    _created(),
    Column("due_at", UTCDateTime(), nullable=True),
    Column("sent_at", UTCDateTime(), nullable=True),
    Column("completed_at", UTCDateTime(), nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
    # dispatch lease: which process holds the attempt, and until when
    Column("claimed_by", String(100), nullable=True),
    Column("claimed_until", UTCDateTime(), nullable=True),
    Index("ix_attempts_alert_contact", "alert_id", "contact_id"),
    # an attempt gets its reference when a channel accepts it: no entry before (0012)
    Index(
        "ix_attempts_provider_ref",
        "channel",
        "provider_ref",
        sqlite_where=text("provider_ref IS NOT NULL"),
        postgresql_where=text("provider_ref IS NOT NULL"),
    ),
    # the outbox: only attempts still waiting ("" status), in the order they are claimed
    Index(
        "ix_attempts_outbox",
        "channel",
        "due_at",
        "id",
        sqlite_where=text("status = ''"),
        postgresql_where=text("status = ''"),
    ),
    # a claim changes no indexed column: with room on its page for a new version of each
    # row (a claim takes a page's rows together) it is a HOT update (migration 0009)
    postgresql_with={"fillfactor": 40},
)

status_events = Table(
    "status_events",
    metadata,
    _id(),
    # no foreign key: its check cost more than half the time to record an event, and the
    # only writers check first (the applier locks the attempts it records events of);
    # a trigger deletes an attempt's events with it (migration 0011)
    Column("attempt_id", Integer, nullable=False),
    Column("status", String(32), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("source", String(100), nullable=False, server_default=""),
    Column("data", JSON, nullable=False),
    # why the status machine refused the event ("" when applied, absorbed or a duplicate)
    Column("anomaly", Text, nullable=False, server_default=""),
    Index("ix_status_events_attempt", "attempt_id"),
)

timers = Table(
    "timers",
    metadata,
    _id(),
    Column("kind", String(64), nullable=False),
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=True),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("done_at", UTCDateTime(), nullable=True),
    Column("claimed_by", String(100), nullable=True),
    Column("claimed_until", UTCDateTime(), nullable=True),
    _created(),
    Index("ix_timers_due", "done_at", "due_at"),
)

recontacts = Table(
    "recontacts",
    metadata,
    _id(),
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
    Column("requested_by", Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("requested_at", UTCDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Index("ix_recontacts_alert", "alert_id"),
)

assignments = Table(
    "assignments",
    metadata,
    _id(),
    Column("contact_id", Integer, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False),
    Column("agent_id", Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("assigner_id", Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("source", String(64), nullable=False),
    Column("assigned", Boolean, nullable=False),
    Column("conversation", String(200), nullable=False, server_default=""),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_assignments_at", "at"),
)

# -- the reference server: sessions, API tokens, login throttling, per-campaign rights,
# -- outbound webhooks and long operations -----------------------------------------------

sessions = Table(
    "sessions",
    metadata,
    # the SHA-256 of the session secret the signed cookie carries (never the secret itself)
    Column("id", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("ip", String(64), nullable=False, server_default=""),
    _created(),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Index("ix_sessions_user", "user_id"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    _id(),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    # shown in lists so a user can tell tokens apart; the secret is only hashed
    Column("prefix", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    _created(),
    Column("expires_at", UTCDateTime(), nullable=True),
    Column("last_used_at", UTCDateTime(), nullable=True),
    Column("revoked_at", UTCDateTime(), nullable=True),
    Index("ix_api_tokens_user", "user_id"),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    _id(),
    Column("username", String(150), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("success", Boolean, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_login_attempts_username_at", "username", "at"),
    Index("ix_login_attempts_ip_at", "ip", "at"),
)

campaign_rights = Table(
    "campaign_rights",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("campaign_id", Integer, ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    Column("can_modify", Boolean, nullable=False, server_default=false()),
    Column("can_export", Boolean, nullable=False, server_default=false()),
    PrimaryKeyConstraint("user_id", "campaign_id"),
)

webhooks = Table(
    "webhooks",
    metadata,
    _id(),
    Column("url", String(2000), nullable=False),
    # the HMAC key deliveries are signed with (the integrator needs the same key)
    Column("secret", String(200), nullable=False),
    Column("events", JSON, nullable=False),
    Column("description", String(300), nullable=False, server_default=""),
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("created_by", Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    _created(),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    _id(),
    Column("webhook_id", Integer, ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    Column("event", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    # pending, delivered or failed (gave up after the last retry)
    Column("state", String(16), nullable=False),
    Column("tries", Integer, nullable=False, server_default=text("0")),
    Column("next_at", UTCDateTime(), nullable=True),
    Column("last_status", Integer, nullable=True),
    Column("last_error", Text, nullable=False, server_default=""),
    Column("claimed_until", UTCDateTime(), nullable=True),
    _created(),
    Column("delivered_at", UTCDateTime(), nullable=True),
    Index("ix_webhook_deliveries_state_next", "state", "next_at"),
    Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
)

operations = Table(
    "operations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(64), nullable=False),
    # running, done or failed
    Column("state", String(16), nullable=False),
    Column("done", Integer, nullable=False, server_default=text("0")),
    Column("total", Integer, nullable=True),
    Column("message", Text, nullable=False, server_default=""),
    Column("result", JSON, nullable=False),
    Column("error", Text, nullable=False, server_default=""),
    Column("created_by", Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    _created(),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# -- provider webhooks: each signed delivery accepted once, by whichever process --------

webhook_claims = Table(
    "webhook_claims",
    metadata,
    # where the delivery came: the channel and the route ("sms/status")
    Column("scope", String(200), nullable=False),
    # SHA-256 (hex) of what identifies the delivery (idempotency token or signature)
    Column("key", String(64), nullable=False),
    Column("claimed_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("scope", "key"),
    Index("ix_webhook_claims_claimed_at", "claimed_at"),
)

# -- reports: verification of contacts' means, and indexes of the alert statistics -------

verifications = Table(
    "verifications",
    metadata,
    _id(),
    Column("means_id", Integer, ForeignKey("contact_means.id", ondelete="CASCADE"), nullable=False),
    # how the code goes out: sms, call or email
    Column("via", String(32), nullable=False),
    # salted SHA-256 of the code and SHA-256 of the link token (never the secrets themselves)
    Column("salt", String(32), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("attempt_id", Integer, ForeignKey("attempts.id", ondelete="SET NULL"), nullable=True),
    Column("failures", Integer, nullable=False, server_default=text("0")),
    _created(),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("confirmed_at", UTCDateTime(), nullable=True),
    Index("ix_verifications_means", "means_id", "created_at"),
)

# The overview reads one alert's attempts through these alone (no table lookups): the
# first for contacts per means, the second for attempts by status and failures by reason.
Index("ix_attempts_alert_means_contact", attempts.c.alert_id, attempts.c.means,
      attempts.c.contact_id, attempts.c.reached)
Index("ix_attempts_alert_status_reason", attempts.c.alert_id, attempts.c.means,
      attempts.c.status, attempts.c.reached, attempts.c.reason)
# Contacted / in progress read only the reached and the open attempts; the median time to
# reach seeks its middle; the communications log filtered by alert or contact stays in
# time order; contacts without any attempt are found by their missing means.
Index("ix_attempts_alert_reached_contact", attempts.c.alert_id, attempts.c.reached,
      attempts.c.contact_id, attempts.c.means)
Index("ix_attempts_alert_means_reached_completed", attempts.c.alert_id, attempts.c.means,
      attempts.c.reached, attempts.c.completed_at)
Index("ix_attempts_alert_created", attempts.c.alert_id, attempts.c.created_at)
Index("ix_attempts_created_means_status", attempts.c.created_at, attempts.c.means,
      attempts.c.status)
Index("ix_attempts_contact_created", attempts.c.contact_id, attempts.c.created_at)
Index("ix_alert_contacts_alert_missing", alert_contacts.c.alert_id, alert_contacts.c.missing)
