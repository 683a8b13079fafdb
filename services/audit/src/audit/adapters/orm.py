"""Tables of the audit service (schema ``audit``): an append-only, hash-chained log."""

from sqlalchemy import BigInteger, Column, DateTime, Index, String, Table
from sqlalchemy.dialects.postgresql import JSONB, UUID

from backbone.tables import service_schema, stamp

metadata, outbox, inbox, idempotency_keys, principals = service_schema("audit")

# One chain per tenant; platform-level events (no tenant) chain under the nil UUID.
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
