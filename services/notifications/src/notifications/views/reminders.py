"""Reads of incident reminders."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from notifications.adapters import incidents as incident_replica
from notifications.adapters import reminders as reminder_store


async def list_reminders(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> list[dict[str, Any]]:
    await incident_replica.visible(uow.session, caller, incident_id)  # else 404
    return await reminder_store.of_incident(uow.session, caller.tenant_id, incident_id)
