"""Tables of the notifications service (schema ``notifications``): channels, routing rules,
template overrides, user preferences, the recipients and clients replicas, and deliveries.
(Recorded communications and reminders live in their own adapters modules, on this metadata.)"""

from sqlalchemy import Column, Index, Table, UniqueConstraint, false, func, text, true
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.types import Boolean, DateTime, Integer, String, Text

from backbone.tables import service_schema

metadata, outbox, inbox, idempotency_keys, principals = service_schema("notifications")

# Where notifications go. ``config`` holds the non-secret fields (and secret references such as
# {"secret_ref": "env:NAME"}); literal secrets are only in ``secrets_encrypted`` (Fernet).
channels = Table(
    "channels",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("client_id", UUID(as_uuid=True)),
    Column("kind", String(20), nullable=False),
    Column("name", String(200), nullable=False),
    Column("config", JSONB, nullable=False, server_default="{}"),
    Column("secrets_encrypted", Text),
    Column("enabled", Boolean, nullable=False, server_default=true()),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant_id", "name"),
    Index("ix_channels_tenant_kind", "tenant_id", "kind"),
)

routing_rules = Table(
    "routing_rules",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
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
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_routing_rules_tenant", "tenant_id"),
)

# A tenant's own Jinja2 templates for one event type ("*" for any) and channel kind.
template_overrides = Table(
    "template_overrides",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("channel_kind", String(20), nullable=False),
    Column("subject", Text),
    Column("body", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant_id", "event_type", "channel_kind"),
)

# Per-user notification preferences; no row means "everything the rules send".
preferences = Table(
    "preferences",
    metadata,
    Column("user_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("muted_kinds", JSONB, nullable=False, server_default="[]"),
    Column("muted_event_types", JSONB, nullable=False, server_default="[]"),
    Column("min_severity", String(2)),
    Column("slack_handle", String(100)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Replica of directory's users, for addressing (email, name) and rule recipients by role.
recipients = Table(
    "recipients",
    metadata,
    Column("user_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("email", String(320), nullable=False, server_default=""),
    Column("name", String(200), nullable=False, server_default=""),
    Column("role", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("client_id", UUID(as_uuid=True)),
    Column("vendor_id", UUID(as_uuid=True)),
    Index("ix_recipients_tenant_role", "tenant_id", "role"),
)

# Replica of directory's clients: their names, for messages.
clients = Table(
    "clients",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("name", String(200), nullable=False),
)

# One row per (event, recipient, channel): the unique key is what makes a redelivered event or
# a restarted consumer never send twice. Workers claim due rows per channel (status pending, or
# sending whose lease ran out) and record the attempt before sending.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
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
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_error", Text),
    Column("sent_at", DateTime(timezone=True)),
    Column("failed_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("event_id", "recipient_key", "channel_id", name="uq_deliveries_event_recipient_channel"),
    Index(
        "ix_deliveries_channel_due",
        "channel_id",
        "next_attempt_at",
        postgresql_where=text("status IN ('pending', 'sending')"),
    ),
    Index("ix_deliveries_tenant_created", "tenant_id", "id"),
)
