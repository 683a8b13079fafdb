"""users replica for access checks

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from backbone.migrations import create_principals_table_v1, drop_principals_table_v1

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_principals_table_v1("triage")


def downgrade() -> None:
    drop_principals_table_v1("triage")
