"""Reads every record shares: one record, or a page of them, as the caller may see them
(client and vendor contacts only the records linked to their client or vendor; out of scope
reads as absent, 404)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, create_model
from sqlalchemy import ColumnElement, Table
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.auth import Principal
from changes.adapters import records


def model_of(table: Table, name: str, **types: Any) -> type[BaseModel]:
    """The API's shape of a record: a field per column of its table, typed as the column is
    (nullable columns may be null; every column is always there), ``types`` naming the
    enumerations and adding computed fields. One source for /docs and the answers, so neither
    drifts from the table."""
    fields: dict[str, Any] = {}
    for column in table.columns:
        kind = types.pop(column.name, None) or column.type.python_type
        fields[column.name] = (kind | None if column.nullable else kind, ...)
    fields |= {field: (kind, ...) for field, kind in types.items()}
    model: type[BaseModel] = create_model(name, __config__=ConfigDict(from_attributes=True), **fields)
    return model


def list_of(model: type[BaseModel]) -> Any:
    """``list[model]`` for a model made at run time (a type checker sees a variable)."""
    return list[model]  # type: ignore[valid-type]


def _scope(caller: Principal, table: Table) -> tuple[ColumnElement[bool], ...]:
    return tuple(caller.scope(table.c.client_id, table.c.vendor_id))


async def one(session: AsyncSession, caller: Principal, table: Table, id_: UUID, what: str) -> dict[str, Any]:
    return await records.load(session, table, id_, caller.tenant_id, what=what, among=_scope(caller, table))


async def page(
    session: AsyncSession,
    caller: Principal,
    table: Table,
    filters: Mapping[str, Any],
    after: UUID | None,
    limit: int,
    where: Sequence[ColumnElement[bool]] = (),
) -> list[dict[str, Any]]:
    """A page of the caller's records matching every filter given (None: not filtered)."""
    conditions = [table.c[name] == value for name, value in filters.items() if value is not None]
    return await records.page(
        session, table, caller.tenant_id, [*conditions, *where, *_scope(caller, table)], after, limit
    )


class Reader:
    """``one`` and ``page`` bound to one record's table; ``attach`` adds what each record
    carries from other tables (its action items, its linked incidents)."""

    def __init__(
        self,
        table: Table,
        what: str,
        attach: Callable[[AsyncSession, dict[str, Any]], Awaitable[dict[str, Any]]] | None = None,
    ) -> None:
        self.table, self.what, self.attach = table, what, attach

    async def get(self, session: AsyncSession, caller: Principal, id_: UUID) -> dict[str, Any]:
        row = await one(session, caller, self.table, id_, self.what)
        return await self.attach(session, row) if self.attach else row

    async def page(
        self,
        session: AsyncSession,
        caller: Principal,
        filters: Mapping[str, Any],
        after: UUID | None,
        limit: int,
        where: Sequence[ColumnElement[bool]] = (),
    ) -> list[dict[str, Any]]:
        rows = await page(session, caller, self.table, filters, after, limit, where)
        return [await self.attach(session, r) for r in rows] if self.attach else rows
