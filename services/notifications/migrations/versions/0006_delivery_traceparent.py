"""deliveries carry the trace context of the event that queued them"""

from alembic import op

from backbone.migrations import traceparent_v1

revision, down_revision = "0006", "0005"

SCHEMA = "notifications"


def upgrade() -> None:
    op.add_column("deliveries", traceparent_v1(), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("deliveries", "traceparent", schema=SCHEMA)
