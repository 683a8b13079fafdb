"""integrations replica: revision and deletion"""

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0007", "0006"


def upgrade() -> None:
    op.add_column(
        "integrations",
        sa.Column("revision", sa.Integer(), server_default=sa.text("0"), nullable=False),
        schema="intake",
    )
    op.add_column(
        "integrations", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True), schema="intake"
    )


def downgrade() -> None:
    op.drop_column("integrations", "deleted_at", schema="intake")
    op.drop_column("integrations", "revision", schema="intake")
