"""HTTP routes of rollback requests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from backbone.app import Strict, UowDep
from backbone.auth import Caller
from changes.entrypoints.deps import RollbackRequester, Viewer, listing, write
from changes.handlers import rollback_request as handlers
from changes.views.rollback_request import RollbackRequest, reader
from contracts.enums import RollbackRequestStatus

router = APIRouter(prefix="/v1", tags=["rollback requests"])


class RollbackRequestIn(Strict):
    change_id: UUID
    justification: str = Field(min_length=1, max_length=20000)
    scope: str | None = Field(default=None, max_length=20000)
    incident_id: UUID | None = None


@router.post("/rollback-requests", status_code=201, response_model=RollbackRequest)
async def submit(
    body: RollbackRequestIn, request: Request, caller: RollbackRequester, uow: UowDep
) -> JSONResponse:
    """Request the rollback of a change (000/001/002 "Managing Rollback Requests"): 201 with status
    `requested`. Needs `rollbacks.request`. The justification is required (422); the change
    must exist (422) and have run (in progress, completed or failed; 409 otherwise)."""
    fields = body.model_dump(exclude_none=True)
    return await write(request, uow, caller, 201, lambda: handlers.submit(uow, caller, fields))


def _stepper(action: str, decides: bool) -> Callable[..., Awaitable[JSONResponse]]:
    async def decide(rollback_id: UUID, request: Request, caller: Caller, uow: UowDep) -> JSONResponse:
        return await write(
            request, uow, caller, 200, lambda: handlers.take_step(uow, caller, rollback_id, action)
        )

    async def move(
        rollback_id: UUID, request: Request, caller: RollbackRequester, uow: UowDep
    ) -> JSONResponse:
        return await write(
            request, uow, caller, 200, lambda: handlers.take_step(uow, caller, rollback_id, action)
        )

    return decide if decides else move


for _action, _decides, _doc in (
    ("approve", True, "Approve a requested rollback: incident managers and executives, not the requester."),
    ("reject", True, "Reject a requested rollback: incident managers and executives, not the requester."),
    ("start", False, "Needs `rollbacks.request`. Start carrying out an approved rollback."),
    (
        "complete",
        False,
        "Needs `rollbacks.request`. Complete a rollback in progress: sets `completed_at` "
        "and marks its change `rolled_back`.",
    ),
    ("fail", False, "Needs `rollbacks.request`. Record a rollback in progress as failed."),
):
    router.post(
        f"/rollback-requests/{{rollback_id}}/{_action}",
        response_model=RollbackRequest,
        summary=f"{_action.capitalize()} a rollback request",
        description=_doc + " 409 when the rollback's status forbids it.",
    )(_stepper(_action, _decides))


@router.get("/rollback-requests/{rollback_id}", response_model=RollbackRequest)
async def get_rollback(rollback_id: UUID, caller: Viewer, uow: UowDep) -> dict[str, Any]:
    """One rollback request (404 if unknown or out of the caller's scope)."""
    return await reader.get(uow.session, caller, rollback_id)


listing(
    router,
    "/rollback-requests",
    RollbackRequest,
    reader,
    "list_rollbacks",
    "Rollback requests the caller may see, oldest first.",
    status=RollbackRequestStatus,
    change_id=UUID,
    incident_id=UUID,
)
