"""incident reports: each kept as generated"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from backbone.migrations import create_tenant_table_v1

revision, down_revision = "0005", "0004"


def upgrade() -> None:
    create_tenant_table_v1(
        "reports",
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("report_type", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("generated_by_id", sa.UUID(), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        schema="audit",
    )
    op.create_index("ix_reports_incident", "reports", ["tenant_id", "incident_id"], schema="audit")
    # A report finds the records about an incident that are keyed by another aggregate (an SLA
    # clock, a change, a delivery) by the incident id in their data.
    op.create_index(
        "ix_entries_incident", "entries", ["tenant_id", sa.text("(data ->> 'incident_id')")], schema="audit"
    )


def downgrade() -> None:
    op.drop_index("ix_entries_incident", table_name="entries", schema="audit")
    op.drop_index("ix_reports_incident", table_name="reports", schema="audit")
    op.drop_table("reports", schema="audit")
