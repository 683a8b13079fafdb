"""HTTP routes of incident reports (002 "Generating Incident Reports"; docs/reports.md).

Both routes need `reports.generate` (incident managers and executives); a report is always the
caller's tenant's.
"""

from __future__ import annotations

from typing import Annotated, Any, cast
from uuid import UUID

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response

from audit.config import Settings
from audit.domain.report import ReportRequest
from audit.handlers import report as handlers
from audit.views import report as views
from backbone.app import RuntimeDep, Strict, UowDep
from backbone.auth import Principal, requires
from backbone.idempotency import respond_once, user_scope
from backbone.problems import Problem
from contracts.enums import IncidentReportStatus, ReportType
from contracts.permissions import Permission

router = APIRouter(prefix="/v1", tags=["reports"])

Reporter = Annotated[Principal, requires(Permission.REPORTS_GENERATE)]


class ReportIn(Strict):
    incident_id: UUID
    report_type: ReportType
    status: IncidentReportStatus = IncidentReportStatus.COMPLETED


@router.post("/reports", status_code=201)
async def generate(
    body: ReportIn, request: Request, caller: Reporter, uow: UowDep, runtime: RuntimeDep
) -> JSONResponse:
    """Generate a report of one incident from its audit records: 201 {report_id}. Halts with
    422 for an unknown incident, report type or generating user, 409 for a deleted incident,
    a post-incident report of an unresolved one, or more records than a report may hold;
    nothing is written then. Accepts `Idempotency-Key`."""
    request_ = ReportRequest(incident_id=body.incident_id, report_type=body.report_type, status=body.status)
    limit = cast(Settings, runtime.settings).report_max_records

    async def work() -> tuple[int, Any]:
        return 201, await handlers.generate(uow, caller, request_, max_records=limit)

    return await respond_once(request, uow, user_scope(caller), work)


@router.get(
    "/reports/{report_id}",
    responses={200: {"content": {views.HTML: {}, views.MARKDOWN: {}}, "description": "The report."}},
)
async def read(
    report_id: UUID, caller: Reporter, uow: UowDep, accept: Annotated[str | None, Header()] = None
) -> Response:
    """One report as generated: JSON by default, `Accept: text/html` a page with an SVG
    timeline (self-contained), `Accept: text/markdown` for a wiki. 404 for another tenant's."""
    kind = views.negotiate(accept)
    if kind is None:
        raise Problem(f"reports are served as {', '.join(views.OFFERED)}", status=406, title="Not acceptable")
    report = await views.load(uow, caller.tenant_id, report_id)
    if kind == views.HTML:
        return Response(views.html(report), media_type="text/html; charset=utf-8", headers=views.HTML_HEADERS)
    if kind == views.MARKDOWN:
        return Response(views.markdown(report), media_type="text/markdown; charset=utf-8")
    return JSONResponse(report)
