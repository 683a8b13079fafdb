"""HTTP API of the triage service: incident queries (and, with the triage issue, commands).

Every endpoint needs a bearer token (DESIGN §5). The tenant is always the caller's; a client
contact sees only its client's incidents and a vendor contact only those linked to its vendor
(through the component the incident was opened on). Anything else answers 404, as if absent.
"""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from backbone.app import UowDep
from backbone.auth import Principal, requires
from backbone.problems import NotFound
from contracts.enums import IncidentStatus, Severity
from contracts.permissions import Permission
from triage import handlers
from triage.adapters.incidents import IncidentFilters

router = APIRouter(prefix="/v1", tags=["incidents"])

Viewer = Annotated[Principal, requires(Permission.INCIDENTS_VIEW)]


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
    vendor_id: UUID | None
    alert_count: int
    labels: dict[str, str]
    detected_at: datetime
    created_at: datetime
    updated_at: datetime


@router.get("/incidents/{incident_id}", response_model=IncidentOut)
async def get_incident(incident_id: UUID, caller: Viewer, uow: UowDep) -> IncidentOut:
    """One incident of the caller's tenant.

    Needs `incidents.view`. Answers 404 for an incident of another tenant, and for a client or
    vendor contact also for an incident of another client or not linked to its vendor.
    """
    row = await handlers.get_incident(uow, caller, incident_id)
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    return IncidentOut.model_validate(row)


@router.get("/incidents", response_model=list[IncidentOut])
async def list_incidents(
    request: Request,
    response: Response,
    caller: Viewer,
    uow: UowDep,
    status: Annotated[
        list[IncidentStatus] | None, Query(description="Only these statuses (repeat for several).")
    ] = None,
    severity: Annotated[
        list[Severity] | None, Query(description="Only these severities, e.g. `P1` (repeat for several).")
    ] = None,
    client_id: Annotated[UUID | None, Query(description="Only this client's incidents.")] = None,
    after: Annotated[
        UUID | None,
        Query(description="Keyset cursor: the `id` of the last incident of the previous page."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Page size.")] = 50,
) -> list[IncidentOut]:
    """The incidents of the caller's tenant that the caller may see, newest first.

    Needs `incidents.view`. Client contacts get only their client's incidents, vendor contacts
    only those linked to their vendor. Filters combine with AND; a repeated `status` or
    `severity` means any of them.

    Pagination is by keyset, stable while incidents keep arriving: ids are time-ordered, the
    list is sorted by id descending, and `after=<id of the last item>` returns the next (older)
    page. A full page carries `Link: <…>; rel="next"` with that cursor; a shorter page is the
    last one.
    """
    filters = IncidentFilters(
        status=[s.value for s in status or ()],
        severity=[s.value for s in severity or ()],
        client_id=client_id,
        after=after,
        limit=limit,
    )
    rows = await handlers.list_incidents(uow, caller, filters)
    if len(rows) == limit:
        following = request.url.include_query_params(after=str(rows[-1]["id"]))
        response.headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
    return [IncidentOut.model_validate(r) for r in rows]
