"""Tables of the sla service, in its own schema: the delivery tables every service has, policies
and calendars (docs/sla.md "Policies", "Calendars"), clocks, their timers and metrics."""

from typing import Any

from sqlalchemy import CheckConstraint, Column, Index, Table, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import Boolean, DateTime, Float, Integer, String, Uuid

from backbone.tables import service_schema, stamp

metadata, outbox, inbox, idempotency_keys, principals = service_schema("sla")


def _at(name: str, nullable: bool = True, **kw: Any) -> Column[Any]:
    """A moment, always stored with its time zone."""
    return Column(name, DateTime(timezone=True), nullable=nullable, **kw)


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
    _at("updated_at"),
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
    _at("updated_at", nullable=False),
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

# -- clocks (docs/sla.md "Clocks") -----------------------------------------------------------

# Directory's subscriptions (subscription.changed.v1): the tier a client's clocks run on.
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("client_id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("tier", String(20), nullable=False),
    stamp("updated_at"),
)

# Triage's incidents, as far as clocks and metrics need them (incident.*.v1).
incidents = Table(
    "incidents",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("reference_code", String(40), nullable=True),
    Column("client_id", Uuid, nullable=True),
    Column("vendor_id", Uuid, nullable=True),
    Column("severity", String(2), nullable=False),
    Column("status", String(40), nullable=False),
    Column("tier", String(20), nullable=True),
    _at("created_at"),
    _at("detected_at"),
    _at("acknowledged_at"),
    _at("first_response_at"),
    _at("resolved_at"),
    _at("closed_at"),
    _at("deleted_at"),
    stamp("updated_at"),
    Index("ix_incidents_tenant_closed", "tenant_id", "closed_at"),
)

# Per tenant: which statuses pause the clocks (docs/sla.md "Pause").
clock_settings = Table(
    "clock_settings",
    metadata,
    Column("tenant_id", Uuid, primary_key=True),
    Column("pause_enabled", Boolean, nullable=False, server_default=text("false")),
    Column("pause_statuses", JSONB, nullable=False, server_default=text("'[]'")),
    Column("default_tier", String(20), nullable=False, server_default=text("'basic'")),
    stamp("updated_at"),
)

clocks = Table(
    "clocks",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("incident_id", Uuid, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("client_id", Uuid, nullable=True),
    Column("vendor_id", Uuid, nullable=True),
    Column("tier", String(20), nullable=False),
    Column("severity", String(2), nullable=False),
    Column("calendar", String(20), nullable=False),
    Column("target_minutes", Integer, nullable=False),
    Column("deadline_minutes", Integer, nullable=False),
    _at("started_at", nullable=False),
    Column("segments", JSONB, nullable=False),
    Column("pauses", JSONB, nullable=False),
    Column("extensions", JSONB, nullable=False),
    Column("history", JSONB, nullable=False),
    # Derived from the above at each save, for filters and dashboards.
    Column("state", String(20), nullable=False),
    Column("at_risk", Boolean, nullable=False, server_default=text("false")),
    _at("warn_at"),
    _at("due_at"),
    _at("warned_at"),
    _at("breached_at"),
    _at("stopped_at"),
    _at("cancelled_at"),
    stamp("updated_at"),
    UniqueConstraint("incident_id", "kind", name="uq_clocks_incident_kind"),
    Index("ix_clocks_tenant_state", "tenant_id", "state", "id"),
    Index("ix_clocks_tenant_client", "tenant_id", "client_id", "id"),
)

# One row per pending warning or breach of a clock; fired rows are marked. Only unfired rows are
# indexed by due time, so a poll costs the rows due, not the clocks open.
clock_timers = Table(
    "clock_timers",
    metadata,
    Column("clock_id", Uuid, primary_key=True),
    Column("what", String(10), primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    _at("due_at", nullable=False),
    _at("fired_at"),
    Index("ix_clock_timers_due", "due_at", postgresql_where=text("fired_at IS NULL")),
)

# 002 "Recording Performance Metrics".
metrics = Table(
    "metrics",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("incident_id", Uuid, nullable=False),
    Column("metric_type", String(20), nullable=False),
    Column("calculated_value_minutes", Float, nullable=False),
    Column("target_minutes", Integer, nullable=True),
    Column("met_target", Boolean, nullable=True),
    Column("recorded_by", Uuid, nullable=True),
    _at("recorded_at", nullable=False),
    Index("ix_metrics_tenant_incident", "tenant_id", "incident_id"),
)
