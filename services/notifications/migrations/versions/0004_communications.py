"""recorded communications and reminders"""

import sqlalchemy as sa
from alembic import op

from backbone.migrations import create_tenant_table_v1, jsonb_v1, now_v1

revision, down_revision = "0004", "0003"

SCHEMA = "notifications"


def upgrade() -> None:
    # Replica of triage's incident headlines (from every incident event).
    create_tenant_table_v1(
        "incidents",
        sa.Column("reference_code", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("severity", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=True),
        sa.Column("vendor_id", sa.UUID(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        now_v1("updated_at"),
        schema=SCHEMA,
    )
    op.create_index("ix_incidents_tenant", "incidents", ["tenant_id", "id"], schema=SCHEMA)

    create_tenant_table_v1(
        "communications",
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("sender_id", sa.UUID(), nullable=False),
        sa.Column("recipient_user_id", sa.UUID(), nullable=True),
        sa.Column("recipient_type", sa.String(length=20), nullable=False),
        sa.Column("communication_type", sa.String(length=40), nullable=False),
        sa.Column("delivery_method", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=300), server_default="", nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivery_status", sa.String(length=20), nullable=False),
        sa.Column("delivery_error", sa.Text(), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        now_v1("created_at"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_communications_tenant_incident",
        "communications",
        ["tenant_id", "incident_id", "id"],
        schema=SCHEMA,
    )
    op.create_index("ix_communications_tenant_keyset", "communications", ["tenant_id", "id"], schema=SCHEMA)

    create_tenant_table_v1(
        "reminders",
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("reminder_type", sa.String(length=100), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        jsonb_v1("user_ids", "'[]'::jsonb"),
        jsonb_v1("metadata", "'{}'::jsonb"),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.UUID(), nullable=True),
        sa.Column("created_by", sa.UUID(), nullable=True),
        now_v1("created_at"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_reminders_tenant_incident",
        "reminders",
        ["tenant_id", "incident_id", "scheduled_for"],
        schema=SCHEMA,
    )
    op.create_index(
        "ix_reminders_due",
        "reminders",
        ["scheduled_for"],
        schema=SCHEMA,
        postgresql_where=sa.text("status = 'scheduled'"),
    )


def downgrade() -> None:
    op.drop_index("ix_reminders_due", table_name="reminders", schema=SCHEMA)
    op.drop_index("ix_reminders_tenant_incident", table_name="reminders", schema=SCHEMA)
    op.drop_table("reminders", schema=SCHEMA)
    op.drop_index("ix_communications_tenant_keyset", table_name="communications", schema=SCHEMA)
    op.drop_index("ix_communications_tenant_incident", table_name="communications", schema=SCHEMA)
    op.drop_table("communications", schema=SCHEMA)
    op.drop_index("ix_incidents_tenant", table_name="incidents", schema=SCHEMA)
    op.drop_table("incidents", schema=SCHEMA)
