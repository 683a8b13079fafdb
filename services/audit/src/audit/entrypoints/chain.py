"""HTTP API of the audit service: search the log, verify the chain, an incident's timeline.

Every endpoint needs a bearer token of a role with `audit.view`; the chain read is
always the caller's tenant's.
"""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from audit.views import chain as views
from backbone.app import UowDep
from backbone.auth import Principal, requires
from backbone.problems import NotFound
from contracts.permissions import Permission

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


Auditor = Annotated[Principal, requires(Permission.AUDIT_VIEW)]


@router.get("/audit", response_model=list[AuditEntry])
async def search(
    caller: Auditor,
    uow: UowDep,
    subject: Annotated[str | None, Query(description="Only entries about this aggregate id.")] = None,
    event_type: Annotated[str | None, Query(description="Only this event type.")] = None,
    after: Annotated[int, Query(ge=0, description="Return entries after this seq (cursor).")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """The caller's tenant's audit entries in chain order. Needs `audit.view`."""
    return await views.search(
        uow, tenant_id=caller.tenant_id, subject=subject, event_type=event_type, after=after, limit=limit
    )


@router.get("/audit/verify", response_model=Verification)
async def verify(caller: Auditor, uow: UowDep) -> dict[str, Any]:
    """Recompute the caller's tenant's hash chain; names the first entry that does not match.
    Needs `audit.view`."""
    return await views.verify(uow, tenant_id=caller.tenant_id)


@router.get("/incidents/{incident_id}/timeline", response_model=list[AuditEntry])
async def timeline(caller: Auditor, uow: UowDep, incident_id: UUID) -> list[dict[str, Any]]:
    """Every recorded event about one incident of the caller's tenant, in chain order. Needs
    `audit.view`. 404 when the caller's tenant has no entry about it (another tenant's incident
    included, or one not recorded yet)."""
    entries = await views.search(
        uow, tenant_id=caller.tenant_id, subject=str(incident_id), event_type=None, after=0, limit=1000
    )
    if not entries:
        raise NotFound(f"no audit entries for incident {incident_id}")
    return entries
