"""policies per tier and severity, business calendars"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision, down_revision = "0004", "0003"


def upgrade() -> None:
    op.create_table(
        "policies",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("tier", sa.String(length=20), nullable=False),
        sa.Column("severity", sa.String(length=2), nullable=False),
        sa.Column("calendar", sa.String(length=20), nullable=False),
        sa.Column("response_target_minutes", sa.Integer(), nullable=False),
        sa.Column("response_deadline_minutes", sa.Integer(), nullable=False),
        sa.Column("resolution_target_minutes", sa.Integer(), nullable=False),
        sa.Column("resolution_deadline_minutes", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by", sa.UUID(), nullable=True),
        sa.CheckConstraint("calendar IN ('24x7', 'business_hours')", name=op.f("ck_policies_calendar")),
        sa.CheckConstraint(
            "response_target_minutes >= 1 AND response_target_minutes <= response_deadline_minutes"
            " AND resolution_target_minutes >= 1"
            " AND resolution_target_minutes <= resolution_deadline_minutes",
            name=op.f("ck_policies_figures"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "tier", "severity", name=op.f("pk_policies")),
        schema="sla",
    )
    op.create_table(
        "calendars",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=True),
        sa.Column("definition", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.UUID(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendars")),
        schema="sla",
    )
    op.create_index(
        "uq_calendars_default",
        "calendars",
        ["tenant_id"],
        unique=True,
        schema="sla",
        postgresql_where=sa.text("client_id IS NULL"),
    )
    op.create_index(
        "uq_calendars_client",
        "calendars",
        ["tenant_id", "client_id"],
        unique=True,
        schema="sla",
        postgresql_where=sa.text("client_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_calendars_client", table_name="calendars", schema="sla")
    op.drop_index("uq_calendars_default", table_name="calendars", schema="sla")
    op.drop_table("calendars", schema="sla")
    op.drop_table("policies", schema="sla")
