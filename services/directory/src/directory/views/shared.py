"""Directory reads: every query filtered by the caller's tenant and narrowed to the caller's
client or vendor for contacts (docs/architecture.md). Out of scope reads like absent: 404."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Table, select

from backbone.auth import Principal
from backbone.rows import get_or_404
from backbone.uow import UnitOfWork
from directory.adapters.orm import clients, components, integrations, subscriptions, users, vendors

# Which column links each table's rows to a client and to a vendor (None: no such link).
_LINKS: dict[str, tuple[str | None, str | None]] = {
    "clients": ("id", None),
    "vendors": (None, "id"),
    "components": ("client_id", "vendor_id"),
    "users": ("client_id", "vendor_id"),
    "integrations": ("client_id", None),
    "subscriptions": ("client_id", None),
}


def scope(caller: Principal, table: Table) -> list[ColumnElement[bool]]:
    client_col, vendor_col = _LINKS[table.name]
    conditions = caller.scope(
        table.c[client_col] if client_col else None, table.c[vendor_col] if vendor_col else None
    )
    if "deleted_at" in table.c:  # deleted records read like absent ones
        conditions.append(table.c.deleted_at.is_(None))
    return conditions


async def one(uow: UnitOfWork, caller: Principal, table: Table, id_: UUID, what: str) -> Any:
    key = "client_id" if table is subscriptions else "id"
    return await get_or_404(
        uow.session, table, id_, caller.tenant_id, what=what, among=tuple(scope(caller, table)), key=key
    )


async def page(
    uow: UnitOfWork,
    caller: Principal,
    table: Table,
    *,
    after: UUID | None,
    limit: int,
    **filters: Any,
) -> list[Any]:
    """Keyset pagination by id (UUIDv7, so in creation order)."""
    query = select(table).where(table.c.tenant_id == caller.tenant_id, *scope(caller, table))
    for column, value in filters.items():
        if value is not None:
            query = query.where(table.c[column] == value)
    if after is not None:
        query = query.where(table.c.id > after)
    return list((await uow.session.execute(query.order_by(table.c.id).limit(limit))).all())


__all__ = ["clients", "components", "integrations", "one", "page", "subscriptions", "users", "vendors"]
