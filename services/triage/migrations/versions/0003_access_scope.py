"""incident vendor link, components replica, indexes for scoped keyset listing

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("incidents", sa.Column("vendor_id", sa.UUID(), nullable=True), schema="triage")
    op.create_index(
        "ix_incidents_tenant_keyset", "incidents", ["tenant_id", "id"], unique=False, schema="triage"
    )
    op.create_index(
        "ix_incidents_tenant_client",
        "incidents",
        ["tenant_id", "client_id", "id"],
        unique=False,
        schema="triage",
    )
    op.create_index(
        "ix_incidents_tenant_vendor",
        "incidents",
        ["tenant_id", "vendor_id", "id"],
        unique=False,
        schema="triage",
    )
    op.create_index(
        "ix_incidents_tenant_component",
        "incidents",
        ["tenant_id", "component_id"],
        unique=False,
        schema="triage",
    )
    op.create_table(
        "components",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=False),
        sa.Column("vendor_id", sa.UUID(), nullable=True),
        sa.Column("business_critical", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_components")),
        schema="triage",
    )


def downgrade() -> None:
    op.drop_table("components", schema="triage")
    op.drop_index("ix_incidents_tenant_component", table_name="incidents", schema="triage")
    op.drop_index("ix_incidents_tenant_vendor", table_name="incidents", schema="triage")
    op.drop_index("ix_incidents_tenant_client", table_name="incidents", schema="triage")
    op.drop_index("ix_incidents_tenant_keyset", table_name="incidents", schema="triage")
    op.drop_column("incidents", "vendor_id", schema="triage")
