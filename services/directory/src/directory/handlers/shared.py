"""Checks and helpers every directory handler uses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Table, select

from backbone.problems import Conflict, NotFound
from backbone.uow import UnitOfWork


async def ensure_unique(
    uow: UnitOfWork,
    table: Table,
    tenant_id: UUID,
    values: dict[str, Any],
    exclude: UUID | None = None,
    among: tuple[ColumnElement[bool], ...] = (),
) -> None:
    """003 halts on a duplicate; name the field. (The database's unique constraints stay the
    backstop for two requests racing; problems.py answers those with 409 too.) ``among``
    narrows the rows compared with, e.g. to integrations not deleted."""
    for field, value in values.items():
        query = select(table.c.id).where(table.c.tenant_id == tenant_id, table.c[field] == value, *among)
        if exclude is not None:
            query = query.where(table.c.id != exclude)
        if await uow.session.scalar(query.limit(1)) is not None:
            raise Conflict(f"{field}: {value!r} is already registered", field=field)


async def row_of(
    uow: UnitOfWork,
    table: Table,
    tenant_id: UUID,
    id_: UUID,
    what: str,
    field: str = "",
    *,
    among: tuple[ColumnElement[bool], ...] = (),
    for_update: bool = False,
) -> Any:
    """The tenant's row with this id; another tenant's id is as unknown as a made-up one."""
    query = select(table).where(table.c.id == id_, table.c.tenant_id == tenant_id, *among)
    if for_update:
        query = query.with_for_update()
    row = (await uow.session.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"no {what} {id_}", field=field or None)
    return row


def state(row: Any, id_field: str) -> dict[str, Any]:
    """A row as an event's payload: its columns, with the id under the event's name for it."""
    data = dict(row._mapping)
    return {**data, id_field: data["id"]}


def now() -> datetime:
    return datetime.now(UTC)
