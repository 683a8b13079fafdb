"""Reads of the files attached to an incident."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from triage.adapters import attachment as store
from triage.adapters import incident as incidents


async def attachments(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> list[dict[str, Any]]:
    await incidents.visible(uow.session, caller, incident_id)
    return await store.of_incident(uow.session, caller, incident_id)


async def attachment(
    uow: UnitOfWork, caller: Principal, incident_id: UUID, attachment_id: UUID
) -> dict[str, Any]:
    await incidents.visible(uow.session, caller, incident_id)
    return await store.one(uow.session, caller, incident_id, attachment_id)
