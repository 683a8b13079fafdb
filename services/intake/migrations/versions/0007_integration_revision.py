"""integrations replica: revision and deletion

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


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
