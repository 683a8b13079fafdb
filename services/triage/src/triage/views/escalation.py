"""Reads of an incident's escalations: its escalation history, and the state of its automatic
escalation with every page so far."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from triage.adapters import escalation as store
from triage.adapters import incident as incident_queries
from triage.adapters import severity as manual


async def escalations(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> list[dict[str, Any]]:
    """The incident's manual escalations, oldest first."""
    await incident_queries.visible(uow.session, caller, incident_id)
    return await manual.escalations(uow.session, incident_id)


async def incident_escalations(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> dict[str, Any]:
    """The incident's escalation state and every page so far; 404 (NotFound) when the caller
    may not see the incident."""
    await incident_queries.visible(uow.session, caller, incident_id)
    run = await store.run_of(uow.session, caller.tenant_id, incident_id)
    steps = await store.history(uow.session, caller.tenant_id, incident_id)
    return {"incident_id": incident_id, "escalation": run, "steps": steps}
