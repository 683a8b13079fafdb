"""alerts: events v2 and generic, auto-resolve state, silences"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from backbone.migrations import create_tenant_table_v1, now_v1, stamps_v1

revision, down_revision = "0005", "0004"


def upgrade() -> None:
    op.add_column(
        "integrations",
        sa.Column("auto_resolve", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        schema="intake",
    )
    op.add_column("dedup_keys", sa.Column("integration_id", sa.UUID(), nullable=True), schema="intake")
    op.add_column(
        "dedup_keys", sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True), schema="intake"
    )
    op.add_column(
        "dedup_keys",
        now_v1("announced_at"),
        schema="intake",
    )
    op.add_column(
        "dedup_keys",
        sa.Column("announced_count", sa.Integer(), server_default="1", nullable=False),
        schema="intake",
    )
    # Keys open before this revision: their count so far counts as told.
    op.execute("UPDATE intake.dedup_keys SET announced_count = alert_count WHERE status = 'open'")
    op.create_index(
        "ix_dedup_keys_unannounced",
        "dedup_keys",
        ["announced_at"],
        schema="intake",
        postgresql_where=sa.text("status = 'open' AND alert_count > announced_count"),
    )
    # alerts: from one row per delivery to one row per alert of a dedup key.
    op.add_column("alerts", sa.Column("dedup_id", sa.UUID(), nullable=True), schema="intake")
    op.add_column(
        "alerts",
        now_v1("changed_at"),
        schema="intake",
    )
    op.execute(
        """
        UPDATE intake.alerts a SET dedup_id = d.id, changed_at = a.received_at
        FROM intake.dedup_keys d
        WHERE d.incident_id = a.incident_id AND d.tenant_id = a.tenant_id
        """
    )
    # Keep the newest delivery of each alert.
    op.execute(
        """
        DELETE FROM intake.alerts a USING (
            SELECT id, row_number() OVER (
                PARTITION BY dedup_id, fingerprint ORDER BY received_at DESC, id DESC
            ) AS n
            FROM intake.alerts WHERE dedup_id IS NOT NULL
        ) r
        WHERE a.id = r.id AND r.n > 1
        """
    )
    op.create_index(
        "uq_alerts_dedup_fingerprint", "alerts", ["dedup_id", "fingerprint"], unique=True, schema="intake"
    )
    op.create_table(
        "rate_buckets",
        sa.Column("integration_id", sa.UUID(), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        now_v1("updated_at"),
        sa.PrimaryKeyConstraint("integration_id", name=op.f("pk_rate_buckets")),
        schema="intake",
    )
    create_tenant_table_v1(
        "silences",
        sa.Column("matchers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=True),
        sa.Column("created_by", sa.UUID(), nullable=True),
        *stamps_v1(),
        schema="intake",
    )
    op.create_index("ix_silences_tenant_ends_at", "silences", ["tenant_id", "ends_at"], schema="intake")
    op.create_table(
        "silenced_alerts",
        sa.Column("silence_id", sa.UUID(), nullable=False),
        sa.Column("dedup_key", sa.String(length=512), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("alert_count", sa.Integer(), server_default="1", nullable=False),
        now_v1("first_seen_at"),
        now_v1("last_seen_at"),
        sa.PrimaryKeyConstraint("silence_id", "dedup_key", name="pk_silenced_alerts"),
        schema="intake",
    )


def downgrade() -> None:
    op.drop_table("silenced_alerts", schema="intake")
    op.drop_index("ix_silences_tenant_ends_at", table_name="silences", schema="intake")
    op.drop_table("silences", schema="intake")
    op.drop_table("rate_buckets", schema="intake")
    op.drop_index("uq_alerts_dedup_fingerprint", table_name="alerts", schema="intake")
    op.drop_column("alerts", "changed_at", schema="intake")
    op.drop_column("alerts", "dedup_id", schema="intake")
    op.drop_index("ix_dedup_keys_unannounced", table_name="dedup_keys", schema="intake")
    op.drop_column("dedup_keys", "announced_count", schema="intake")
    op.drop_column("dedup_keys", "announced_at", schema="intake")
    op.drop_column("dedup_keys", "acknowledged_at", schema="intake")
    op.drop_column("dedup_keys", "integration_id", schema="intake")
    op.drop_column("integrations", "auto_resolve", schema="intake")
