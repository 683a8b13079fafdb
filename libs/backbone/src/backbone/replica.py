"""The one way a service keeps its copy of another service's data (docs/architecture.md
"Conventions"): handlers named ``replicate_<thing>`` turn a run of events into rows and call
``upsert``. Events of a run are in partition order, so the last row per key is the newest."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, and_, func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession


def latest(rows: Iterable[Mapping[str, Any]], key: Sequence[str]) -> list[dict[str, Any]]:
    """One row per key, the last given (the newest event) winning; in first-seen order."""
    newest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        newest[tuple(row[k] for k in key)] = dict(row)
    return list(newest.values())


async def upsert(
    session: AsyncSession,
    table: Table,
    rows: Iterable[Mapping[str, Any]],
    *,
    key: Sequence[str] = ("id",),
    touch: str | None = None,
    same: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Insert the rows, or update every given column of the row already there with the same
    key; ``touch`` names a timestamp column set to now() on update. A row is updated only where
    the columns named in ``same`` already hold the incoming values (``same=("tenant_id",)``:
    an event of another tenant never takes a row over). Returns the rows given, one per key."""
    values = latest(rows, key)
    if not values:
        return values
    stmt = insert(table).values(values)
    changed: dict[str, Any] = {c: stmt.excluded[c] for c in values[0] if c not in key}
    if touch is not None:
        changed[touch] = func.now()
    if changed:
        guard = and_(*(table.c[c] == stmt.excluded[c] for c in same)) if same else None
        statement = stmt.on_conflict_do_update(index_elements=list(key), set_=changed, where=guard)
    else:
        statement = stmt.on_conflict_do_nothing(index_elements=list(key))
    await session.execute(statement)
    return values
