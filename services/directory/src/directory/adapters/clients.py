"""The SQL of clients and their subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from directory.adapters.orm import clients, subscriptions
from directory.adapters.shared import Rows

ROWS = Rows(clients, "client")


async def set_subscription(
    session: AsyncSession, tenant_id: UUID, client_id: UUID, values: dict[str, Any], now: datetime
) -> Row[Any]:
    """The client's one subscription, inserted or replaced."""
    stmt = insert(subscriptions).values(client_id=client_id, tenant_id=tenant_id, **values)
    return (
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["client_id"], set_={**values, "updated_at": now}
            ).returning(subscriptions)
        )
    ).one()
