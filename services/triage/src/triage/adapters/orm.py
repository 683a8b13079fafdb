"""Tables of the triage service (schema ``triage``)."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from backbone.db import service_metadata
from backbone.tables import delivery_tables, principals_table

metadata = service_metadata("triage")
outbox, inbox, idempotency_keys = delivery_tables(metadata)
principals = principals_table(metadata)

incidents = Table(
    "incidents",
    metadata,
    # Pre-allocated by intake, so the reporter gets the id before the incident exists here.
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("reference_code", String(20), nullable=False),
    Column("title", String(300), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("status", String(40), nullable=False),
    Column("severity", String(2), nullable=False),
    Column("severity_flags", JSONB, nullable=False),
    Column("impact", JSONB, nullable=False),
    Column("source", String(20), nullable=False),
    Column("dedup_key", String(512)),
    Column("client_id", UUID(as_uuid=True)),
    Column("component_id", UUID(as_uuid=True)),
    # From the component's vendor when the incident opened: what a vendor contact may see.
    Column("vendor_id", UUID(as_uuid=True)),
    Column("alert_count", Integer, nullable=False, server_default="1"),
    Column("labels", JSONB, nullable=False, server_default="{}"),
    Column("detected_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("deleted_at", DateTime(timezone=True)),
    UniqueConstraint("tenant_id", "reference_code"),
    Index("ix_incidents_tenant_status", "tenant_id", "status"),
    Index("ix_incidents_tenant_created", "tenant_id", "created_at"),
    # Keyset pages (newest first by the time-ordered id), whole tenant or one client/vendor.
    Index("ix_incidents_tenant_keyset", "tenant_id", "id"),
    Index("ix_incidents_tenant_client", "tenant_id", "client_id", "id"),
    Index("ix_incidents_tenant_vendor", "tenant_id", "vendor_id", "id"),
    Index("ix_incidents_tenant_component", "tenant_id", "component_id"),
)

reference_counters = Table(
    "reference_counters",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("last_number", BigInteger, nullable=False),
)

# Replica of directory's components (from component.registered.v1): what an incident opened on
# a component inherits (vendor, client, business criticality).
components = Table(
    "components",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("client_id", UUID(as_uuid=True), nullable=False),
    Column("vendor_id", UUID(as_uuid=True)),
    Column("business_critical", Boolean, nullable=False, server_default=false()),
)
