"""Files attached to an incident (their content is in the store)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.problems import Unprocessable
from backbone.uow import UnitOfWork
from contracts.envelope import new_id
from contracts.events import IncidentAttachmentAdded
from triage.adapters import attachment as store
from triage.adapters import comment as comments
from triage.adapters import incident as incidents
from triage.handlers.incident import announce, person


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
    found = await incidents.lock(uow.session, caller, incident_id)
    if comment_id is not None and not await comments.exists_on(uow.session, incident_id, comment_id):
        raise Unprocessable(f"comment_id: no comment {comment_id} on this incident", field="comment_id")
    attachment = {
        "id": new_id(),
        "tenant_id": found.tenant_id,
        "incident_id": incident_id,
        "comment_id": comment_id,
        "storage_key": storage_key,
        "filename": filename,
        "mime_type": mime_type,
        "size_bytes": size_bytes,
        "uploaded_by": caller.user_id,
        "created_at": uow.now,
    }
    await store.insert_one(uow.session, attachment)
    await incidents.touch(uow.session, incident_id)
    announce(
        uow,
        found,
        IncidentAttachmentAdded,
        person(caller),
        attachment_id=attachment["id"],
        filename=filename,
        mime_type=mime_type,
        size_bytes=size_bytes,
        comment_id=comment_id,
        uploaded_by=caller.user_id,
    )
    return attachment
