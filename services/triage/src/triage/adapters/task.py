"""SQL of an incident's tasks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import Any
from uuid import UUID

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.rows import get_or_404
from triage.adapters.incident import rows_of
from triage.adapters.orm import incident_tasks
from triage.domain.task import Task


async def insert_one(session: AsyncSession, task: Task) -> None:
    await session.execute(insert(incident_tasks).values(asdict(task)))


async def lock(session: AsyncSession, tenant_id: UUID, incident_id: UUID, task_id: UUID) -> Task:
    """The incident's task, locked for the transaction; NotFound when it has no such task."""
    row = await get_or_404(
        session,
        incident_tasks,
        task_id,
        tenant_id,
        what="task",
        among=(incident_tasks.c.incident_id == incident_id,),
        for_update=True,
    )
    return Task.of(row._mapping)


async def save(session: AsyncSession, task: Task, changed: Iterable[str]) -> None:
    """Write the changed fields of the task, with its completion and update times."""
    values = {k: getattr(task, k) for k in changed}
    await session.execute(
        update(incident_tasks)
        .where(incident_tasks.c.id == task.id)
        .values(**values, completed_at=task.completed_at, updated_at=task.updated_at)
    )


async def of_incident(session: AsyncSession, incident_id: UUID) -> list[dict[str, Any]]:
    """The incident's tasks in their order."""
    return await rows_of(session, incident_tasks, incident_id, "sort_order", "created_at", "id")
