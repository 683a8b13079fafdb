"""What channels and routing rules share: rows a tenant manages through the API, added and
changed with the stored row returned, listed in creation order, read one at a time or 404
(another tenant's id answers exactly like an unknown one)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import Row, Table, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.rows import get_or_404
from notifications.adapters.orm import clients


@dataclass(frozen=True)
class Records:
    """The SQL one kind of record (its table, and the word a 404 names it by) shares."""

    table: Table
    what: str

    async def get(
        self, session: AsyncSession, tenant_id: UUID, id_: UUID, *, for_update: bool = False
    ) -> Row[Any]:
        """The tenant's record, else 404 ("no <what> <id>")."""
        return await get_or_404(session, self.table, id_, tenant_id, what=self.what, for_update=for_update)

    async def of_tenant(self, session: AsyncSession, tenant_id: UUID) -> list[Row[Any]]:
        """The tenant's records in creation order."""
        table = self.table
        rows = await session.execute(
            select(table).where(table.c.tenant_id == tenant_id).order_by(table.c.created_at, table.c.id)
        )
        return list(rows)

    async def add(self, session: AsyncSession, values: Mapping[str, Any]) -> Row[Any]:
        return (await session.execute(insert(self.table).values(**values).returning(self.table))).one()

    async def change(self, session: AsyncSession, id_: UUID, values: Mapping[str, Any]) -> Row[Any]:
        table = self.table
        statement = table.update().where(table.c.id == id_).values(**values, updated_at=func.now())
        return (await session.execute(statement.returning(table))).one()

    async def known(self, session: AsyncSession, tenant_id: UUID, ids: Iterable[UUID]) -> set[UUID]:
        """Which of ``ids`` are the tenant's records."""
        wanted = set(ids)
        if not wanted:
            return set()
        table = self.table
        found = await session.scalars(
            select(table.c.id).where(table.c.tenant_id == tenant_id, table.c.id.in_(wanted))
        )
        return set(found)


CLIENTS = Records(clients, "client")


async def client_known(session: AsyncSession, tenant_id: UUID, client_id: UUID) -> bool:
    """Whether the client is one of the tenant's (as replicated from directory)."""
    return client_id in await CLIENTS.known(session, tenant_id, [client_id])
