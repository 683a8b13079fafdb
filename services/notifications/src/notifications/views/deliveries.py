"""Reads of deliveries (the caller's tenant's only)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from notifications.adapters import deliveries as delivery_store


async def get_delivery(uow: UnitOfWork, caller: Principal, delivery_id: UUID) -> dict[str, Any]:
    return await delivery_store.get(uow.session, caller.tenant_id, delivery_id)


async def list_deliveries(
    uow: UnitOfWork,
    caller: Principal,
    *,
    channel_id: UUID | None,
    status: str | None,
    event_id: UUID | None,
    incident_id: UUID | None,
    after: UUID | None,
    limit: int,
) -> list[dict[str, Any]]:
    filters = {"channel_id": channel_id, "status": status, "event_id": event_id, "incident_id": incident_id}
    return await delivery_store.search(
        uow.session, caller.tenant_id, filters=filters, after=after, limit=limit
    )
