"""HTTP routes of root cause analyses."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from backbone.app import Strict, UowDep
from backbone.auth import Caller
from changes.entrypoints.deps import RcaConductor, Viewer, listing, write
from changes.handlers import root_cause_analysis as handlers
from changes.views.root_cause_analysis import RootCauseAnalysis, reader
from contracts.enums import AnalysisMethod, RcaStatus

router = APIRouter(prefix="/v1", tags=["root cause analyses"])


class RcaIn(Strict):
    incident_id: UUID
    analysis_method: AnalysisMethod
    timeline: str | None = Field(default=None, max_length=50000)
    findings: str | None = Field(default=None, max_length=50000)


class RcaDone(Strict):
    root_cause: str = Field(min_length=1, max_length=20000)
    findings: str = Field(min_length=1, max_length=50000)


@router.post("/root-cause-analyses", status_code=201, response_model=RootCauseAnalysis)
async def conduct(body: RcaIn, request: Request, caller: RcaConductor, uow: UowDep) -> JSONResponse:
    """Start a root cause analysis (000/001/002 "Conducting Root Cause Analysis"): 201 with
    status `in_progress`. Needs `rca.conduct`; the incident must exist and the method be one of
    the enumeration (422 otherwise)."""
    fields = body.model_dump(exclude_none=True)
    return await write(request, uow, caller, 201, lambda: handlers.conduct(uow, caller, fields))


@router.post("/root-cause-analyses/{rca_id}/complete", response_model=RootCauseAnalysis)
async def complete(
    rca_id: UUID, body: RcaDone, request: Request, caller: RcaConductor, uow: UowDep
) -> JSONResponse:
    """Complete an analysis in progress with its root cause and findings; sets `completed_at`
    (409 once completed)."""
    return await write(
        request,
        uow,
        caller,
        200,
        lambda: handlers.complete(uow, caller, rca_id, body.root_cause, body.findings),
    )


@router.post("/root-cause-analyses/{rca_id}/approve", response_model=RootCauseAnalysis)
async def approve(rca_id: UUID, request: Request, caller: Caller, uow: UowDep) -> JSONResponse:
    """Approve a completed analysis's root cause: incident managers and executives, never the
    analysis's conductor (403); 409 unless it is `completed`."""
    return await write(request, uow, caller, 200, lambda: handlers.approve(uow, caller, rca_id))


@router.get("/root-cause-analyses/{rca_id}", response_model=RootCauseAnalysis)
async def get_rca(rca_id: UUID, caller: Viewer, uow: UowDep) -> dict[str, Any]:
    """One root cause analysis (404 if unknown or out of the caller's scope)."""
    return await reader.get(uow.session, caller, rca_id)


listing(
    router,
    "/root-cause-analyses",
    RootCauseAnalysis,
    reader,
    "list_rcas",
    "Root cause analyses the caller may see, oldest first.",
    status=RcaStatus,
    incident_id=UUID,
    analysis_method=AnalysisMethod,
)
