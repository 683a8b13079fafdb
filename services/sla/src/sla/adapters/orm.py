"""Tables of the sla service, in its own schema: the delivery tables every service has, policies
and calendars (docs/sla.md "Policies", "Calendars")."""

from sqlalchemy import CheckConstraint, Column, DateTime, Index, Integer, String, Table, Uuid, text
from sqlalchemy.dialects.postgresql import JSONB

from backbone.db import service_metadata
from backbone.tables import delivery_tables, principals_table

metadata = service_metadata("sla")
outbox, inbox, idempotency_keys = delivery_tables(metadata)
principals = principals_table(metadata)

# -- policies and calendars (docs/sla.md "Policies", "Calendars") ----------------------------

# A tenant's figures per tier and severity; the 12 seeded rows are written on first use.
policies = Table(
    "policies",
    metadata,
    Column("tenant_id", Uuid, primary_key=True),
    Column("tier", String(20), primary_key=True),
    Column("severity", String(2), primary_key=True),
    Column("calendar", String(20), nullable=False),
    Column("response_target_minutes", Integer, nullable=False),
    Column("response_deadline_minutes", Integer, nullable=False),
    Column("resolution_target_minutes", Integer, nullable=False),
    Column("resolution_deadline_minutes", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=True),
    Column("updated_by", Uuid, nullable=True),
    CheckConstraint("calendar IN ('24x7', 'business_hours')", name="calendar"),
    CheckConstraint(
        "response_target_minutes >= 1 AND response_target_minutes <= response_deadline_minutes"
        " AND resolution_target_minutes >= 1"
        " AND resolution_target_minutes <= resolution_deadline_minutes",
        name="figures",
    ),
)

# A tenant's default calendar (client_id NULL) and its clients' own, in the API shape.
calendars = Table(
    "calendars",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("client_id", Uuid, nullable=True),
    Column("definition", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", Uuid, nullable=True),
    Index("uq_calendars_default", "tenant_id", unique=True, postgresql_where=text("client_id IS NULL")),
    Index(
        "uq_calendars_client",
        "tenant_id",
        "client_id",
        unique=True,
        postgresql_where=text("client_id IS NOT NULL"),
    ),
)
