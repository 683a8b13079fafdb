"""Tables of the changes service, in its own schema (docs/changes.md): the eight records of
the change and problem work, their replicas of incidents and components, and the delivery
tables every service has. Statuses and enumerated fields are strings the API validates
against contracts.enums."""

from typing import Any

from sqlalchemy import Column, Index, PrimaryKeyConstraint, Table, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.types import Date, DateTime, Integer, String, Text

from backbone.tables import service_schema

metadata, outbox, inbox, idempotency_keys, principals = service_schema("changes")


def _uuid(name: str, nullable: bool = True, **kw: Any) -> Column[Any]:
    return Column(name, PgUUID(as_uuid=True), nullable=nullable, **kw)


def _when(name: str, nullable: bool = True) -> Column[Any]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


def _record(name: str, *columns: Any) -> Table:
    """A record of the tenant: its id, its incident link and the incident's client and vendor
    (copied when linked, so a contact's reads are scoped without a join), and timestamps."""
    return Table(
        name,
        metadata,
        _uuid("id", nullable=False, primary_key=True),
        _uuid("tenant_id", nullable=False),
        Column("status", String(20), nullable=False),
        _uuid("incident_id"),
        _uuid("client_id"),
        _uuid("vendor_id"),
        *columns,
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index(f"ix_{name}_tenant", "tenant_id", "id"),
    )


# --------------------------------------------------------------------------- replicas

# Triage's incidents as far as the pre-checks need them (exists, status, client, component,
# when detected), from every incident event.
incidents = Table(
    "incidents",
    metadata,
    _uuid("id", nullable=False, primary_key=True),
    _uuid("tenant_id", nullable=False),
    Column("status", String(40), nullable=False),
    _uuid("client_id"),
    _uuid("vendor_id"),
    _uuid("component_id"),
    _when("detected_at"),
    _when("deleted_at"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Directory's components, from component.registered.v1: what a change request may name.
components = Table(
    "components",
    metadata,
    _uuid("id", nullable=False, primary_key=True),
    _uuid("tenant_id", nullable=False),
    _uuid("client_id"),
    _uuid("vendor_id"),
    Column("name", String(200), nullable=False),
)

# --------------------------------------------------------------------------- records

change_requests = _record(
    "change_requests",
    Column("title", String(300), nullable=False),
    Column("change_type", String(20), nullable=False),
    Column("risk_level", String(20), nullable=False),
    _uuid("component_id"),
    Column("description", Text),
    _when("planned_start"),
    _when("planned_end"),
    Column("implementation_plan", Text),
    Column("backout_plan", Text),
    Column("test_plan", Text),
    _uuid("requested_by_id"),  # null: reported by a tool (intake.change_received.v1)
    _uuid("approved_by_id"),
    _when("approved_at"),
    Column("decision_comment", Text),
    Column("conflicts", JSONB, nullable=False, server_default="[]"),
    Column("emergency_reason", Text),
    _when("started_at"),
    _when("finished_at"),
    Index("ix_change_requests_component", "tenant_id", "component_id", "planned_start"),
)

rollback_requests = _record(
    "rollback_requests",
    _uuid("change_id", nullable=False),
    Column("justification", Text, nullable=False),
    Column("scope", Text),
    _uuid("requested_by_id", nullable=False),
    _uuid("approved_by_id"),
    _when("approved_at"),
    _when("completed_at"),
)

work_orders = _record(
    "work_orders",
    Column("title", String(300), nullable=False),
    Column("work_type", String(20), nullable=False),
    Column("description", Text),
    _uuid("change_id"),
    _uuid("problem_id"),
    _uuid("assigned_to_id"),
    _uuid("created_by_id", nullable=False),
)

workarounds = _record(
    "workarounds",
    Column("description", Text, nullable=False),
    Column("effectiveness_level", String(20), nullable=False),
    _when("implemented_at", nullable=False),
    _uuid("implemented_by_id", nullable=False),
    _uuid("superseded_by_id"),
)

root_cause_analyses = _record(
    "root_cause_analyses",
    Column("analysis_method", String(30), nullable=False),
    Column("timeline", Text),
    Column("findings", Text),
    Column("root_cause", Text),
    _uuid("conducted_by_id", nullable=False),
    _when("completed_at"),
    _uuid("approved_by_id"),
    _when("approved_at"),
)

problems = _record(
    "problems",
    Column("title", String(300), nullable=False),
    Column("description", Text),
    _uuid("issued_by_id", nullable=False),
    _uuid("workaround_id"),
    Column("root_cause", Text),
)

# Every incident of a problem, the first (problems.incident_id) included.
problem_incidents = Table(
    "problem_incidents",
    metadata,
    _uuid("problem_id", nullable=False),
    _uuid("incident_id", nullable=False),
    _uuid("tenant_id", nullable=False),
    Column("linked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("problem_id", "incident_id"),
)

kb_articles = _record(
    "kb_articles",
    Column("title", String(300), nullable=False),
    Column("article_type", String(30), nullable=False),
    Column("category", String(30), nullable=False),
    Column("body", Text),
    _uuid("created_by_id", nullable=False),
    _uuid("reviewer_id"),
    _when("published_at"),
    Index("ix_kb_articles_category", "tenant_id", "category"),
)

post_incident_reviews = _record(
    "post_incident_reviews",
    _uuid("facilitator_id", nullable=False),
    Column("scheduled_date", Date, nullable=False),
    Column("overall_rating", Integer, nullable=False),
    Column("summary", Text),
    _uuid("created_by_id", nullable=False),
    _when("completed_at"),
)

pir_action_items = Table(
    "pir_action_items",
    metadata,
    _uuid("id", nullable=False, primary_key=True),
    _uuid("tenant_id", nullable=False),
    _uuid("review_id", nullable=False),
    Column("description", Text, nullable=False),
    _uuid("owner_id", nullable=False),
    Column("due_date", Date),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_pir_action_items_review", "review_id"),
)

# A tenant's periods in which changes should not run (PUT /v1/blackout-windows).
blackout_windows = Table(
    "blackout_windows",
    metadata,
    _uuid("id", nullable=False, primary_key=True),
    _uuid("tenant_id", nullable=False),
    _when("starts_at", nullable=False),
    _when("ends_at", nullable=False),
    Column("reason", String(300), nullable=False, server_default=""),
    Index("ix_blackout_windows_tenant", "tenant_id", "starts_at"),
)
