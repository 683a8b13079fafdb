"""The SQL every record of the service shares: insert, update, load one of the tenant's, and a
keyset page. The per-word adapters bind it to their table and add their own queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.rows import get_or_404


async def add(session: AsyncSession, table: Table, values: dict[str, Any]) -> dict[str, Any]:
    row = (await session.execute(insert(table).values(values).returning(table))).one()
    return dict(row._mapping)


async def change(
    session: AsyncSession, table: Table, id_: UUID, values: dict[str, Any], now: Any
) -> dict[str, Any]:
    extra = {"updated_at": now} if "updated_at" in table.c else {}
    stmt = update(table).where(table.c.id == id_).values({**values, **extra}).returning(table)
    return dict((await session.execute(stmt)).one()._mapping)


async def load(
    session: AsyncSession,
    table: Table,
    id_: UUID,
    tenant_id: UUID,
    *,
    what: str,
    among: tuple[ColumnElement[bool], ...] = (),
    for_update: bool = False,
    field: str | None = None,
) -> dict[str, Any]:
    row = await get_or_404(
        session, table, id_, tenant_id, what=what, among=among, for_update=for_update, field=field
    )
    return dict(row._mapping)


async def page(
    session: AsyncSession,
    table: Table,
    tenant_id: UUID,
    where: Sequence[ColumnElement[bool]],
    after: UUID | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Up to ``limit`` rows after the id ``after``, oldest first (ids are time-ordered)."""
    query = select(table).where(table.c.tenant_id == tenant_id, *where)
    if after is not None:
        query = query.where(table.c.id > after)
    rows = await session.execute(query.order_by(table.c.id).limit(limit))
    return [dict(r._mapping) for r in rows]
