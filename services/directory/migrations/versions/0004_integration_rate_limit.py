"""integrations: their own rate limit

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


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
