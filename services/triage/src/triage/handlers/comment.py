"""Comments on an incident."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from backbone.auth import Principal
from backbone.problems import Forbidden
from backbone.uow import UnitOfWork
from contracts.envelope import new_id
from contracts.events import IncidentCommentAdded
from triage.adapters.orm import incident_comments
from triage.handlers.edits import (
    Who,
    _emit,
    _locked,
    _now,
    _touch,
    _visible,
)


async def add_comment(
    uow: UnitOfWork, caller: Principal, incident_id: UUID, body: str, is_internal: bool | None
) -> dict[str, Any]:
    """A comment. Client and vendor contacts write public comments only (and read only those);
    staff comments are internal unless said otherwise."""
    contact = caller.client_scoped or caller.vendor_scoped
    if contact and is_internal:
        raise Forbidden("client and vendor contacts write public comments only")
    row = await _locked(uow, caller, incident_id)
    comment = {
        "id": new_id(),
        "tenant_id": row["tenant_id"],
        "incident_id": incident_id,
        "author_id": caller.user_id,
        "author_role": caller.role.value,
        "body": body,
        "is_internal": False if contact else (True if is_internal is None else is_internal),
        "created_at": _now(),
    }
    comment["updated_at"] = comment["created_at"]
    await uow.session.execute(insert(incident_comments).values(comment))
    await _touch(uow, incident_id)
    _emit(
        uow,
        row,
        IncidentCommentAdded,
        Who.person(caller),
        comment_id=comment["id"],
        author_id=caller.user_id,
        body=body,
        is_internal=comment["is_internal"],
    )
    return comment


async def comments(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> list[dict[str, Any]]:
    await _visible(uow, caller, incident_id)
    query = select(incident_comments).where(incident_comments.c.incident_id == incident_id)
    if caller.client_scoped or caller.vendor_scoped:
        query = query.where(incident_comments.c.is_internal.is_(False))
    rows = await uow.session.execute(query.order_by(incident_comments.c.created_at, incident_comments.c.id))
    return [dict(r) for r in rows.mappings()]
