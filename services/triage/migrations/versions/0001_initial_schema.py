"""initial schema"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from backbone.migrations import (
    create_delivery_tables_v1,
    create_tenant_table_v1,
    drop_delivery_tables_v1,
    stamps_v1,
)

revision, down_revision = "0001", None


def upgrade() -> None:
    create_delivery_tables_v1("triage")
    create_tenant_table_v1(
        "incidents",
        sa.Column("reference_code", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=2), nullable=False),
        sa.Column("severity_flags", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("impact", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("dedup_key", sa.String(length=512), nullable=True),
        sa.Column("client_id", sa.UUID(), nullable=True),
        sa.Column("component_id", sa.UUID(), nullable=True),
        sa.Column("alert_count", sa.Integer(), server_default="1", nullable=False),
        sa.Column("labels", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        *stamps_v1(),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint(
            "tenant_id", "reference_code", name=op.f("uq_incidents_tenant_id_reference_code")
        ),
        schema="triage",
    )
    op.create_index(
        "ix_incidents_tenant_created", "incidents", ["tenant_id", "created_at"], unique=False, schema="triage"
    )
    op.create_index(
        "ix_incidents_tenant_status", "incidents", ["tenant_id", "status"], unique=False, schema="triage"
    )
    op.create_table(
        "reference_counters",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_reference_counters")),
        schema="triage",
    )


def downgrade() -> None:
    drop_delivery_tables_v1("triage")
    op.drop_table("reference_counters", schema="triage")
    op.drop_index("ix_incidents_tenant_status", table_name="incidents", schema="triage")
    op.drop_index("ix_incidents_tenant_created", table_name="incidents", schema="triage")
    op.drop_table("incidents", schema="triage")
