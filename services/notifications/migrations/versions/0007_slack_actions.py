"""Slack actions: where bot messages about incidents went, and the presses of their buttons"""

import sqlalchemy as sa
from alembic import op

from backbone.migrations import create_tenant_table_v1, now_v1, stamps_v1

revision, down_revision = "0007", "0006"

SCHEMA = "notifications"


def upgrade() -> None:
    create_tenant_table_v1(
        "slack_messages",
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("channel_id", sa.UUID(), nullable=False),
        sa.Column("slack_channel", sa.String(length=40), nullable=False),
        sa.Column("ts", sa.String(length=40), nullable=False),
        now_v1("created_at"),
        sa.UniqueConstraint("slack_channel", "ts", name="uq_slack_messages_channel_ts"),
        schema=SCHEMA,
        key="delivery_id",
    )
    create_tenant_table_v1(
        "slack_actions",
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("delivery_id", sa.UUID(), nullable=False),
        sa.Column("channel_id", sa.UUID(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("slack_user", sa.String(length=40), nullable=False),
        sa.Column("slack_channel", sa.String(length=40), nullable=False),
        sa.Column("ts", sa.String(length=40), nullable=False),
        sa.Column("action_ts", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("user_name", sa.String(length=200), nullable=True),
        sa.Column("request_event_id", sa.UUID(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        *stamps_v1(),
        sa.UniqueConstraint("slack_channel", "ts", "slack_user", "action_ts", name="uq_slack_actions_press"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_slack_actions_due",
        "slack_actions",
        ["due_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("due_at IS NOT NULL"),
    )
    op.create_index("ix_slack_actions_request", "slack_actions", ["request_event_id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("slack_actions", schema=SCHEMA)
    op.drop_table("slack_messages", schema=SCHEMA)
