"""Files attached to an incident (their content is in the store)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert

from backbone.auth import Principal
from backbone.problems import NotFound, Unprocessable
from backbone.uow import UnitOfWork
from contracts.envelope import new_id
from contracts.events import IncidentAttachmentAdded
from triage.adapters.orm import (
    incident_attachments,
    incident_comments,
)
from triage.handlers.edits import (
    Who,
    _emit,
    _locked,
    _now,
    _touch,
    _visible,
)


async def add_attachment(
    uow: UnitOfWork,
    caller: Principal,
    incident_id: UUID,
    *,
    storage_key: str,
    filename: str,
    mime_type: str,
    size_bytes: int,
    comment_id: UUID | None,
) -> dict[str, Any]:
    """Record an attachment whose content is already stored under ``storage_key``."""
    row = await _locked(uow, caller, incident_id)
    if comment_id is not None:
        found = await uow.session.scalar(
            select(incident_comments.c.id).where(
                incident_comments.c.id == comment_id, incident_comments.c.incident_id == incident_id
            )
        )
        if found is None:
            raise Unprocessable(f"comment_id: no comment {comment_id} on this incident", field="comment_id")
    attachment = {
        "id": new_id(),
        "tenant_id": row["tenant_id"],
        "incident_id": incident_id,
        "comment_id": comment_id,
        "storage_key": storage_key,
        "filename": filename,
        "mime_type": mime_type,
        "size_bytes": size_bytes,
        "uploaded_by": caller.user_id,
        "created_at": _now(),
    }
    await uow.session.execute(insert(incident_attachments).values(attachment))
    await _touch(uow, incident_id)
    _emit(
        uow,
        row,
        IncidentAttachmentAdded,
        Who.person(caller),
        attachment_id=attachment["id"],
        filename=filename,
        mime_type=mime_type,
        size_bytes=size_bytes,
        comment_id=comment_id,
        uploaded_by=caller.user_id,
    )
    return attachment


def _attachments_readable_by(caller: Principal) -> list[Any]:
    """Client and vendor contacts do not see files attached to internal comments."""
    if not (caller.client_scoped or caller.vendor_scoped):
        return []
    internal = select(incident_comments.c.id).where(incident_comments.c.is_internal)
    return [
        or_(incident_attachments.c.comment_id.is_(None), incident_attachments.c.comment_id.not_in(internal))
    ]


async def attachments(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> list[dict[str, Any]]:
    await _visible(uow, caller, incident_id)
    rows = await uow.session.execute(
        select(incident_attachments)
        .where(incident_attachments.c.incident_id == incident_id, *_attachments_readable_by(caller))
        .order_by(incident_attachments.c.created_at, incident_attachments.c.id)
    )
    return [dict(r) for r in rows.mappings()]


async def attachment(
    uow: UnitOfWork, caller: Principal, incident_id: UUID, attachment_id: UUID
) -> dict[str, Any]:
    await _visible(uow, caller, incident_id)
    row = (
        (
            await uow.session.execute(
                select(incident_attachments).where(
                    incident_attachments.c.id == attachment_id,
                    incident_attachments.c.incident_id == incident_id,
                    *_attachments_readable_by(caller),
                )
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no attachment {attachment_id} on incident {incident_id}")
    return dict(row)
