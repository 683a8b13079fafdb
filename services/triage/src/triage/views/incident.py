"""Reads of incidents: one incident, a page of them, and an incident's update records."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from contracts.enums import AssignmentKind
from triage.adapters import assignment as assignments
from triage.adapters import incident as incident_queries
from triage.adapters.incident import IncidentFilters
from triage.domain.incident import OWNER_KINDS


async def get_incident(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> dict[str, Any] | None:
    """The incident if the caller may see it: their tenant, and their client or vendor for a
    client or vendor contact; None otherwise (the API answers 404 either way). With its active
    assignees and CC watchers."""
    row = await incident_queries.get(uow.session, caller, incident_id)
    if row is None:
        return None
    active = await assignments.of_incident(uow.session, incident_id, active_only=True)
    row["assignees"] = [a["user_id"] for a in active if a["kind"] in OWNER_KINDS]
    row["cc"] = [a["user_id"] for a in active if a["kind"] == AssignmentKind.CC.value]
    return row


async def list_incidents(
    uow: UnitOfWork, caller: Principal, filters: IncidentFilters
) -> list[dict[str, Any]]:
    """One page of the incidents the caller may see, in the order asked for."""
    return await incident_queries.search(uow.session, caller, filters)


async def updates(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> list[dict[str, Any]]:
    """The incident's update records, oldest first."""
    await incident_queries.visible(uow.session, caller, incident_id)
    return await incident_queries.updates(uow.session, incident_id)
