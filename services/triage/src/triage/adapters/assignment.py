"""SQL of who works an incident: assignments (assignees, CC watchers, delegations) and the
users replica they are checked against."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.tables import PRINCIPALS
from triage.adapters.orm import incident_assignments


async def user(session: AsyncSession, user_id: UUID) -> tuple[UUID, str] | None:
    """The user's tenant and status, as this service's replica knows them (None: unknown)."""
    row = (
        await session.execute(
            select(PRINCIPALS.c.tenant_id, PRINCIPALS.c.status).where(PRINCIPALS.c.user_id == user_id)
        )
    ).first()
    return (row.tenant_id, row.status) if row else None


async def of_incident(session: AsyncSession, incident_id: UUID, *, active_only: bool) -> list[dict[str, Any]]:
    """The incident's assignments in the order they were made (only those in force, or all)."""
    query = select(incident_assignments).where(incident_assignments.c.incident_id == incident_id)
    if active_only:
        query = query.where(incident_assignments.c.is_active)
    rows = await session.execute(
        query.order_by(incident_assignments.c.assigned_at, incident_assignments.c.id)
    )
    return [dict(r) for r in rows.mappings()]


async def end(session: AsyncSession, ids: list[UUID], at: datetime) -> None:
    await session.execute(
        update(incident_assignments)
        .where(incident_assignments.c.id.in_(ids))
        .values(is_active=False, unassigned_at=at)
    )


async def insert_one(session: AsyncSession, assignment: dict[str, Any]) -> None:
    await session.execute(insert(incident_assignments).values(assignment))
