"""channels, routing rules, templates, preferences, recipients and clients replicas, deliveries"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from backbone.migrations import create_tenant_table_v1, now_v1, stamps_v1

revision, down_revision = "0003", "0002"

S = "notifications"


def upgrade() -> None:
    create_tenant_table_v1(
        "channels",
        sa.Column("client_id", sa.UUID(), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("config", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("secrets_encrypted", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        *stamps_v1(),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_channels_tenant_id_name")),
        schema=S,
    )
    op.create_index("ix_channels_tenant_kind", "channels", ["tenant_id", "kind"], schema=S)
    create_tenant_table_v1(
        "routing_rules",
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("event_types", postgresql.JSONB(), nullable=False),
        sa.Column("min_severity", sa.String(2), nullable=True),
        sa.Column("client_id", sa.UUID(), nullable=True),
        sa.Column("channel_ids", postgresql.JSONB(), nullable=False),
        sa.Column("user_ids", postgresql.JSONB(), nullable=False, server_default="[]"),
        sa.Column("roles", postgresql.JSONB(), nullable=False, server_default="[]"),
        sa.Column("event_targets", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        *stamps_v1(),
        schema=S,
    )
    op.create_index("ix_routing_rules_tenant", "routing_rules", ["tenant_id"], schema=S)
    create_tenant_table_v1(
        "template_overrides",
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("channel_kind", sa.String(20), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        now_v1("updated_at"),
        sa.UniqueConstraint(
            "tenant_id",
            "event_type",
            "channel_kind",
            name=op.f("uq_template_overrides_tenant_id_event_type_channel_kind"),
        ),
        schema=S,
    )
    create_tenant_table_v1(
        "preferences",
        sa.Column("muted_kinds", postgresql.JSONB(), nullable=False, server_default="[]"),
        sa.Column("muted_event_types", postgresql.JSONB(), nullable=False, server_default="[]"),
        sa.Column("min_severity", sa.String(2), nullable=True),
        sa.Column("slack_handle", sa.String(100), nullable=True),
        now_v1("updated_at"),
        key="user_id",
        schema=S,
    )
    create_tenant_table_v1(
        "recipients",
        sa.Column("email", sa.String(320), nullable=False, server_default=""),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=True),
        sa.Column("vendor_id", sa.UUID(), nullable=True),
        key="user_id",
        schema=S,
    )
    op.create_index("ix_recipients_tenant_role", "recipients", ["tenant_id", "role"], schema=S)
    create_tenant_table_v1(
        "clients",
        sa.Column("name", sa.String(200), nullable=False),
        schema=S,
    )
    create_tenant_table_v1(
        "deliveries",
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("recipient_key", sa.String(200), nullable=False),
        sa.Column("channel_id", sa.UUID(), nullable=False),
        sa.Column("channel_kind", sa.String(20), nullable=False),
        sa.Column("recipient_user_id", sa.UUID(), nullable=True),
        sa.Column("address", sa.String(320), nullable=True),
        sa.Column("incident_id", sa.UUID(), nullable=True),
        sa.Column("communication_id", sa.UUID(), nullable=True),
        sa.Column("reminder_id", sa.UUID(), nullable=True),
        sa.Column("message", postgresql.JSONB(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        now_v1("next_attempt_at"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        *stamps_v1(),
        sa.UniqueConstraint(
            "event_id", "recipient_key", "channel_id", name="uq_deliveries_event_recipient_channel"
        ),
        schema=S,
    )
    op.create_index(
        "ix_deliveries_channel_due",
        "deliveries",
        ["channel_id", "next_attempt_at"],
        schema=S,
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )
    op.create_index("ix_deliveries_tenant_created", "deliveries", ["tenant_id", "id"], schema=S)


def downgrade() -> None:
    for table in (
        "deliveries",
        "clients",
        "recipients",
        "preferences",
        "template_overrides",
        "routing_rules",
        "channels",
    ):
        op.drop_table(table, schema=S)
