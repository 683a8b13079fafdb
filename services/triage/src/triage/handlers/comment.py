"""Comments on an incident."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.problems import Forbidden
from backbone.uow import UnitOfWork
from contracts.envelope import new_id
from contracts.events import IncidentCommentAdded
from triage.adapters import comment as store
from triage.adapters import incident as incidents
from triage.handlers.incident import announce, person


async def add_comment(
    uow: UnitOfWork, caller: Principal, incident_id: UUID, body: str, is_internal: bool | None
) -> dict[str, Any]:
    """A comment. Client and vendor contacts write public comments only (and read only those);
    staff comments are internal unless said otherwise."""
    contact = caller.client_scoped or caller.vendor_scoped
    if contact and is_internal:
        raise Forbidden("client and vendor contacts write public comments only")
    found = await incidents.lock(uow.session, caller, incident_id)
    comment = {
        "id": new_id(),
        "tenant_id": found.tenant_id,
        "incident_id": incident_id,
        "author_id": caller.user_id,
        "author_role": caller.role.value,
        "body": body,
        "is_internal": False if contact else (True if is_internal is None else is_internal),
        "created_at": uow.now,
        "updated_at": uow.now,
    }
    await store.insert_one(uow.session, comment)
    await incidents.touch(uow.session, incident_id)
    announce(
        uow,
        found,
        IncidentCommentAdded,
        person(caller),
        comment_id=comment["id"],
        author_id=caller.user_id,
        body=body,
        is_internal=comment["is_internal"],
    )
    return comment
