"""incident record: lifecycle catalogs, updates, assignments, comments, tasks, attachments"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import SchemaItem

from backbone.migrations import create_tenant_table_v1, now_v1, stamps_v1

revision, down_revision = "0004", "0003"

S = "triage"

INCIDENT_COLUMNS: list[sa.Column[Any]] = [
    sa.Column("category", sa.String(length=100), nullable=True),
    sa.Column("priority", sa.String(length=40), nullable=True),
    sa.Column("computed_severity", sa.String(length=2), nullable=True),
    sa.Column("severity_override", sa.String(length=2), nullable=True),
    sa.Column("severity_override_reason", sa.Text(), nullable=True),
    sa.Column("severity_overridden_by", sa.UUID(), nullable=True),
    sa.Column("severity_overridden_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("contractual_p1", sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column("recurrent", sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column("reporter", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column("alert_severity", sa.String(length=40), nullable=True),
    sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
    sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
    sa.Column("resolution", sa.Text(), nullable=True),
    sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("acknowledged_by", sa.UUID(), nullable=True),
    sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("resolved_by", sa.UUID(), nullable=True),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("closed_by", sa.UUID(), nullable=True),
    sa.Column("deleted_by", sa.UUID(), nullable=True),
]


def _catalog(name: str, slug_length: int, name_length: int, *items: SchemaItem) -> None:
    """A tenant's catalog (statuses, categories, priorities): entries by slug, unique in the
    tenant, with a display name, ``items``, and whether they are offered."""
    create_tenant_table_v1(
        name,
        sa.Column("slug", sa.String(length=slug_length), nullable=False),
        sa.Column("name", sa.String(length=name_length), nullable=False),
        *items,
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        *stamps_v1(),
        sa.UniqueConstraint("tenant_id", "slug", name=op.f(f"uq_{name}_tenant_id_slug")),
        schema=S,
    )


def _incident_record(name: str, *items: SchemaItem, order: str) -> None:
    """A table of an incident's records: its key and tenant, the incident, ``items``, and the
    index that lists one incident's records by ``order``."""
    create_tenant_table_v1(name, sa.Column("incident_id", sa.UUID(), nullable=False), *items, schema=S)
    op.create_index(f"ix_{name}_incident", name, ["incident_id", order], schema=S)


def upgrade() -> None:
    for column in INCIDENT_COLUMNS:
        op.add_column("incidents", column, schema=S)
    # Incidents opened before 0004: what they were computed at, and the priority it implies.
    op.execute(
        "UPDATE triage.incidents SET computed_severity = severity, priority = CASE severity "
        "WHEN 'P1' THEN 'critical' WHEN 'P2' THEN 'high' WHEN 'P3' THEN 'medium' ELSE 'low' END"
    )
    op.create_index(
        "ix_incidents_tenant_dedup_detected", "incidents", ["tenant_id", "dedup_key", "detected_at"], schema=S
    )
    op.create_index(
        "ix_incidents_tenant_component_detected",
        "incidents",
        ["tenant_id", "component_id", "detected_at"],
        schema=S,
    )
    create_tenant_table_v1(
        "client_subscriptions",
        sa.Column("tier", sa.String(length=20), nullable=False),
        sa.Column("contractual_p1", sa.Boolean(), server_default=sa.false(), nullable=False),
        now_v1("updated_at"),
        key="client_id",
        schema=S,
    )
    op.create_table(
        "tenant_catalogs",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        now_v1("seeded_at"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_catalogs")),
        schema=S,
    )
    _catalog(
        "incident_statuses",
        40,
        100,
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("is_terminal", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("is_default", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("next_statuses", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    _catalog(
        "incident_categories",
        100,
        200,
        sa.Column("description", sa.Text(), server_default="", nullable=False),
    )
    _catalog(
        "incident_priorities",
        40,
        100,
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("response_time_minutes", sa.Integer(), nullable=True),
        sa.Column("resolution_time_minutes", sa.Integer(), nullable=True),
    )
    _incident_record(
        "incident_updates",
        sa.Column("field", sa.String(length=60), nullable=False),
        sa.Column("from_value", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("to_value", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("changed_by", sa.UUID(), nullable=True),
        sa.Column("changed_by_role", sa.String(length=40), nullable=True),
        sa.Column("via", sa.String(length=20), server_default="user", nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        now_v1("changed_at"),
        order="changed_at",
    )
    _incident_record(
        "incident_assignments",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("assigned_by", sa.UUID(), nullable=True),
        sa.Column("delegated_from", sa.UUID(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        now_v1("assigned_at"),
        sa.Column("unassigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        order="assigned_at",
    )
    op.create_index(
        "ix_incident_assignments_tenant_user",
        "incident_assignments",
        ["tenant_id", "user_id", "is_active"],
        schema=S,
    )
    op.create_index(
        "uq_incident_assignments_active",
        "incident_assignments",
        ["incident_id", "user_id", "kind"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("is_active"),
    )
    _incident_record(
        "incident_escalations",
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("cause", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("policy_id", sa.UUID(), nullable=True),
        sa.Column("from_priority", sa.String(length=40), nullable=True),
        sa.Column("to_priority", sa.String(length=40), nullable=True),
        sa.Column("from_severity", sa.String(length=2), nullable=True),
        sa.Column("to_severity", sa.String(length=2), nullable=True),
        sa.Column("escalated_by", sa.UUID(), nullable=True),
        now_v1("escalated_at"),
        order="escalated_at",
    )
    _incident_record(
        "incident_comments",
        sa.Column("author_id", sa.UUID(), nullable=True),
        sa.Column("author_role", sa.String(length=40), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("is_internal", sa.Boolean(), server_default=sa.true(), nullable=False),
        *stamps_v1(),
        order="created_at",
    )
    _incident_record(
        "incident_tasks",
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("assignee_id", sa.UUID(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sort_order", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=True),
        *stamps_v1(),
        order="sort_order",
    )
    _incident_record(
        "incident_attachments",
        sa.Column("comment_id", sa.UUID(), nullable=True),
        sa.Column("storage_key", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("uploaded_by", sa.UUID(), nullable=True),
        now_v1("created_at"),
        order="created_at",
    )


def downgrade() -> None:
    for table in (
        "incident_attachments",
        "incident_tasks",
        "incident_comments",
        "incident_escalations",
        "incident_assignments",
        "incident_updates",
        "incident_priorities",
        "incident_categories",
        "incident_statuses",
        "tenant_catalogs",
        "client_subscriptions",
    ):
        op.drop_table(table, schema=S)
    op.drop_index("ix_incidents_tenant_component_detected", table_name="incidents", schema=S)
    op.drop_index("ix_incidents_tenant_dedup_detected", table_name="incidents", schema=S)
    for column in reversed(INCIDENT_COLUMNS):
        op.drop_column("incidents", column.name, schema=S)
