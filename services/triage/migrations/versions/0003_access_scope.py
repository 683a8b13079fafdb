"""incident vendor link, components replica, indexes for scoped keyset listing"""

import sqlalchemy as sa
from alembic import op

from backbone.migrations import create_tenant_table_v1

revision, down_revision = "0003", "0002"


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
    create_tenant_table_v1(
        "components",
        sa.Column("client_id", sa.UUID(), nullable=False),
        sa.Column("vendor_id", sa.UUID(), nullable=True),
        sa.Column("business_critical", sa.Boolean(), server_default=sa.false(), nullable=False),
        schema="triage",
    )


def downgrade() -> None:
    op.drop_table("components", schema="triage")
    op.drop_index("ix_incidents_tenant_component", table_name="incidents", schema="triage")
    op.drop_index("ix_incidents_tenant_vendor", table_name="incidents", schema="triage")
    op.drop_index("ix_incidents_tenant_client", table_name="incidents", schema="triage")
    op.drop_index("ix_incidents_tenant_keyset", table_name="incidents", schema="triage")
    op.drop_column("incidents", "vendor_id", schema="triage")
