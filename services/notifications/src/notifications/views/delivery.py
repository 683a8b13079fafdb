"""Reads of deliveries (the caller's tenant's only)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import and_, select

from backbone.auth import Principal
from backbone.problems import NotFound
from backbone.uow import UnitOfWork
from notifications.adapters.orm import (
    deliveries,
)

_DELIVERY_COLUMNS = (
    deliveries.c.id,
    deliveries.c.tenant_id,
    deliveries.c.event_id,
    deliveries.c.event_type,
    deliveries.c.channel_id,
    deliveries.c.channel_kind,
    deliveries.c.recipient_key,
    deliveries.c.recipient_user_id,
    deliveries.c.incident_id,
    deliveries.c.communication_id,
    deliveries.c.reminder_id,
    deliveries.c.status,
    deliveries.c.attempts,
    deliveries.c.next_attempt_at,
    deliveries.c.last_error,
    deliveries.c.sent_at,
    deliveries.c.failed_at,
    deliveries.c.created_at,
)


async def get_delivery(uow: UnitOfWork, caller: Principal, delivery_id: UUID) -> dict[str, Any]:
    row = (
        await uow.session.execute(
            select(*_DELIVERY_COLUMNS).where(
                deliveries.c.id == delivery_id, deliveries.c.tenant_id == caller.tenant_id
            )
        )
    ).first()
    if row is None:
        raise NotFound(f"no delivery {delivery_id}")
    return dict(row._mapping)


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
    conditions = [deliveries.c.tenant_id == caller.tenant_id]
    for column, value in (
        (deliveries.c.channel_id, channel_id),
        (deliveries.c.status, status),
        (deliveries.c.event_id, event_id),
        (deliveries.c.incident_id, incident_id),
    ):
        if value is not None:
            conditions.append(column == value)
    if after is not None:
        conditions.append(deliveries.c.id < after)
    rows = await uow.session.execute(
        select(*_DELIVERY_COLUMNS).where(and_(*conditions)).order_by(deliveries.c.id.desc()).limit(limit)
    )
    return [dict(r._mapping) for r in rows]
