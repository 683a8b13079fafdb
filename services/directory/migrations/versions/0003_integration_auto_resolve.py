"""integrations: auto_resolve"""

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0003", "0002"


def upgrade() -> None:
    op.add_column(
        "integrations",
        sa.Column("auto_resolve", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        schema="directory",
    )


def downgrade() -> None:
    op.drop_column("integrations", "auto_resolve", schema="directory")
