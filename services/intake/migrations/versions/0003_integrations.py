"""alert integrations replica"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from backbone.migrations import create_tenant_table_v1, now_v1

revision, down_revision = "0003", "0002"


def upgrade() -> None:
    create_tenant_table_v1(
        "intake",
        "integrations",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=True),
        sa.Column("default_component_id", sa.UUID(), nullable=True),
        sa.Column(
            "impact_rules",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "default_impact",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "grouping_labels",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        now_v1("created_at"),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_integrations_token_sha256")),
    )


def downgrade() -> None:
    op.drop_table("integrations", schema="intake")
