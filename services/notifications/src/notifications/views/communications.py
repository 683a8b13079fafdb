"""Reads of recorded communications."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.problems import NotFound
from backbone.uow import UnitOfWork
from notifications.adapters import communications as communication_store


async def get_communication(uow: UnitOfWork, caller: Principal, communication_id: UUID) -> dict[str, Any]:
    row = await communication_store.get(uow.session, caller, communication_id)
    if row is None:
        raise NotFound(f"no communication {communication_id}")
    return row


async def list_communications(
    uow: UnitOfWork, caller: Principal, *, incident_id: UUID | None, after: UUID | None, limit: int
) -> list[dict[str, Any]]:
    return await communication_store.search(
        uow.session, caller, incident_id=incident_id, after=after, limit=limit
    )
