"""initial schema"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from backbone.migrations import (
    create_delivery_tables_v1,
    create_tenant_table_v1,
    drop_delivery_tables_v1,
    now_v1,
)

revision, down_revision = "0001", None


def upgrade() -> None:
    create_delivery_tables_v1("intake")
    create_tenant_table_v1(
        "alerts",
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("fingerprint", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("labels", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        now_v1("received_at"),
        schema="intake",
    )
    op.create_index(op.f("ix_alerts_incident_id"), "alerts", ["incident_id"], unique=False, schema="intake")
    create_tenant_table_v1(
        "dedup_keys",
        sa.Column("dedup_key", sa.String(length=512), nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="open", nullable=False),
        sa.Column("alert_count", sa.Integer(), server_default="1", nullable=False),
        now_v1("first_seen_at"),
        now_v1("last_seen_at"),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        schema="intake",
    )
    op.create_index(
        op.f("ix_dedup_keys_incident_id"), "dedup_keys", ["incident_id"], unique=False, schema="intake"
    )
    op.create_index(
        "uq_dedup_keys_open",
        "dedup_keys",
        ["tenant_id", "dedup_key"],
        unique=True,
        schema="intake",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "tenants",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("slug", name=op.f("uq_tenants_slug")),
        schema="intake",
    )


def downgrade() -> None:
    drop_delivery_tables_v1("intake")
    op.drop_table("tenants", schema="intake")
    op.drop_index(
        "uq_dedup_keys_open",
        table_name="dedup_keys",
        schema="intake",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.drop_index(op.f("ix_dedup_keys_incident_id"), table_name="dedup_keys", schema="intake")
    op.drop_table("dedup_keys", schema="intake")
    op.drop_index(op.f("ix_alerts_incident_id"), table_name="alerts", schema="intake")
    op.drop_table("alerts", schema="intake")
