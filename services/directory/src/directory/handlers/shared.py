"""Checks and helpers every directory handler uses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.problems import Conflict
from backbone.uow import UnitOfWork
from contracts.envelope import EventData
from directory.adapters.shared import Rows


async def ensure_unique(
    uow: UnitOfWork, rows: Rows, tenant_id: UUID, values: dict[str, Any], exclude: UUID | None = None
) -> None:
    """003 halts on a duplicate; name the field. (The database's unique constraints stay the
    backstop for two requests racing; problems.py answers those with 409 too.) Deleted rows
    (integrations) hold no value."""
    field = await rows.taken(uow.session, tenant_id, values, exclude)
    if field is not None:
        raise Conflict(f"{field}: {values[field]!r} is already registered", field=field)


def state(row: Any, id_field: str) -> dict[str, Any]:
    """A row as an event's payload: its columns, with the id under the event's name for it."""
    data = dict(row._mapping)
    return {**data, id_field: data["id"]}


async def save_changes(
    uow: UnitOfWork,
    caller: Principal,
    current: Any,
    changes: dict[str, Any],
    save: Callable[[dict[str, Any]], Awaitable[Any]],
    event: Callable[..., EventData],
    id_field: str,
) -> Any:
    """The changes saved and announced (``event`` with the row and the fields changed); the row
    as it was when nothing changes, without an event."""
    if not changes:
        return current
    row = await save(changes)
    uow.emit(
        event(**state(row, id_field), changed=sorted(changes)), tenant_id=caller.tenant_id, actor=caller.actor
    )
    return row
