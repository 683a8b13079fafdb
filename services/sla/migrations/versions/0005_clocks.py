"""clocks, their timers, the incident and subscription replicas, pause settings, metrics"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision, down_revision = "0005", "0004"

S = "sla"


def _now() -> sa.Column[object]:
    return sa.Column(
        "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def _at(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("client_id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("tier", sa.String(20), nullable=False),
        _now(),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_subscriptions")),
        schema=S,
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("reference_code", sa.String(40), nullable=True),
        sa.Column("client_id", sa.UUID(), nullable=True),
        sa.Column("vendor_id", sa.UUID(), nullable=True),
        sa.Column("severity", sa.String(2), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("tier", sa.String(20), nullable=True),
        _at("created_at"),
        _at("detected_at"),
        _at("acknowledged_at"),
        _at("first_response_at"),
        _at("resolved_at"),
        _at("closed_at"),
        _at("deleted_at"),
        _now(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        schema=S,
    )
    op.create_index("ix_incidents_tenant_closed", "incidents", ["tenant_id", "closed_at"], schema=S)
    op.create_table(
        "clock_settings",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("pause_enabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("pause_statuses", JSONB(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("default_tier", sa.String(20), server_default=sa.text("'basic'"), nullable=False),
        _now(),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_clock_settings")),
        schema=S,
    )
    op.create_table(
        "clocks",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=True),
        sa.Column("vendor_id", sa.UUID(), nullable=True),
        sa.Column("tier", sa.String(20), nullable=False),
        sa.Column("severity", sa.String(2), nullable=False),
        sa.Column("calendar", sa.String(20), nullable=False),
        sa.Column("target_minutes", sa.Integer(), nullable=False),
        sa.Column("deadline_minutes", sa.Integer(), nullable=False),
        _at("started_at", nullable=False),
        sa.Column("segments", JSONB(), nullable=False),
        sa.Column("pauses", JSONB(), nullable=False),
        sa.Column("extensions", JSONB(), nullable=False),
        sa.Column("history", JSONB(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("at_risk", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        _at("warn_at"),
        _at("due_at"),
        _at("warned_at"),
        _at("breached_at"),
        _at("stopped_at"),
        _at("cancelled_at"),
        _now(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clocks")),
        sa.UniqueConstraint("incident_id", "kind", name="uq_clocks_incident_kind"),
        schema=S,
    )
    op.create_index("ix_clocks_tenant_state", "clocks", ["tenant_id", "state", "id"], schema=S)
    op.create_index("ix_clocks_tenant_client", "clocks", ["tenant_id", "client_id", "id"], schema=S)
    op.create_table(
        "clock_timers",
        sa.Column("clock_id", sa.UUID(), nullable=False),
        sa.Column("what", sa.String(10), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        _at("due_at", nullable=False),
        _at("fired_at"),
        sa.PrimaryKeyConstraint("clock_id", "what", name=op.f("pk_clock_timers")),
        schema=S,
    )
    op.create_index(
        "ix_clock_timers_due",
        "clock_timers",
        ["due_at"],
        schema=S,
        postgresql_where=sa.text("fired_at IS NULL"),
    )
    op.create_table(
        "metrics",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("metric_type", sa.String(20), nullable=False),
        sa.Column("calculated_value_minutes", sa.Float(), nullable=False),
        sa.Column("target_minutes", sa.Integer(), nullable=True),
        sa.Column("met_target", sa.Boolean(), nullable=True),
        sa.Column("recorded_by", sa.UUID(), nullable=True),
        _at("recorded_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metrics")),
        schema=S,
    )
    op.create_index("ix_metrics_tenant_incident", "metrics", ["tenant_id", "incident_id"], schema=S)


def downgrade() -> None:
    for table in ("metrics", "clock_timers", "clocks", "clock_settings", "incidents", "subscriptions"):
        op.drop_table(table, schema=S)
