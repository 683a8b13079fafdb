"""Tables of the intake service (schema ``intake``)."""

from sqlalchemy import Column, DateTime, Index, Integer, String, Table, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID

from backbone.db import service_metadata
from backbone.tables import delivery_tables, principals_table

metadata = service_metadata("intake")
outbox, inbox, idempotency_keys = delivery_tables(metadata)
principals = principals_table(metadata)

# Local replica of directory's tenants (from directory.events), so a request naming a tenant by
# slug (the public report form, DESIGN §6) resolves it without calling another service.
tenants = Table(
    "tenants",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("slug", String(63), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
)

# Local replica of directory's alert integrations (from integration.created.v1). Alerts are
# authenticated by the SHA-256 of their bearer token; the token itself is never stored.
integrations = Table(
    "integrations",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("name", String(200), nullable=False),
    Column("client_id", UUID(as_uuid=True)),
    Column("default_component_id", UUID(as_uuid=True)),
    Column("impact_rules", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("default_impact", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("grouping_labels", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Dedup key -> incident. At most one open row per (tenant, key), enforced by the database so
# several intake replicas agree (DESIGN §4): the partial unique index below.
dedup_keys = Table(
    "dedup_keys",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("dedup_key", String(512), nullable=False),
    Column("incident_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("status", String(10), nullable=False, server_default="open"),
    Column("alert_count", Integer, nullable=False, server_default="1"),
    Column("first_seen_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_seen_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("closed_at", DateTime(timezone=True)),
    Index(
        "uq_dedup_keys_open",
        "tenant_id",
        "dedup_key",
        unique=True,
        postgresql_where=text("status = 'open'"),
    ),
)

# Raw alerts, minimized: only what dedup, resolution and the timeline need.
alerts = Table(
    "alerts",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("incident_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("source", String(20), nullable=False),
    Column("fingerprint", String(128), nullable=False),
    Column("status", String(10), nullable=False),
    Column("labels", JSONB, nullable=False),
    Column("starts_at", DateTime(timezone=True)),
    Column("ends_at", DateTime(timezone=True)),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
