"""Reads of an incident's comments."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from triage.adapters import comment as store
from triage.adapters import incident as incidents


async def comments(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> list[dict[str, Any]]:
    """The incident's comments, oldest first; a client or vendor contact reads the public ones."""
    await incidents.visible(uow.session, caller, incident_id)
    return await store.of_incident(
        uow.session, incident_id, public_only=caller.client_scoped or caller.vendor_scoped
    )
