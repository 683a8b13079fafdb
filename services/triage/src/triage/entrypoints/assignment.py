"""HTTP routes of who works an incident: assign, unassign, delegate, and the history."""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from backbone.app import Strict, UowDep
from contracts.enums import AssignmentKind
from triage.entrypoints.deps import Assigner, Delegator, Viewer, _once
from triage.handlers import assignment
from triage.views import assignment as assignment_views

router = APIRouter(prefix="/v1", tags=["incidents"])


class AssignmentOut(BaseModel):
    id: UUID
    incident_id: UUID
    user_id: UUID
    kind: str
    assigned_by: UUID | None
    delegated_from: UUID | None = None
    note: str | None
    assigned_at: datetime
    unassigned_at: datetime | None = None
    is_active: bool


class Assign(Strict):
    user_id: UUID
    kind: Literal["assignee", "cc"] = "assignee"
    note: str | None = Field(default=None, max_length=2000)


class Unassign(Strict):
    user_id: UUID
    kind: Literal["assignee", "cc"] = "assignee"


class Delegate(Strict):
    user_id: UUID
    from_user_id: UUID | None = None
    note: str | None = Field(default=None, max_length=2000)


@router.post("/incidents/{incident_id}/assign", response_model=AssignmentOut, status_code=201)
async def assign(
    incident_id: UUID, body: Assign, request: Request, caller: Assigner, uow: UowDep
) -> JSONResponse:
    """Assign a user (`kind` assignee; an incident may have several) or add a CC watcher
    (`kind` cc). The user must be an active user of the tenant (422); assigning someone already
    assigned is a 409. Needs `incidents.assign`."""

    async def work() -> Any:
        row = await assignment.assign(
            uow, caller, incident_id, body.user_id, AssignmentKind(body.kind), body.note
        )
        return AssignmentOut.model_validate(row).model_dump(mode="json")

    return await _once(request, uow, caller, 201, work)


@router.post("/incidents/{incident_id}/unassign", response_model=list[AssignmentOut])
async def unassign(
    incident_id: UUID, body: Unassign, request: Request, caller: Assigner, uow: UowDep
) -> JSONResponse:
    """End a user's active assignment (or CC); answers the ended assignments (404 when the user
    holds none). Needs `incidents.assign`."""

    async def work() -> Any:
        rows = await assignment.unassign(uow, caller, incident_id, body.user_id, AssignmentKind(body.kind))
        return [AssignmentOut.model_validate(r).model_dump(mode="json") for r in rows]

    return await _once(request, uow, caller, 200, work)


@router.post("/incidents/{incident_id}/delegate", response_model=AssignmentOut, status_code=201)
async def delegate(
    incident_id: UUID, body: Delegate, request: Request, caller: Delegator, uow: UowDep
) -> JSONResponse:
    """Delegate the work from an owner (`from_user_id`; by default the caller if assigned, else
    the only owner) to another user. The previous assignment ends; the new one keeps
    `delegated_from`. Needs `incidents.delegate`."""

    async def work() -> Any:
        row = await assignment.delegate(uow, caller, incident_id, body.user_id, body.from_user_id, body.note)
        return AssignmentOut.model_validate(row).model_dump(mode="json")

    return await _once(request, uow, caller, 201, work)


@router.get("/incidents/{incident_id}/assignments", response_model=list[AssignmentOut])
async def list_assignments(incident_id: UUID, caller: Viewer, uow: UowDep) -> list[AssignmentOut]:
    """The full assignment history (active and ended), oldest first."""
    return [
        AssignmentOut.model_validate(r) for r in await assignment_views.assignments(uow, caller, incident_id)
    ]
