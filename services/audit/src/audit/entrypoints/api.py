"""HTTP API of the audit service: search the log, verify the chain, an incident's timeline."""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from audit import handlers
from backbone.app import UowDep

router = APIRouter(prefix="/v1", tags=["audit"])


class AuditEntry(BaseModel):
    seq: int
    event_id: UUID
    event_type: str
    source: str
    subject: str
    actor: dict[str, Any]
    occurred_at: datetime
    recorded_at: datetime
    data: dict[str, Any]
    hash: str


class Verification(BaseModel):
    valid: bool
    entries: int
    first_broken_seq: int | None
    reason: str | None


# Until the directory issue brings tokens, the tenant is a query parameter.
TenantQuery = Annotated[UUID, Query(description="Tenant whose chain to read.")]


@router.get("/audit", response_model=list[AuditEntry])
async def search(
    uow: UowDep,
    tenant_id: TenantQuery,
    subject: str | None = None,
    event_type: str | None = None,
    after: Annotated[int, Query(ge=0, description="Return entries after this seq (cursor).")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    return await handlers.search(
        uow, tenant_id=tenant_id, subject=subject, event_type=event_type, after=after, limit=limit
    )


@router.get("/audit/verify", response_model=Verification)
async def verify(uow: UowDep, tenant_id: TenantQuery) -> dict[str, Any]:
    """Recompute the tenant's hash chain; names the first entry that does not match."""
    return await handlers.verify(uow, tenant_id=tenant_id)


@router.get("/incidents/{incident_id}/timeline", response_model=list[AuditEntry])
async def timeline(uow: UowDep, incident_id: UUID, tenant_id: TenantQuery) -> list[dict[str, Any]]:
    return await handlers.search(
        uow, tenant_id=tenant_id, subject=str(incident_id), event_type=None, after=0, limit=1000
    )
