"""initial schema"""

from backbone.migrations import delivery_tables_v1

revision, down_revision = "0001", None
upgrade, downgrade = delivery_tables_v1("sla")
