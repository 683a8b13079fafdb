"""users replica for access checks"""

from backbone.migrations import principals_table_v1

revision, down_revision = "0002", "0001"
upgrade, downgrade = principals_table_v1("intake")
