"""Reads of an incident's tasks."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from triage.adapters import incident as incidents
from triage.adapters import task as store


async def tasks(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> list[dict[str, Any]]:
    await incidents.visible(uow.session, caller, incident_id)
    return await store.of_incident(uow.session, incident_id)
