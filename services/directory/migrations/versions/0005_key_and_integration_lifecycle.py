"""API keys remember their issuer; integrations are revised and soft-deleted"""

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0005", "0004"


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("issued_by", sa.UUID(), nullable=True), schema="directory")
    op.add_column(
        "integrations",
        sa.Column("revision", sa.Integer(), server_default=sa.text("1"), nullable=False),
        schema="directory",
    )
    op.add_column(
        "integrations", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True), schema="directory"
    )
    # A deleted integration's name may be used again: unique among the live ones only.
    op.drop_constraint("uq_integrations_tenant_id_name", "integrations", schema="directory", type_="unique")
    op.create_index(
        "ix_integrations_tenant_id_name_live",
        "integrations",
        ["tenant_id", "name"],
        unique=True,
        schema="directory",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_integrations_tenant_id_name_live", table_name="integrations", schema="directory")
    op.create_unique_constraint(
        "uq_integrations_tenant_id_name", "integrations", ["tenant_id", "name"], schema="directory"
    )
    op.drop_column("integrations", "deleted_at", schema="directory")
    op.drop_column("integrations", "revision", schema="directory")
    op.drop_column("api_keys", "issued_by", schema="directory")
