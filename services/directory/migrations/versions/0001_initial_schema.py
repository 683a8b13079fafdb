"""initial schema"""

import sqlalchemy as sa
from alembic import op

from backbone.migrations import (
    create_delivery_tables_v1,
    create_tenant_table_v1,
    drop_delivery_tables_v1,
    now_v1,
)

revision, down_revision = "0001", None


def upgrade() -> None:
    create_delivery_tables_v1("directory")
    op.create_table(
        "tenants",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        now_v1("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("slug", name=op.f("uq_tenants_slug")),
        schema="directory",
    )
    create_tenant_table_v1(
        "users",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="active", nullable=False),
        sa.Column("is_platform_operator", sa.Boolean(), server_default="false", nullable=False),
        now_v1("created_at"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["directory.tenants.id"], name=op.f("fk_users_tenant_id_tenants")
        ),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        schema="directory",
    )
    op.create_index(op.f("ix_users_tenant_id"), "users", ["tenant_id"], unique=False, schema="directory")
    create_tenant_table_v1(
        "api_keys",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        now_v1("created_at"),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["directory.tenants.id"], name=op.f("fk_api_keys_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["directory.users.id"], name=op.f("fk_api_keys_user_id_users")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
        schema="directory",
    )
    op.create_index(
        op.f("ix_api_keys_tenant_id"), "api_keys", ["tenant_id"], unique=False, schema="directory"
    )


def downgrade() -> None:
    drop_delivery_tables_v1("directory")
    op.drop_index(op.f("ix_api_keys_tenant_id"), table_name="api_keys", schema="directory")
    op.drop_table("api_keys", schema="directory")
    op.drop_index(op.f("ix_users_tenant_id"), table_name="users", schema="directory")
    op.drop_table("users", schema="directory")
    op.drop_table("tenants", schema="directory")
