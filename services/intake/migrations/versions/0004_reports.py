"""manual and public reports: reporters, public submissions"""

import sqlalchemy as sa
from alembic import op

from backbone.migrations import create_tenant_table_v1, now_v1

revision, down_revision = "0004", "0003"


def upgrade() -> None:
    create_tenant_table_v1(
        "clients",
        sa.Column("status", sa.String(length=20), nullable=False),
        now_v1("updated_at"),
        schema="intake",
    )
    create_tenant_table_v1(
        "components",
        sa.Column("client_id", sa.UUID(), nullable=False),
        sa.Column("vendor_id", sa.UUID(), nullable=True),
        schema="intake",
    )
    create_tenant_table_v1(
        "reporters",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("organization", sa.String(length=200), nullable=True),
        now_v1("created_at"),
        schema="intake",
    )
    op.create_index(
        "ix_reporters_tenant_email", "reporters", ["tenant_id", sa.text("lower(email)")], schema="intake"
    )
    create_tenant_table_v1(
        "public_submissions",
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("reporter_id", sa.UUID(), nullable=False),
        now_v1("created_at"),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["intake.reporters.id"],
            name=op.f("fk_public_submissions_reporter_id_reporters"),
        ),
        sa.UniqueConstraint("incident_id", name=op.f("uq_public_submissions_incident_id")),
        schema="intake",
    )
    op.create_index(
        op.f("ix_public_submissions_reporter_id"),
        "public_submissions",
        ["reporter_id"],
        unique=False,
        schema="intake",
    )
    op.create_table(
        "report_rate_limits",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("client_key", sa.String(length=40), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "client_key", name=op.f("pk_report_rate_limits")),
        schema="intake",
    )
    op.create_index(
        op.f("ix_report_rate_limits_window_start"),
        "report_rate_limits",
        ["window_start"],
        unique=False,
        schema="intake",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_report_rate_limits_window_start"), table_name="report_rate_limits", schema="intake"
    )
    op.drop_table("report_rate_limits", schema="intake")
    op.drop_index(op.f("ix_public_submissions_reporter_id"), table_name="public_submissions", schema="intake")
    op.drop_table("public_submissions", schema="intake")
    op.drop_index("ix_reporters_tenant_email", table_name="reporters", schema="intake")
    op.drop_table("reporters", schema="intake")
    op.drop_table("components", schema="intake")
    op.drop_table("clients", schema="intake")
