"""SQL for problem tickets: the record and the incidents linked to it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from changes.adapters.orm import problem_incidents
from changes.adapters.orm import problems as table


async def incident_ids(session: AsyncSession, problem_id: UUID) -> list[UUID]:
    query = (
        select(problem_incidents.c.incident_id)
        .where(problem_incidents.c.problem_id == problem_id)
        .order_by(problem_incidents.c.linked_at, problem_incidents.c.incident_id)
    )
    return list((await session.scalars(query)).all())


async def link(session: AsyncSession, tenant_id: UUID, problem_id: UUID, incident_id: UUID, now: Any) -> None:
    values = {"tenant_id": tenant_id, "problem_id": problem_id, "incident_id": incident_id, "linked_at": now}
    await session.execute(insert(problem_incidents).values(values))


def touching(incident_id: UUID) -> ColumnElement[bool]:
    """Problems one of whose incidents is ``incident_id``."""
    linked = select(problem_incidents.c.problem_id).where(problem_incidents.c.incident_id == incident_id)
    return table.c.id.in_(linked)


async def with_incidents(session: AsyncSession, row: dict[str, Any]) -> dict[str, Any]:
    """The problem's row with the ids of every incident linked to it."""
    return {**row, "incident_ids": await incident_ids(session, row["id"])}
