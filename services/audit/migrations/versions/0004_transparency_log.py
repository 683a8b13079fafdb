"""the transparency log: entries, stored tree hashes, heads, signed checkpoints, signing keys
(the hash chain's tables stay, read-only history)"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision, down_revision = "0004", "0003"


def upgrade() -> None:
    op.create_table(
        "entries",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("actor", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("leaf", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "leaf_index", name=op.f("pk_entries")),
        sa.UniqueConstraint("tenant_id", "event_id", name="uq_entries_tenant_id_event_id"),
        schema="audit",
    )
    op.create_index("ix_entries_subject", "entries", ["tenant_id", "subject", "leaf_index"], schema="audit")
    op.create_index(
        "ix_entries_event_type", "entries", ["tenant_id", "event_type", "leaf_index"], schema="audit"
    )
    op.create_table(
        "hashes",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("hash_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "hash_index", name=op.f("pk_hashes")),
        schema="audit",
    )
    op.create_table(
        "heads",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("grew_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_size", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("signed_key", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_heads")),
        schema="audit",
    )
    op.create_index("ix_heads_unsigned", "heads", ["grew_at"], schema="audit")
    op.create_table(
        "checkpoints",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoints")),
        schema="audit",
    )
    op.create_index("ix_checkpoints_tenant", "checkpoints", ["tenant_id", "id"], schema="audit")
    op.create_table(
        "signing_keys",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("first_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_signing_keys")),
        schema="audit",
    )


def downgrade() -> None:
    op.drop_table("signing_keys", schema="audit")
    op.drop_index("ix_checkpoints_tenant", table_name="checkpoints", schema="audit")
    op.drop_table("checkpoints", schema="audit")
    op.drop_index("ix_heads_unsigned", table_name="heads", schema="audit")
    op.drop_table("heads", schema="audit")
    op.drop_table("hashes", schema="audit")
    op.drop_index("ix_entries_event_type", table_name="entries", schema="audit")
    op.drop_index("ix_entries_subject", table_name="entries", schema="audit")
    op.drop_table("entries", schema="audit")
