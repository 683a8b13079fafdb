"""What intake deletes when old (docs/retention.md): alerts of incidents no longer open, and
dedup keys closed long ago. An open dedup key and its alerts are never deleted: auto-resolve
needs them."""

from backbone.retention import batched_delete

ALERTS = batched_delete(
    "intake.alerts",
    "changed_at < :cutoff AND NOT EXISTS (SELECT 1 FROM intake.dedup_keys d "
    "WHERE d.id = intake.alerts.dedup_id AND d.status = 'open')",
)
CLOSED_DEDUP_KEYS = batched_delete("intake.dedup_keys", "status <> 'open' AND closed_at < :cutoff")
