"""HTTP routes that read incidents: one incident, a page of them, its update records.

Every endpoint needs a bearer token (docs/architecture.md, docs/adr/0004-directory-and-access.md).
The tenant is always the caller's; a client contact sees (and acts on) only its client's
incidents and a vendor contact only those linked to its vendor (through the component the
incident was opened on). Anything else answers 404, as if absent.
"""

import base64
import json
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from backbone.app import UowDep
from backbone.auth import Principal
from backbone.problems import NotFound, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import Severity
from triage.adapters.incident import SORTS, IncidentFilters
from triage.entrypoints.deps import (
    Viewer,
)
from triage.views import incident as incident_views

router = APIRouter(prefix="/v1", tags=["incidents"])


class IncidentOut(BaseModel):
    id: UUID
    tenant_id: UUID
    reference_code: str
    title: str
    description: str
    status: str
    severity: str
    computed_severity: str | None = None
    severity_override: str | None = None
    severity_override_reason: str | None = None
    severity_overridden_by: UUID | None = None
    severity_overridden_at: datetime | None = None
    severity_flags: dict[str, bool]
    contractual_p1: bool = False
    recurrent: bool = False
    impact: dict[str, Any]
    priority: str | None = None
    category: str | None = None
    source: str
    dedup_key: str | None
    client_id: UUID | None
    component_id: UUID | None
    vendor_id: UUID | None
    reporter: dict[str, Any] | None = None
    alert_severity: str | None = None
    details: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    alert_count: int
    labels: dict[str, str]
    resolution: str | None = None
    assignees: list[UUID] = []
    cc: list[UUID] = []
    detected_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: UUID | None = None
    resolved_at: datetime | None = None
    resolved_by: UUID | None = None
    closed_at: datetime | None = None
    closed_by: UUID | None = None
    created_at: datetime
    updated_at: datetime


class UpdateOut(BaseModel):
    id: UUID
    incident_id: UUID
    field: str
    from_value: Any
    to_value: Any
    changed_by: UUID | None
    changed_by_role: str | None
    via: str
    note: str | None
    changed_at: datetime


async def _incident(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> dict[str, Any]:
    row = await incident_views.get_incident(uow, caller, incident_id)
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    return IncidentOut.model_validate(row).model_dump(mode="json")


@router.get("/incidents/{incident_id}", response_model=IncidentOut)
async def get_incident(incident_id: UUID, caller: Viewer, uow: UowDep) -> Any:
    """One incident of the caller's tenant: severity (effective, computed, override and every
    flag), status, priority, links, timestamps, active assignees and CC watchers.

    Needs `incidents.view`. Answers 404 for an incident of another tenant, and for a client or
    vendor contact also for an incident of another client or not linked to its vendor.
    """
    return await _incident(uow, caller, incident_id)


def _cursor(value: Any, id_: UUID) -> str:
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else value, str(id_)])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _uncursor(cursor: str, sort: str) -> tuple[Any, UUID]:
    try:
        value, id_ = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if sort.lstrip("-") in ("detected", "updated"):
            value = datetime.fromisoformat(value)
        return value, UUID(id_)
    except (ValueError, TypeError) as exc:
        raise Unprocessable("cursor: not a cursor this list gave", field="cursor") from exc


Sort = Literal[
    "-created", "created", "-detected", "detected", "-updated", "updated", "severity", "-severity",
    "reference", "-reference",
]  # fmt: skip


@router.get("/incidents", response_model=list[IncidentOut])
async def list_incidents(
    request: Request,
    response: Response,
    caller: Viewer,
    uow: UowDep,
    status: Annotated[
        list[str] | None, Query(description="Only these statuses (repeat for several).")
    ] = None,
    severity: Annotated[
        list[Severity] | None, Query(description="Only these severities, e.g. `P1` (repeat for several).")
    ] = None,
    client_id: Annotated[UUID | None, Query(description="Only this client's incidents.")] = None,
    component_id: Annotated[UUID | None, Query(description="Only incidents on this component.")] = None,
    assignee_id: Annotated[UUID | None, Query(description="Only incidents this user is assigned.")] = None,
    created_from: Annotated[datetime | None, Query(description="Created at or after this time.")] = None,
    created_to: Annotated[datetime | None, Query(description="Created before this time.")] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Text in the title, description or reference.")
    ] = None,
    sort: Annotated[Sort, Query(description="Order: a field, `-` for descending; ties by id.")] = "-created",
    after: Annotated[
        UUID | None,
        Query(description="Keyset cursor of the default order: the `id` of the last incident of the page."),
    ] = None,
    cursor: Annotated[str | None, Query(description="Keyset cursor of other orders (from `Link`).")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Page size.")] = 50,
) -> list[IncidentOut]:
    """The incidents of the caller's tenant that the caller may see; newest first by default.

    Needs `incidents.view`. Client contacts get only their client's incidents, vendor contacts
    only those linked to their vendor. Filters combine with AND; a repeated `status` or
    `severity` means any of them.

    Pagination is by keyset, stable while incidents keep arriving. In creation order (`-created`,
    the default, or `created`: ids are time-ordered) `after=<id of the last item>` returns the
    next page; in other orders, `cursor` does. A full page carries `Link: <…>; rel="next"`; a shorter page
    is the last one.
    """
    after_value = None
    if cursor is not None:
        after_value, after = _uncursor(cursor, sort)
    filters = IncidentFilters(
        status=list(status or ()),
        severity=[s.value for s in severity or ()],
        client_id=client_id,
        component_id=component_id,
        assignee_id=assignee_id,
        created_from=created_from,
        created_to=created_to,
        text=q or None,
        sort=sort,
        after=after,
        after_value=after_value,
        limit=limit,
    )
    rows = await incident_views.list_incidents(uow, caller, filters)
    if len(rows) == limit:
        last = rows[-1]
        if sort.lstrip("-") == "created":  # the id order: the id is the cursor
            following = request.url.remove_query_params("cursor").include_query_params(after=str(last["id"]))
        else:
            column = SORTS[sort.lstrip("-")].name
            following = request.url.remove_query_params("after").include_query_params(
                cursor=_cursor(last[column], last["id"])
            )
        response.headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
    return [IncidentOut.model_validate(r) for r in rows]


@router.get("/incidents/{incident_id}/updates", response_model=list[UpdateOut])
async def list_updates(incident_id: UUID, caller: Viewer, uow: UowDep) -> list[UpdateOut]:
    """The incident's update records, oldest first: one per changed field, with who changed it
    (`changed_by`, or `via` alert/system), the value before and after, and when."""
    return [UpdateOut.model_validate(r) for r in await incident_views.updates(uow, caller, incident_id)]
