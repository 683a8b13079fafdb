"""SQL of routing rules, and a rule as the API shows it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from notifications.adapters import records
from notifications.adapters.orm import routing_rules


def shown(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "tenant_id": row.tenant_id,
        "name": row.name,
        "event_types": list(row.event_types),
        "min_severity": row.min_severity,
        "client_id": row.client_id,
        "channel_ids": [UUID(c) for c in row.channel_ids],
        "user_ids": [UUID(u) for u in row.user_ids],
        "roles": list(row.roles),
        "event_targets": row.event_targets,
        "enabled": row.enabled,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


RULES = records.Records(routing_rules, "rule")
