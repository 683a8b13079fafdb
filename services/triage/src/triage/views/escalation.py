"""Reads of an incident's escalations: its escalation history, and the state of its automatic
escalation with every page so far."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select

from backbone.auth import Principal
from backbone.problems import NotFound
from backbone.uow import UnitOfWork
from triage.adapters import escalations as store
from triage.adapters import incidents as incident_queries
from triage.adapters.orm import incident_escalations as records
from triage.handlers.edits import _visible


async def escalations(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> list[dict[str, Any]]:
    await _visible(uow, caller, incident_id)
    rows = await uow.session.execute(
        select(records)
        .where(records.c.incident_id == incident_id)
        .order_by(records.c.escalated_at, records.c.id)
    )
    return [dict(r) for r in rows.mappings()]


async def incident_escalations(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> dict[str, Any]:
    """The incident's escalation state and every page so far; 404 (NotFound) when the caller
    may not see the incident."""
    if await incident_queries.get(uow.session, caller, incident_id) is None:
        raise NotFound(f"no incident {incident_id}")
    run = await store.run_of(uow.session, caller.tenant_id, incident_id)
    steps = await store.history(uow.session, caller.tenant_id, incident_id)
    return {"incident_id": incident_id, "escalation": run, "steps": steps}
