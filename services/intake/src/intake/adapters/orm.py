"""Tables of the intake service (schema ``intake``)."""

from sqlalchemy import Column, Index, PrimaryKeyConstraint, Table, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.types import Boolean, DateTime, Float, Integer, String, Text

from backbone.tables import service_schema, stamp, stamps, tenant_table

metadata, outbox, inbox, idempotency_keys, principals = service_schema("intake")

# Local replica of directory's tenants (from directory.events), so a request naming a tenant by
# slug (the public report form, docs/architecture.md) resolves it without calling another service.
tenants = Table(
    "tenants",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("slug", String(63), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
)

# Local replica of directory's alert integrations (integration.created, .updated,
# .token_rotated and .deleted.v1). Alerts are authenticated by the SHA-256 of their bearer
# token; the token itself is never stored.
integrations = tenant_table(
    "integrations",
    metadata,
    Column("kind", String(20), nullable=False),
    Column("name", String(200), nullable=False),
    Column("client_id", UUID(as_uuid=True)),
    Column("default_component_id", UUID(as_uuid=True)),
    Column("impact_rules", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("default_impact", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("grouping_labels", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("token_sha256", String(64), nullable=False, unique=True),
    stamp("created_at"),
    # Resolved alerts resolve the incident (integration.created.v1's auto_resolve).
    Column("auto_resolve", Boolean, nullable=False, server_default=text("true")),
    # The integration's own rate limit; null: the intake-wide settings.
    Column("rate_limit_per_s", Float),
    Column("rate_limit_burst", Integer),
    # The newest revision applied: an older state delivered again never replaces it (a token
    # rotated away stays refused). Deleted integrations keep their row, so no replayed event
    # brings them back; their token is refused.
    Column("revision", Integer, nullable=False, server_default=text("0")),
    Column("deleted_at", DateTime(timezone=True)),
)

# Dedup key -> incident. At most one open row per (tenant, key), enforced by the database so
# several intake replicas agree (docs/architecture.md): the partial unique index below. A row leaves
# "open" for "resolved" (its alerts resolved, auto-resolve) or "closed" (triage resolved or
# closed the incident); the next alert with the key then opens a new row and a new incident.
dedup_keys = tenant_table(
    "dedup_keys",
    metadata,
    Column("dedup_key", String(512), nullable=False),
    Column("incident_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("status", String(10), nullable=False, server_default="open"),
    Column("alert_count", Integer, nullable=False, server_default="1"),
    stamp("first_seen_at"),
    stamp("last_seen_at"),
    Column("closed_at", DateTime(timezone=True)),
    Column("integration_id", UUID(as_uuid=True)),
    Column("acknowledged_at", DateTime(timezone=True)),
    # When an event last told of this key (its report, then AlertRepeated) and the count it
    # told: repeats are announced at most once per INTAKE_ALERT_REPEAT_EVENT_INTERVAL_S, so a
    # storm of repeats is not a storm of events.
    stamp("announced_at"),
    Column("announced_count", Integer, nullable=False, server_default="1"),
    Index(
        "uq_dedup_keys_open",
        "tenant_id",
        "dedup_key",
        unique=True,
        postgresql_where=text("status = 'open'"),
    ),
    Index(
        "ix_dedup_keys_unannounced",
        "announced_at",
        postgresql_where=text("status = 'open' AND alert_count > announced_count"),
    ),
)

# Alerts, minimized: one row per alert (fingerprint) of a dedup key's incident and whether it
# is still firing; an incident auto-resolves when none of its rows is firing. A row is written
# when the alert first comes and when its status changes (``changed_at``), not on repeats: the
# dedup key counts those. Only labels and times are kept (annotations, URLs… are dropped).
alerts = tenant_table(
    "alerts",
    metadata,
    Column("incident_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("source", String(20), nullable=False),
    Column("fingerprint", String(128), nullable=False),
    Column("status", String(10), nullable=False),
    Column("labels", JSONB, nullable=False),
    Column("starts_at", DateTime(timezone=True)),
    Column("ends_at", DateTime(timezone=True)),
    stamp("received_at"),
    Column("dedup_id", UUID(as_uuid=True)),
    stamp("changed_at"),
    Index("uq_alerts_dedup_fingerprint", "dedup_id", "fingerprint", unique=True),
)

# Token buckets of the per-integration rate limit, shared by every replica (docs/architecture.md: replicas
# share nothing but the database). Refilled from the elapsed time on each take.
rate_buckets = Table(
    "rate_buckets",
    metadata,
    Column("integration_id", UUID(as_uuid=True), primary_key=True),
    Column("tokens", Float, nullable=False),
    stamp("updated_at"),
)

# Silences (maintenance windows), per tenant. Expiring one early sets ends_at to the moment.
silences = tenant_table(
    "silences",
    metadata,
    Column("matchers", JSONB, nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    Column("client_id", UUID(as_uuid=True)),
    Column("created_by", UUID(as_uuid=True)),
    *stamps(),
    Index("ix_silences_tenant_ends_at", "tenant_id", "ends_at"),
)

# What silences held back: one row per (silence, dedup key), counted.
silenced_alerts = Table(
    "silenced_alerts",
    metadata,
    Column("silence_id", UUID(as_uuid=True), nullable=False),
    Column("dedup_key", String(512), nullable=False),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("alert_count", Integer, nullable=False, server_default="1"),
    stamp("first_seen_at"),
    stamp("last_seen_at"),
    PrimaryKeyConstraint("silence_id", "dedup_key", name="pk_silenced_alerts"),
)
