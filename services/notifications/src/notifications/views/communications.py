"""Reads of recorded communications."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from notifications.adapters import communications as communication_store


async def get_communication(uow: UnitOfWork, caller: Principal, communication_id: UUID) -> dict[str, Any]:
    return await communication_store.get(uow.session, caller, communication_id)


async def list_communications(
    uow: UnitOfWork, caller: Principal, *, incident_id: UUID | None, after: UUID | None, limit: int
) -> list[dict[str, Any]]:
    return await communication_store.search(
        uow.session, caller, incident_id=incident_id, after=after, limit=limit
    )
