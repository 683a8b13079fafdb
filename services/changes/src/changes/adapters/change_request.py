"""SQL for change requests: the record, and the windows a planned change may conflict with
(approved changes on the same component, the tenant's blackout windows)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from changes.adapters.orm import blackout_windows, change_requests
from contracts.enums import ChangeRequestStatus as S

table = change_requests
# Statuses of a change that holds its window: approved and not yet over.
HOLDING = (S.APPROVED, S.SCHEDULED, S.IN_PROGRESS)


async def windows_near(
    session: AsyncSession, tenant_id: UUID, component_id: UUID | None, exclude: UUID | None
) -> list[Any]:
    """Approved changes on the component with a planned window (other than ``exclude``)."""
    if component_id is None:
        return []
    query = select(table.c.id, table.c.planned_start, table.c.planned_end).where(
        table.c.tenant_id == tenant_id,
        table.c.component_id == component_id,
        table.c.status.in_(HOLDING),
        table.c.planned_start.is_not(None),
        table.c.planned_end.is_not(None),
    )
    if exclude is not None:
        query = query.where(table.c.id != exclude)
    return list(await session.execute(query))


async def blackouts(session: AsyncSession, tenant_id: UUID) -> list[Any]:
    query = (
        select(blackout_windows)
        .where(blackout_windows.c.tenant_id == tenant_id)
        .order_by(blackout_windows.c.starts_at)
    )
    return list(await session.execute(query))


async def replace_blackouts(session: AsyncSession, tenant_id: UUID, rows: Iterable[dict[str, Any]]) -> None:
    await session.execute(delete(blackout_windows).where(blackout_windows.c.tenant_id == tenant_id))
    values = [{**r, "tenant_id": tenant_id} for r in rows]
    if values:
        await session.execute(insert(blackout_windows), values)


async def implemented_on(
    session: AsyncSession, tenant_id: UUID, component_id: UUID, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    """Changes on the component that started running in [since, until]."""
    query = (
        select(table)
        .where(
            table.c.tenant_id == tenant_id,
            table.c.component_id == component_id,
            table.c.started_at.is_not(None),
            table.c.started_at >= since,
            table.c.started_at <= until,
        )
        .order_by(table.c.started_at.desc())
    )
    return [dict(r._mapping) for r in await session.execute(query)]


async def add_reported(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Reported changes, once each: a redelivered event finds its row there (same id)."""
    if rows:
        await session.execute(pg_insert(table).on_conflict_do_nothing(index_elements=["id"]), rows)
