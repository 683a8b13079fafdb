"""integrations: their own rate limit"""

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0004", "0003"


def upgrade() -> None:
    op.add_column(
        "integrations", sa.Column("rate_limit_per_s", sa.Float(), nullable=True), schema="directory"
    )
    op.add_column(
        "integrations", sa.Column("rate_limit_burst", sa.Integer(), nullable=True), schema="directory"
    )


def downgrade() -> None:
    op.drop_column("integrations", "rate_limit_burst", schema="directory")
    op.drop_column("integrations", "rate_limit_per_s", schema="directory")
