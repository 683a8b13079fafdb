"""SQL of an incident's comments."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from triage.adapters.incident import rows_of
from triage.adapters.orm import incident_comments


async def insert_one(session: AsyncSession, comment: dict[str, Any]) -> None:
    await session.execute(insert(incident_comments).values(comment))


async def of_incident(session: AsyncSession, incident_id: UUID, *, public_only: bool) -> list[dict[str, Any]]:
    """The incident's comments, oldest first (only the public ones, or all)."""
    public = (incident_comments.c.is_internal.is_(False),) if public_only else ()
    return await rows_of(session, incident_comments, incident_id, "created_at", "id", where=public)


async def exists_on(session: AsyncSession, incident_id: UUID, comment_id: UUID) -> bool:
    found = await session.scalar(
        select(incident_comments.c.id).where(
            incident_comments.c.id == comment_id, incident_comments.c.incident_id == incident_id
        )
    )
    return found is not None
