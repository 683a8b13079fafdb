"""the checkpoint signer reads the heads it signs without updating them: what a log's latest
checkpoint covers is read from the checkpoints themselves (heads.signed_size and
heads.signed_key go)"""

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0006", "0005"


def upgrade() -> None:
    op.drop_column("heads", "signed_key", schema="audit")
    op.drop_column("heads", "signed_size", schema="audit")


def downgrade() -> None:
    op.add_column(
        "heads", sa.Column("signed_size", sa.BigInteger(), server_default="0", nullable=False), schema="audit"
    )
    op.add_column("heads", sa.Column("signed_key", sa.String(length=64), nullable=True), schema="audit")
