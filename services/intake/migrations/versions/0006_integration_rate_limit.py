"""integrations replica: their own rate limit

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("integrations", sa.Column("rate_limit_per_s", sa.Float(), nullable=True), schema="intake")
    op.add_column("integrations", sa.Column("rate_limit_burst", sa.Integer(), nullable=True), schema="intake")


def downgrade() -> None:
    op.drop_column("integrations", "rate_limit_burst", schema="intake")
    op.drop_column("integrations", "rate_limit_per_s", schema="intake")
