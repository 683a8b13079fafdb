"""change requests without a requester: changes a tool reported (PagerDuty change events)

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column(
        "change_requests", "requested_by_id", existing_type=sa.UUID(), nullable=True, schema="changes"
    )


def downgrade() -> None:
    # Reported changes have no requester to restore; they go with the column's constraint.
    op.execute("DELETE FROM changes.change_requests WHERE requested_by_id IS NULL")
    op.alter_column(
        "change_requests", "requested_by_id", existing_type=sa.UUID(), nullable=False, schema="changes"
    )
