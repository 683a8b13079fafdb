"""initial schema"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from backbone.migrations import create_delivery_tables_v1, drop_delivery_tables_v1, now_v1

revision, down_revision = "0001", None


def upgrade() -> None:
    create_delivery_tables_v1("audit")
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("actor", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        now_v1("recorded_at"),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("event_id", name=op.f("uq_audit_log_event_id")),
        schema="audit",
    )
    op.create_index(
        "ix_audit_log_subject", "audit_log", ["tenant_id", "subject"], unique=False, schema="audit"
    )
    op.create_index(
        "ix_audit_log_tenant_seq", "audit_log", ["tenant_id", "seq"], unique=False, schema="audit"
    )
    op.create_table(
        "chain_heads",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_chain_heads")),
        schema="audit",
    )


def downgrade() -> None:
    drop_delivery_tables_v1("audit")
    op.drop_table("chain_heads", schema="audit")
    op.drop_index("ix_audit_log_tenant_seq", table_name="audit_log", schema="audit")
    op.drop_index("ix_audit_log_subject", table_name="audit_log", schema="audit")
    op.drop_table("audit_log", schema="audit")
