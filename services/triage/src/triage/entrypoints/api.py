"""HTTP API of the triage service: incident queries (and, with the triage issue, commands)."""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from backbone.app import UowDep
from backbone.problems import NotFound
from triage import handlers

router = APIRouter(prefix="/v1", tags=["incidents"])


class IncidentOut(BaseModel):
    id: UUID
    tenant_id: UUID
    reference_code: str
    title: str
    description: str
    status: str
    severity: str
    severity_flags: dict[str, bool]
    impact: dict[str, Any]
    source: str
    dedup_key: str | None
    client_id: UUID | None
    component_id: UUID | None
    alert_count: int
    labels: dict[str, str]
    detected_at: datetime
    created_at: datetime
    updated_at: datetime


@router.get("/incidents/{incident_id}", response_model=IncidentOut)
async def get_incident(incident_id: UUID, uow: UowDep) -> IncidentOut:
    row = await handlers.get_incident(uow, incident_id)
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    return IncidentOut.model_validate(row)


@router.get("/incidents", response_model=list[IncidentOut])
async def list_incidents(
    uow: UowDep,
    tenant_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[IncidentOut]:
    return [
        IncidentOut.model_validate(r)
        for r in await handlers.list_incidents(uow, tenant_id=tenant_id, limit=limit)
    ]
