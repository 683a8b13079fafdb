"""What notifications deletes when old (docs/retention.md): finished deliveries. A delivery
holds the rendered message and the recipient's address (personal data); once sent or failed
for good it is kept only as long as NOTIFICATIONS_DELIVERY_RETENTION_DAYS allows. Pending and
in-flight deliveries are never deleted."""

from backbone.retention import batched_delete

FINISHED_DELIVERIES = batched_delete(
    "notifications.deliveries",
    "status IN ('sent', 'delivered', 'failed') AND updated_at < :cutoff",
)
