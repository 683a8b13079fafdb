"""outbox rows and timer rows that keep failing: counted, then parked

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

from backbone.migrations import add_delivery_parking_v2, drop_delivery_parking_v2

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_delivery_parking_v2("changes")


def downgrade() -> None:
    drop_delivery_parking_v2("changes")
