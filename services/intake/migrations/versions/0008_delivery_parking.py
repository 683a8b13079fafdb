"""outbox rows and timer rows that keep failing: counted, then parked"""

from backbone.migrations import delivery_parking_v2

revision, down_revision = "0008", "0007"
upgrade, downgrade = delivery_parking_v2("intake")
