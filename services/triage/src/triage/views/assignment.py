"""Reads of who works an incident: its assignments, history included."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from triage.adapters import assignment as store
from triage.adapters import incident as incidents


async def assignments(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> list[dict[str, Any]]:
    """Every assignment of the incident, ended ones too, in the order they were made."""
    await incidents.visible(uow.session, caller, incident_id)
    return await store.of_incident(uow.session, incident_id, active_only=False)
