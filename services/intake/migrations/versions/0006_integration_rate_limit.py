"""integrations replica: their own rate limit"""

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0006", "0005"


def upgrade() -> None:
    op.add_column("integrations", sa.Column("rate_limit_per_s", sa.Float(), nullable=True), schema="intake")
    op.add_column("integrations", sa.Column("rate_limit_burst", sa.Integer(), nullable=True), schema="intake")


def downgrade() -> None:
    op.drop_column("integrations", "rate_limit_burst", schema="intake")
    op.drop_column("integrations", "rate_limit_per_s", schema="intake")
