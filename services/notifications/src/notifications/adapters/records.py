"""What channels and routing rules share: rows a tenant manages through the API, added and
changed with the stored row returned, listed in creation order (each reads one row of the
caller's tenant with backbone.rows.get_or_404)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import Row, Table, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters.orm import clients


async def add(session: AsyncSession, table: Table, values: Mapping[str, Any]) -> Row[Any]:
    return (await session.execute(insert(table).values(**values).returning(table))).one()


async def change(session: AsyncSession, table: Table, id_: UUID, values: Mapping[str, Any]) -> Row[Any]:
    return (
        await session.execute(
            table.update().where(table.c.id == id_).values(**values, updated_at=func.now()).returning(table)
        )
    ).one()


async def of_tenant(session: AsyncSession, table: Table, tenant_id: UUID) -> list[Row[Any]]:
    rows = await session.execute(
        select(table).where(table.c.tenant_id == tenant_id).order_by(table.c.created_at, table.c.id)
    )
    return list(rows)


async def known(session: AsyncSession, table: Table, tenant_id: UUID, ids: Iterable[UUID]) -> set[UUID]:
    """Which of ``ids`` are rows of the tenant."""
    wanted = set(ids)
    if not wanted:
        return set()
    found = await session.scalars(
        select(table.c.id).where(table.c.tenant_id == tenant_id, table.c.id.in_(wanted))
    )
    return set(found)


async def client_known(session: AsyncSession, tenant_id: UUID, client_id: UUID) -> bool:
    """Whether the client is one of the tenant's (as replicated from directory)."""
    return client_id in await known(session, clients, tenant_id, [client_id])
