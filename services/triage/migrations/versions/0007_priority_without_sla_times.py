"""priorities lose response/resolution minutes: SLA figures live in the sla service's policies"""

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0007", "0006"

COLUMNS = ("response_time_minutes", "resolution_time_minutes")


def upgrade() -> None:
    for name in COLUMNS:
        op.drop_column("incident_priorities", name, schema="triage")


def downgrade() -> None:
    for name in COLUMNS:
        op.add_column("incident_priorities", sa.Column(name, sa.Integer(), nullable=True), schema="triage")
