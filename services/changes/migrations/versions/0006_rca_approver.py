"""root cause analyses keep who approved them and when

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
    op.add_column(
        "root_cause_analyses", sa.Column("approved_by_id", sa.UUID(), nullable=True), schema="changes"
    )
    op.add_column(
        "root_cause_analyses",
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        schema="changes",
    )


def downgrade() -> None:
    op.drop_column("root_cause_analyses", "approved_at", schema="changes")
    op.drop_column("root_cause_analyses", "approved_by_id", schema="changes")
