"""All SQL of the subscription replica (directory's subscription.changed.v1): a client's tier."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backbone import replica
from sla.adapters.orm import subscriptions


async def upsert(session: AsyncSession, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    # Another tenant's event never takes a client's row over.
    return await replica.upsert(
        session, subscriptions, rows, key=("client_id",), touch="updated_at", same=("tenant_id",)
    )


async def exists(session: AsyncSession, tenant_id: UUID, client_id: UUID) -> bool:
    """The client is known here (it has a subscription) in this tenant."""
    return await tier_of(session, tenant_id, client_id) is not None


async def tier_of(session: AsyncSession, tenant_id: UUID, client_id: UUID | None) -> str | None:
    if client_id is None:
        return None
    return await session.scalar(
        select(subscriptions.c.tier).where(
            subscriptions.c.client_id == client_id, subscriptions.c.tenant_id == tenant_id
        )
    )
