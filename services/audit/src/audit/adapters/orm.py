"""Tables of the audit service (schema ``audit``): each tenant's transparency log (entries,
stored tree hashes, signed checkpoints, signing keys; docs/audit.md)."""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from backbone.tables import service_schema, stamp, tenant_table

metadata, outbox, inbox, idempotency_keys, principals = service_schema("audit")

# The hash chain the log replaced: kept, read-only, as the history it holds (no longer written).
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("event_type", String(200), nullable=False),
    Column("source", String(50), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("actor", JSONB, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    stamp("recorded_at"),
    Column("data", JSONB, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_log_tenant_seq", "tenant_id", "seq"),
    Index("ix_audit_log_subject", "tenant_id", "subject"),
)

chain_heads = Table(
    "chain_heads",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

# The transparency log (docs/audit.md). One log per tenant; platform-level events (no tenant)
# go to the nil UUID's. entries, hashes, checkpoints and signing_keys are append-only for the
# service's database role (backbone.roles.APPEND_ONLY).
entries = Table(
    "entries",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("leaf_index", BigInteger, primary_key=True, autoincrement=False),  # 0, 1, 2, … per tenant
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("action", String(20), nullable=False),
    Column("source", String(50), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("actor", JSONB, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("data", JSONB, nullable=False),
    Column("leaf", LargeBinary, nullable=False),  # RFC 8785 canonical JSON of the fields above
    UniqueConstraint("tenant_id", "event_id", name="uq_entries_tenant_id_event_id"),
    Index("ix_entries_subject", "tenant_id", "subject", "leaf_index"),
    Index("ix_entries_event_type", "tenant_id", "event_type", "leaf_index"),
    # Reports find records keyed by another aggregate by the incident id in their data.
    Index("ix_entries_incident", "tenant_id", text("(data ->> 'incident_id')")),
)

# Every complete subtree hash of a tenant's tree, under tlog's stored hash index.
hashes = Table(
    "hashes",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("hash_index", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary, nullable=False),
)

# A tenant's log size (locked by every append: appends to one log are serialized; the signer
# reads it without a lock and compares with the latest checkpoint). The only table of the log
# the service updates.
heads = Table(
    "heads",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("grew_at", DateTime(timezone=True), nullable=False),
    Index("ix_heads_unsigned", "grew_at"),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("root", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),  # the signed note, as served
    Column("key_id", String(64), nullable=False),
    Column("signed_at", DateTime(timezone=True), nullable=False),
    Index("ix_checkpoints_tenant", "tenant_id", "id"),
)

# Every key that has signed checkpoints (the private halves stay in the service's settings).
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("key_id", String(64), primary_key=True),  # hex SHA-256 of the public key
    Column("public_key", LargeBinary, nullable=False),  # raw 32-byte Ed25519
    Column("first_used_at", DateTime(timezone=True), nullable=False),
)

# Incident reports (docs/reports.md "Incident reports"): each kept as generated, a snapshot of
# the incident's log up to ``through_index``.
reports = tenant_table(
    "reports",
    metadata,
    Column("incident_id", UUID(as_uuid=True), nullable=False),
    Column("report_type", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("generated_by_id", UUID(as_uuid=True), nullable=False),
    Column("generated_at", DateTime(timezone=True), nullable=False),
    Column("records", BigInteger, nullable=False),
    Column("content", JSONB, nullable=False),
    Index("ix_reports_incident", "tenant_id", "incident_id"),
)
