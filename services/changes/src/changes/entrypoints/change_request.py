"""HTTP routes of change requests, the blackout windows they are checked against, and the
changes related to an incident."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from backbone.app import Strict, UowDep
from backbone.auth import Caller
from changes.entrypoints.deps import ChangeRequester, Viewer, listing, write
from changes.handlers import change_request as handlers
from changes.views.change_request import ChangeRequest, reader
from changes.views.records import list_of
from contracts.enums import ChangeRequestStatus, ChangeType, RiskLevel

router = APIRouter(prefix="/v1", tags=["change requests"])

Text = Annotated[str | None, Field(default=None, max_length=20000)]


class ChangeRequestIn(Strict):
    title: str = Field(min_length=1, max_length=300)
    change_type: ChangeType
    risk_level: RiskLevel
    incident_id: UUID | None = None
    component_id: UUID | None = None
    description: Text = None
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    implementation_plan: Text = None
    backout_plan: Text = None
    test_plan: Text = None
    emergency_reason: str | None = Field(
        default=None, max_length=2000, description="Why an emergency change proceeds despite its conflicts."
    )


class Decision(Strict):
    comment: str | None = Field(default=None, max_length=2000)


@router.post("/change-requests", status_code=201, response_model=ChangeRequest)
async def submit(
    body: ChangeRequestIn, request: Request, caller: ChangeRequester, uow: UowDep
) -> JSONResponse:
    """Submit a change request (000/001/002 "Creating Change Requests"): 201 with status
    `requested`. Needs `changes.request`. A linked incident or component must exist (422). The
    change is flagged with `conflicts`: approved changes on the same component and blackout
    windows its planned window overlaps; it is not blocked by them."""
    fields = body.model_dump(exclude_none=True)
    return await write(request, uow, caller, 201, lambda: handlers.submit(uow, caller, fields))


def _stepper(action: str, decides: bool) -> Callable[..., Awaitable[JSONResponse]]:
    async def decide(
        change_id: UUID, request: Request, caller: Caller, uow: UowDep, body: Decision | None = None
    ) -> JSONResponse:
        comment = body.comment if body else None
        return await write(
            request, uow, caller, 200, lambda: handlers.take_step(uow, caller, change_id, action, comment)
        )

    async def move(change_id: UUID, request: Request, caller: ChangeRequester, uow: UowDep) -> JSONResponse:
        return await write(
            request, uow, caller, 200, lambda: handlers.take_step(uow, caller, change_id, action)
        )

    return decide if decides else move


_DECIDE = (
    "{0} a requested change. Incident managers and executives decide, never on their own request; "
    "high and critical risk need an executive (403 otherwise); 409 unless the change is `requested`."
)
_MOVE = "Needs `changes.request`. {0}; 409 when the change's status forbids it (docs/changes.md)."
for _action, _decides, _doc in (
    ("approve", True, _DECIDE.format("Approve")),
    ("reject", True, _DECIDE.format("Reject")),
    ("schedule", False, _MOVE.format("Schedule an approved change")),
    ("start", False, _MOVE.format("Start implementing an approved or scheduled change")),
    ("complete", False, _MOVE.format("Record a change in progress as completed")),
    ("fail", False, _MOVE.format("Record a change in progress as failed")),
    ("cancel", False, _MOVE.format("Cancel a change not yet started")),
):
    router.post(
        f"/change-requests/{{change_id}}/{_action}",
        response_model=ChangeRequest,
        summary=f"{_action.capitalize()} a change request",
        description=_doc,
    )(_stepper(_action, _decides))


@router.get("/change-requests/{change_id}", response_model=ChangeRequest)
async def get_change(change_id: UUID, caller: Viewer, uow: UowDep) -> dict[str, Any]:
    """One change request (404 if unknown or out of the caller's scope)."""
    return await reader.get(uow.session, caller, change_id)


listing(
    router,
    "/change-requests",
    ChangeRequest,
    reader,
    "list_changes",
    "Change requests the caller may see, oldest first, filtered by any of the fields given.",
    status=ChangeRequestStatus,
    change_type=ChangeType,
    risk_level=RiskLevel,
    incident_id=UUID,
    component_id=UUID,
    requested_by_id=UUID,
)


@router.get("/incidents/{incident_id}/related-changes", response_model=list_of(ChangeRequest))
async def related_changes(incident_id: UUID, caller: Viewer, uow: UowDep) -> list[dict[str, Any]]:
    """Changes on the incident's component that started running in the 72 hours before it was
    detected (or since): the first place responders look. 404 for an incident the caller
    cannot see."""
    return await handlers.related(uow, caller, incident_id)


class BlackoutWindow(Strict):
    starts_at: datetime
    ends_at: datetime
    reason: str = Field(default="", max_length=300)


class BlackoutWindows(Strict):
    windows: list[BlackoutWindow] = Field(max_length=500)


@router.put("/blackout-windows", response_model=BlackoutWindows)
async def put_blackout_windows(
    body: BlackoutWindows, request: Request, caller: Caller, uow: UowDep
) -> JSONResponse:
    """Replace the tenant's change blackout windows. Incident managers and executives only (403).
    Changes planned into one are flagged with it, not blocked."""
    windows = [w.model_dump() for w in body.windows]
    return await write(request, uow, caller, 200, lambda: handlers.set_blackouts(uow, caller, windows))


@router.get("/blackout-windows", response_model=BlackoutWindows)
async def get_blackout_windows(caller: Viewer, uow: UowDep) -> dict[str, Any]:
    """The tenant's change blackout windows."""
    return {"windows": await handlers.blackouts(uow, caller)}
