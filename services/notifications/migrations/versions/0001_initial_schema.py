"""initial schema

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

from backbone.migrations import create_delivery_tables_v1, drop_delivery_tables_v1

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_delivery_tables_v1("notifications")


def downgrade() -> None:
    drop_delivery_tables_v1("notifications")
