"""outbox rows and timer rows that keep failing: counted, then parked"""

from backbone.migrations import delivery_parking_v2

revision, down_revision = "0006", "0005"
upgrade, downgrade = delivery_parking_v2("directory")
