"""What notifications deletes when old (docs/retention.md): finished deliveries, and where
Slack messages went and who pressed their buttons. A delivery
holds the rendered message and the recipient's address (personal data); once sent or failed
for good it is kept only as long as NOTIFICATIONS_DELIVERY_RETENTION_DAYS allows. Pending and
in-flight deliveries are never deleted."""

from backbone.retention import batched_delete

FINISHED_DELIVERIES = batched_delete(
    "notifications.deliveries",
    "status IN ('sent', 'delivered', 'failed') AND updated_at < :cutoff",
)

# Their buttons outlive no delivery: a press on a message whose place is gone is ignored.
OLD_SLACK_MESSAGES = batched_delete("notifications.slack_messages", "created_at < :cutoff")
OLD_SLACK_ACTIONS = batched_delete("notifications.slack_actions", "due_at IS NULL AND created_at < :cutoff")
