"""Reading one row of the caller's tenant (docs/architecture.md "Conventions"): another tenant's
id answers exactly as an unknown one, 404, so ids reveal nothing across tenants."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Row, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.problems import NotFound


async def get_or_404(
    session: AsyncSession,
    table: Table,
    id_: UUID,
    tenant_id: UUID,
    *,
    what: str,
    among: tuple[ColumnElement[bool], ...] = (),
    key: str = "id",
    for_update: bool = False,
    field: str | None = None,
) -> Row[Any]:
    """The row of ``table`` whose ``key`` is ``id_`` and whose tenant is ``tenant_id`` (and that
    matches every condition in ``among``: the caller's scope, not deleted, ...), locked for the
    transaction when ``for_update``; else NotFound ("no <what> <id>", naming ``field`` when the
    id came from a body field)."""
    query = select(table).where(table.c[key] == id_, table.c.tenant_id == tenant_id, *among)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"no {what} {id_}", field=field)
    return row
