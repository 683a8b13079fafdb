"""HTTP API for reports by signed-in users: ``POST /v1/incidents`` (001 "Creating Incidents")."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

from backbone.app import UowDep
from backbone.auth import Principal, requires
from backbone.idempotency import respond_once
from backbone.problems import Problem
from contracts.permissions import Permission
from intake import handlers
from intake.domain.reports import MAX_BODY_BYTES, ManualReport


class ContentTooLarge(Problem):
    status, title = 413, "Content too large"


class CappedRequest(Request):
    """A request whose body is read only up to the cap (issue 4, data minimization): a larger
    one is refused while it streams in, never held in memory whole."""

    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            too_large = ContentTooLarge(f"the request body exceeds the limit of {MAX_BODY_BYTES // 1024} KB")
            declared = self.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
                raise too_large
            chunks: list[bytes] = []
            size = 0
            async for chunk in self.stream():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise too_large
                chunks.append(chunk)
            self._body = b"".join(chunks)
        return self._body


class CappedRoute(APIRoute):
    """Reads the body (capped) before FastAPI parses it, so 413 answers as problem+json."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            capped = CappedRequest(request.scope, request.receive)
            await capped.body()
            return await original(capped)

        return handler


router = APIRouter(prefix="/v1", tags=["reports"], route_class=CappedRoute)


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
        incident_id = await handlers.report_incident(uow, caller, body, datetime.now(UTC))
        return 202, ReportAccepted(incident_id=incident_id)

    return await respond_once(request, uow, f"{caller.tenant_id}/user/{caller.user_id}", accept)
