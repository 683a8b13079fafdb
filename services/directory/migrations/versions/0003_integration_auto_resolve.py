"""integrations: auto_resolve

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "integrations",
        sa.Column("auto_resolve", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        schema="directory",
    )


def downgrade() -> None:
    op.drop_column("integrations", "auto_resolve", schema="directory")
