"""HTTP API for reports by signed-in users: ``POST /v1/incidents`` (001 "Creating Incidents")."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from backbone.app import UowDep
from backbone.auth import Principal, requires
from backbone.idempotency import respond_once, user_scope
from contracts.permissions import Permission
from intake.domain.limits import MAX_BODY_BYTES
from intake.domain.reports import ManualReport
from intake.handlers import reports as handlers

router = APIRouter(prefix="/v1", tags=["reports"], max_body_size=MAX_BODY_BYTES)


class ReportAccepted(BaseModel):
    status: str = "accepted"
    incident_id: UUID


@router.post(
    "/incidents",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReportAccepted,
    responses={413: {"description": "The body exceeds 512 KB."}},
)
async def report_incident(
    body: ManualReport,
    request: Request,
    uow: UowDep,
    caller: Annotated[Principal, requires(Permission.INCIDENTS_CREATE)],
) -> JSONResponse:
    """001 "Creating Incidents" by a signed-in user. Pre-checks: the reporter is an active user,
    the client exists (a client contact's own client by default, and only that one), the
    component exists and belongs to the client if given (a vendor contact must name one their
    vendor runs). Severity is derived by triage from `impact`. Answers 202 with the incident id
    allocated here; the incident is readable at triage moments later. Accepts an
    Idempotency-Key header."""

    async def accept() -> tuple[int, ReportAccepted]:
        incident_id = await handlers.report_incident(uow, caller, body, uow.now)
        return 202, ReportAccepted(incident_id=incident_id)

    return await respond_once(request, uow, user_scope(caller), accept)
