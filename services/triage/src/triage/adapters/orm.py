"""Tables of the triage service (schema ``triage``)."""

from sqlalchemy import Column, Index, Table, UniqueConstraint, false, text, true
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.schema import SchemaItem
from sqlalchemy.types import BigInteger, Boolean, DateTime, Integer, String, Text

from backbone.tables import service_schema, stamp, stamps, tenant_table

metadata, outbox, inbox, idempotency_keys, principals = service_schema("triage")

incidents = tenant_table(
    "incidents",
    metadata,
    # Pre-allocated by intake, so the reporter gets the id before the incident exists here.
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
    *stamps(),
    Column("deleted_at", DateTime(timezone=True)),
    # 0004: the incident record.
    Column("category", String(100)),
    # A slug of the tenant's priority catalog; follows the severity unless set by a person.
    Column("priority", String(40)),
    # What the flags give; ``severity`` is the effective one (an override, when there is one).
    Column("computed_severity", String(2)),
    Column("severity_override", String(2)),
    Column("severity_override_reason", Text),
    Column("severity_overridden_by", UUID(as_uuid=True)),
    Column("severity_overridden_at", DateTime(timezone=True)),
    # Facts from outside the report: the client's contractual P1 terms, and history.
    Column("contractual_p1", Boolean, nullable=False, server_default=false()),
    Column("recurrent", Boolean, nullable=False, server_default=false()),
    Column("reporter", JSONB),
    Column("alert_severity", String(40)),
    Column("details", JSONB, nullable=False, server_default="{}"),
    Column("metadata", JSONB, nullable=False, server_default="{}"),
    Column("resolution", Text),
    Column("acknowledged_at", DateTime(timezone=True)),
    Column("acknowledged_by", UUID(as_uuid=True)),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolved_by", UUID(as_uuid=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("closed_by", UUID(as_uuid=True)),
    Column("deleted_by", UUID(as_uuid=True)),
    UniqueConstraint("tenant_id", "reference_code"),
    Index("ix_incidents_tenant_status", "tenant_id", "status"),
    Index("ix_incidents_tenant_created", "tenant_id", "created_at"),
    # Keyset pages (newest first by the time-ordered id), whole tenant or one client/vendor.
    Index("ix_incidents_tenant_keyset", "tenant_id", "id"),
    Index("ix_incidents_tenant_client", "tenant_id", "client_id", "id"),
    Index("ix_incidents_tenant_vendor", "tenant_id", "vendor_id", "id"),
    Index("ix_incidents_tenant_component", "tenant_id", "component_id"),
    # Recurrence lookups: the same dedup key or component within a window.
    Index("ix_incidents_tenant_dedup_detected", "tenant_id", "dedup_key", "detected_at"),
    Index("ix_incidents_tenant_component_detected", "tenant_id", "component_id", "detected_at"),
)

reference_counters = Table(
    "reference_counters",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("last_number", BigInteger, nullable=False),
)

# Replica of directory's components (from component.registered.v1): what an incident opened on
# a component inherits (vendor, client, business criticality).
components = tenant_table(
    "components",
    metadata,
    Column("client_id", UUID(as_uuid=True), nullable=False),
    Column("vendor_id", UUID(as_uuid=True)),
    Column("business_critical", Boolean, nullable=False, server_default=false()),
)

# Replica of directory's subscriptions (subscription.changed.v1): the client's contractual P1 terms.
client_subscriptions = tenant_table(
    "client_subscriptions",
    metadata,
    Column("tier", String(20), nullable=False),
    Column("contractual_p1", Boolean, nullable=False, server_default=false()),
    stamp("updated_at"),
    key="client_id",
)

# Per-tenant catalogs (004), seeded with the defaults the first time a tenant is seen here.
tenant_catalogs = Table(
    "tenant_catalogs",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    stamp("seeded_at"),
)


def catalog_table(name: str, slug_length: int, name_length: int, *items: SchemaItem) -> Table:
    """One of a tenant's catalogs: entries by slug (unique in the tenant) with a display name,
    their own ``items``, and an is_active flag."""
    return tenant_table(
        name,
        metadata,
        Column("slug", String(slug_length), nullable=False),
        Column("name", String(name_length), nullable=False),
        *items,
        Column("is_active", Boolean, nullable=False, server_default=true()),
        *stamps(),
        UniqueConstraint("tenant_id", "slug"),
    )


incident_statuses = catalog_table(
    "incident_statuses",
    40,
    100,
    Column("sort_order", Integer, nullable=False),
    Column("is_terminal", Boolean, nullable=False, server_default=false()),
    Column("is_default", Boolean, nullable=False, server_default=false()),
    # Where an incident may move from here; NULL: any later status (by sort_order).
    Column("next_statuses", JSONB),
)
incident_categories = catalog_table(
    "incident_categories", 100, 200, Column("description", Text, nullable=False, server_default="")
)
# level: 1 = most urgent.
incident_priorities = catalog_table("incident_priorities", 40, 100, Column("level", Integer, nullable=False))

# One row per changed field (001 "Updating Incident Status": who, field, from, to, when).
incident_updates = tenant_table(
    "incident_updates",
    metadata,
    Column("incident_id", UUID(as_uuid=True), nullable=False),
    Column("field", String(60), nullable=False),
    Column("from_value", JSONB),
    Column("to_value", JSONB),
    Column("changed_by", UUID(as_uuid=True)),
    Column("changed_by_role", String(40)),
    # user | alert | system
    Column("via", String(20), nullable=False, server_default="user"),
    Column("note", Text),
    stamp("changed_at"),
    Index("ix_incident_updates_incident", "incident_id", "changed_at"),
)

incident_assignments = tenant_table(
    "incident_assignments",
    metadata,
    Column("incident_id", UUID(as_uuid=True), nullable=False),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    # assignee | delegate | cc
    Column("kind", String(20), nullable=False),
    Column("assigned_by", UUID(as_uuid=True)),
    Column("delegated_from", UUID(as_uuid=True)),
    Column("note", Text),
    stamp("assigned_at"),
    Column("unassigned_at", DateTime(timezone=True)),
    Column("is_active", Boolean, nullable=False, server_default=true()),
    Index("ix_incident_assignments_incident", "incident_id", "assigned_at"),
    Index("ix_incident_assignments_tenant_user", "tenant_id", "user_id", "is_active"),
    # A user holds one active assignment of each kind on an incident.
    Index(
        "uq_incident_assignments_active",
        "incident_id",
        "user_id",
        "kind",
        unique=True,
        postgresql_where=text("is_active"),
    ),
)

incident_escalations = tenant_table(
    "incident_escalations",
    metadata,
    Column("incident_id", UUID(as_uuid=True), nullable=False),
    Column("trigger", String(20), nullable=False),
    Column("cause", String(20), nullable=False),
    Column("reason", Text),
    Column("level", Integer),
    Column("policy_id", UUID(as_uuid=True)),
    Column("from_priority", String(40)),
    Column("to_priority", String(40)),
    Column("from_severity", String(2)),
    Column("to_severity", String(2)),
    Column("escalated_by", UUID(as_uuid=True)),
    stamp("escalated_at"),
    Index("ix_incident_escalations_incident", "incident_id", "escalated_at"),
)

incident_comments = tenant_table(
    "incident_comments",
    metadata,
    Column("incident_id", UUID(as_uuid=True), nullable=False),
    Column("author_id", UUID(as_uuid=True)),
    Column("author_role", String(40)),
    Column("body", Text, nullable=False),
    Column("is_internal", Boolean, nullable=False, server_default=true()),
    *stamps(),
    Index("ix_incident_comments_incident", "incident_id", "created_at"),
)

incident_tasks = tenant_table(
    "incident_tasks",
    metadata,
    Column("incident_id", UUID(as_uuid=True), nullable=False),
    Column("title", String(300), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("status", String(20), nullable=False),
    Column("assignee_id", UUID(as_uuid=True)),
    Column("due_at", DateTime(timezone=True)),
    Column("completed_at", DateTime(timezone=True)),
    Column("sort_order", Integer, nullable=False, server_default="0"),
    Column("created_by", UUID(as_uuid=True)),
    *stamps(),
    Index("ix_incident_tasks_incident", "incident_id", "sort_order"),
)

incident_attachments = tenant_table(
    "incident_attachments",
    metadata,
    Column("incident_id", UUID(as_uuid=True), nullable=False),
    Column("comment_id", UUID(as_uuid=True)),
    # Where the content is: the storage directory + this key (the content's sha256), never
    # the uploader's filename.
    Column("storage_key", String(64), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("mime_type", String(100), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("uploaded_by", UUID(as_uuid=True)),
    stamp("created_at"),
    Index("ix_incident_attachments_incident", "incident_id", "created_at"),
)

escalation_policies = tenant_table(
    "escalation_policies",
    metadata,
    Column("name", String(200), nullable=False),
    Column("client_id", UUID(as_uuid=True)),
    Column("min_severity", String(2)),
    # [{user_ids, roles, delay_minutes}, …] in paging order.
    Column("levels", JSONB, nullable=False),
    Column("loops", Integer, nullable=False, server_default="0"),
    *stamps(),
    UniqueConstraint("tenant_id", "name"),
    Index("ix_escalation_policies_tenant_client", "tenant_id", "client_id"),
)

# One row per incident with a policy: where the escalation stands, and its timer. The timer is
# the row itself (``next_due_at`` while running), so the loop that fires it and the consumer
# that stops it lock the same row and never deadlock. Levels are a snapshot taken when the
# escalation started: editing or deleting the policy does not change a running escalation.
escalations = tenant_table(
    "escalations",
    metadata,
    Column("policy_id", UUID(as_uuid=True), nullable=False),
    Column("policy_name", String(200), nullable=False),
    Column("levels", JSONB, nullable=False),
    Column("loops", Integer, nullable=False),
    # 1 for the first escalation of the incident, +1 each time a reopen starts it again.
    Column("run", Integer, nullable=False, server_default="1"),
    # Pages so far (all runs): numbers the history rows, so a step can only be written once.
    Column("seq", Integer, nullable=False, server_default="0"),
    Column("level", Integer, nullable=False),  # the last step paged
    Column("loop", Integer, nullable=False, server_default="0"),
    Column("status", String(20), nullable=False),  # running | stopped | completed
    Column("stop_reason", String(40)),
    # Acknowledgements at or after this time stop the run (a reopened incident may still
    # carry the acknowledgement of its first life); NULL: any acknowledgement stops it.
    Column("ack_after", DateTime(timezone=True)),
    # A reopened incident keeps its first acknowledgement, and acknowledging it again moves its
    # status without a new one: a run started by a reopen stops once the status moves on from
    # the one the reopen left (NULL for a run started on creation).
    Column("reopened_status", String(40)),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("next_due_at", DateTime(timezone=True)),
    stamp("updated_at"),
    Index("ix_escalations_due", "next_due_at", postgresql_where=text("status = 'running'")),
    key="incident_id",
)

# Every page of an incident, automatic or manual (consumed from incident.escalated.v1).
# ``dedupe_key`` makes each page happen once: "<run>:<seq>" for policy steps,
# "sla:<clock>:<kind>:<clock start>" for SLA events, "manual:<escalation id>" for people.
escalation_steps = tenant_table(
    "escalation_steps",
    metadata,
    # id: the event's escalation_id.
    Column("incident_id", UUID(as_uuid=True), nullable=False),
    Column("dedupe_key", String(200), nullable=False),
    Column("run", Integer),
    Column("trigger", String(20), nullable=False),
    Column("cause", String(20), nullable=False),
    Column("policy_id", UUID(as_uuid=True)),
    Column("level", Integer),
    Column("loop", Integer, nullable=False, server_default="0"),
    Column("target_user_ids", JSONB, nullable=False, server_default="[]"),
    Column("target_roles", JSONB, nullable=False, server_default="[]"),
    Column("reason", Text),
    Column("fired_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("incident_id", "dedupe_key"),
    Index("ix_escalation_steps_tenant_incident", "tenant_id", "incident_id", "fired_at"),
)
