"""The statements every directory word runs on its own table: the tenant's row or 404, is a
value taken, insert a row, change a row. Each word's adapter names its table once (``Rows``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Row, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.rows import get_or_404


@dataclass(frozen=True)
class Rows:
    table: Table
    what: str  # as a 404 names it: "no <what> <id>"
    # Conditions of the rows that still exist (a deleted integration reads like an absent one).
    live: tuple[ColumnElement[bool], ...] = ()

    async def get(
        self,
        session: AsyncSession,
        tenant_id: UUID,
        id_: UUID,
        *,
        field: str | None = None,
        for_update: bool = False,
        among: tuple[ColumnElement[bool], ...] = (),
    ) -> Row[Any]:
        """The tenant's row; another tenant's id is as unknown as a made-up one (404)."""
        return await get_or_404(
            session,
            self.table,
            id_,
            tenant_id,
            what=self.what,
            among=(*self.live, *among),
            for_update=for_update,
            field=field,
        )

    async def taken(
        self, session: AsyncSession, tenant_id: UUID, values: dict[str, Any], exclude: UUID | None = None
    ) -> str | None:
        """The first of the fields whose value another live row of the tenant holds, if any."""
        table = self.table
        for field, value in values.items():
            query = select(table.c.id).where(
                table.c.tenant_id == tenant_id, table.c[field] == value, *self.live
            )
            if exclude is not None:
                query = query.where(table.c.id != exclude)
            if await session.scalar(query.limit(1)) is not None:
                return field
        return None

    async def add(self, session: AsyncSession, values: dict[str, Any]) -> Row[Any]:
        """Insert the row; the row as stored (defaults included)."""
        return (await session.execute(insert(self.table).values(**values).returning(self.table))).one()

    async def change(self, session: AsyncSession, id_: UUID, values: dict[str, Any]) -> Row[Any]:
        """Set the values on the row with this id; the row as stored."""
        table = self.table
        return (
            await session.execute(update(table).where(table.c.id == id_).values(**values).returning(table))
        ).one()
