"""SQL of the files attached to an incident (their content is in the store, adapters/storage.py)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.auth import Principal
from backbone.rows import get_or_404
from triage.adapters.incident import rows_of
from triage.adapters.orm import incident_attachments, incident_comments


async def insert_one(session: AsyncSession, attachment: dict[str, Any]) -> None:
    await session.execute(insert(incident_attachments).values(attachment))


def _readable_by(caller: Principal) -> tuple[ColumnElement[bool], ...]:
    """Client and vendor contacts do not see files attached to internal comments."""
    if not (caller.client_scoped or caller.vendor_scoped):
        return ()
    internal = select(incident_comments.c.id).where(incident_comments.c.is_internal)
    return (
        or_(incident_attachments.c.comment_id.is_(None), incident_attachments.c.comment_id.not_in(internal)),
    )


async def of_incident(session: AsyncSession, caller: Principal, incident_id: UUID) -> list[dict[str, Any]]:
    """The incident's attachments the caller may read, oldest first."""
    return await rows_of(
        session, incident_attachments, incident_id, "created_at", "id", where=_readable_by(caller)
    )


async def one(
    session: AsyncSession, caller: Principal, incident_id: UUID, attachment_id: UUID
) -> dict[str, Any]:
    """One attachment of the incident, if the caller may read it; NotFound otherwise."""
    row = await get_or_404(
        session,
        incident_attachments,
        attachment_id,
        caller.tenant_id,
        what="attachment",
        among=(incident_attachments.c.incident_id == incident_id, *_readable_by(caller)),
    )
    return dict(row._mapping)
