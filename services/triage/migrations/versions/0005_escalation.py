"""escalation policies and timers"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from backbone.migrations import create_tenant_table_v1, now_v1, stamps_v1

revision, down_revision = "0005", "0004"


def upgrade() -> None:
    create_tenant_table_v1(
        "escalation_policies",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=True),
        sa.Column("min_severity", sa.String(length=2), nullable=True),
        sa.Column("levels", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("loops", sa.Integer(), server_default="0", nullable=False),
        *stamps_v1(),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_escalation_policies_tenant_id_name")),
        schema="triage",
    )
    op.create_index(
        "ix_escalation_policies_tenant_client",
        "escalation_policies",
        ["tenant_id", "client_id"],
        unique=False,
        schema="triage",
    )
    create_tenant_table_v1(
        "escalations",
        sa.Column("policy_id", sa.UUID(), nullable=False),
        sa.Column("policy_name", sa.String(length=200), nullable=False),
        sa.Column("levels", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("loops", sa.Integer(), nullable=False),
        sa.Column("run", sa.Integer(), server_default="1", nullable=False),
        sa.Column("seq", sa.Integer(), server_default="0", nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("loop", sa.Integer(), server_default="0", nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("stop_reason", sa.String(length=40), nullable=True),
        sa.Column("ack_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reopened_status", sa.String(length=40), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True),
        now_v1("updated_at"),
        key="incident_id",
        schema="triage",
    )
    op.create_index(
        "ix_escalations_due",
        "escalations",
        ["next_due_at"],
        unique=False,
        schema="triage",
        postgresql_where=sa.text("status = 'running'"),
    )
    create_tenant_table_v1(
        "escalation_steps",
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("run", sa.Integer(), nullable=True),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("cause", sa.String(length=20), nullable=False),
        sa.Column("policy_id", sa.UUID(), nullable=True),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("loop", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "target_user_ids", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False
        ),
        sa.Column(
            "target_roles", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "incident_id", "dedupe_key", name=op.f("uq_escalation_steps_incident_id_dedupe_key")
        ),
        schema="triage",
    )
    op.create_index(
        "ix_escalation_steps_tenant_incident",
        "escalation_steps",
        ["tenant_id", "incident_id", "fired_at"],
        unique=False,
        schema="triage",
    )


def downgrade() -> None:
    op.drop_index("ix_escalation_steps_tenant_incident", table_name="escalation_steps", schema="triage")
    op.drop_table("escalation_steps", schema="triage")
    op.drop_index("ix_escalations_due", table_name="escalations", schema="triage")
    op.drop_table("escalations", schema="triage")
    op.drop_index("ix_escalation_policies_tenant_client", table_name="escalation_policies", schema="triage")
    op.drop_table("escalation_policies", schema="triage")
