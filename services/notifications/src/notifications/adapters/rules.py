"""SQL of routing rules, and a rule as the API shows it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.rows import get_or_404
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


async def get(session: AsyncSession, tenant_id: UUID, rule_id: UUID, *, for_update: bool = False) -> Row[Any]:
    return await get_or_404(session, routing_rules, rule_id, tenant_id, what="rule", for_update=for_update)


async def of_tenant(session: AsyncSession, tenant_id: UUID) -> list[Row[Any]]:
    return await records.of_tenant(session, routing_rules, tenant_id)


async def add(session: AsyncSession, values: Mapping[str, Any]) -> Row[Any]:
    return await records.add(session, routing_rules, values)


async def change(session: AsyncSession, rule_id: UUID, values: Mapping[str, Any]) -> Row[Any]:
    return await records.change(session, routing_rules, rule_id, values)
