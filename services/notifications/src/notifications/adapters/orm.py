"""Tables of the notifications service (schema ``notifications``): channels, routing rules,
template overrides, user preferences, the recipients and clients replicas, and deliveries.
(Recorded communications and reminders live in their own adapters modules, on this metadata.)"""

from sqlalchemy import Column, Index, UniqueConstraint, false, text, true
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.types import Boolean, DateTime, Integer, String, Text

from backbone.tables import service_schema, stamp, stamps, tenant_table, traceparent

metadata, outbox, inbox, idempotency_keys, principals = service_schema("notifications")

# Where notifications go. ``config`` holds the non-secret fields (and secret references such as
# {"secret_ref": "env:NAME"}); literal secrets are only in ``secrets_encrypted`` (Fernet).
channels = tenant_table(
    "channels",
    metadata,
    Column("client_id", UUID(as_uuid=True)),
    Column("kind", String(20), nullable=False),
    Column("name", String(200), nullable=False),
    Column("config", JSONB, nullable=False, server_default="{}"),
    Column("secrets_encrypted", Text),
    Column("enabled", Boolean, nullable=False, server_default=true()),
    *stamps(),
    UniqueConstraint("tenant_id", "name"),
    Index("ix_channels_tenant_kind", "tenant_id", "kind"),
)

routing_rules = tenant_table(
    "routing_rules",
    metadata,
    Column("name", String(200), nullable=False, server_default=""),
    Column("event_types", JSONB, nullable=False),
    Column("min_severity", String(2)),
    Column("client_id", UUID(as_uuid=True)),
    Column("channel_ids", JSONB, nullable=False),
    Column("user_ids", JSONB, nullable=False, server_default="[]"),
    Column("roles", JSONB, nullable=False, server_default="[]"),
    # Also notify the people the event names (assignee, delegate, escalation targets).
    Column("event_targets", Boolean, nullable=False, server_default=false()),
    Column("enabled", Boolean, nullable=False, server_default=true()),
    *stamps(),
    Index("ix_routing_rules_tenant", "tenant_id"),
)

# A tenant's own Jinja2 templates for one event type ("*" for any) and channel kind.
template_overrides = tenant_table(
    "template_overrides",
    metadata,
    Column("event_type", String(100), nullable=False),
    Column("channel_kind", String(20), nullable=False),
    Column("subject", Text),
    Column("body", Text, nullable=False),
    stamp("updated_at"),
    UniqueConstraint("tenant_id", "event_type", "channel_kind"),
)

# Per-user notification preferences; no row means "everything the rules send".
preferences = tenant_table(
    "preferences",
    metadata,
    Column("muted_kinds", JSONB, nullable=False, server_default="[]"),
    Column("muted_event_types", JSONB, nullable=False, server_default="[]"),
    Column("min_severity", String(2)),
    Column("slack_handle", String(100)),
    stamp("updated_at"),
    key="user_id",
)

# Replica of directory's users, for addressing (email, name) and rule recipients by role.
recipients = tenant_table(
    "recipients",
    metadata,
    Column("email", String(320), nullable=False, server_default=""),
    Column("name", String(200), nullable=False, server_default=""),
    Column("role", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("client_id", UUID(as_uuid=True)),
    Column("vendor_id", UUID(as_uuid=True)),
    Index("ix_recipients_tenant_role", "tenant_id", "role"),
    key="user_id",
)

# Replica of directory's clients: their names, for messages.
clients = tenant_table(
    "clients",
    metadata,
    Column("name", String(200), nullable=False),
)

# One row per (event, recipient, channel): the unique key is what makes a redelivered event or
# a restarted consumer never send twice. Workers claim due rows per channel (status pending, or
# sending whose lease ran out) and record the attempt before sending.
deliveries = tenant_table(
    "deliveries",
    metadata,
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("recipient_key", String(200), nullable=False),
    Column("channel_id", UUID(as_uuid=True), nullable=False),
    Column("channel_kind", String(20), nullable=False),
    Column("recipient_user_id", UUID(as_uuid=True)),
    Column("address", String(320)),
    Column("incident_id", UUID(as_uuid=True)),
    Column("communication_id", UUID(as_uuid=True)),
    Column("reminder_id", UUID(as_uuid=True)),
    Column("message", JSONB, nullable=False),
    Column("status", String(20), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    # When the row is next due: the retry time when pending, the lease's end when sending.
    stamp("next_attempt_at"),
    Column("last_error", Text),
    Column("sent_at", DateTime(timezone=True)),
    Column("failed_at", DateTime(timezone=True)),
    *stamps(),
    # The trace of the event that queued it: the send, in a later transaction, is a span there.
    traceparent(),
    UniqueConstraint("event_id", "recipient_key", "channel_id", name="uq_deliveries_event_recipient_channel"),
    Index(
        "ix_deliveries_channel_due",
        "channel_id",
        "next_attempt_at",
        postgresql_where=text("status IN ('pending', 'sending')"),
    ),
    Index("ix_deliveries_tenant_created", "tenant_id", "id"),
)
