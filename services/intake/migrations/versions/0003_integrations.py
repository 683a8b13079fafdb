"""alert integrations replica"""

import sqlalchemy as sa
from alembic import op

from backbone.migrations import create_tenant_table_v1, integration_columns_v1, now_v1

revision, down_revision = "0003", "0002"


def upgrade() -> None:
    create_tenant_table_v1(
        "integrations",
        *integration_columns_v1(),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        now_v1("created_at"),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_integrations_token_sha256")),
        schema="intake",
    )


def downgrade() -> None:
    op.drop_table("integrations", schema="intake")
