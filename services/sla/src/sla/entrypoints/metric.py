"""HTTP routes of the performance metrics (docs/sla.md "Metrics")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from backbone.app import Strict, UowDep
from backbone.auth import Principal, requires
from backbone.idempotency import respond_once, user_scope
from contracts.enums import MetricType, Severity, SubscriptionTier
from contracts.permissions import Permission
from sla.handlers import metric as handlers
from sla.views import metric as views

router = APIRouter(prefix="/v1", tags=["metrics"])

Recorder = Annotated[Principal, requires(Permission.METRICS_RECORD)]
Viewer = Annotated[Principal, requires(Permission.SLA_VIEW)]


class MetricIn(Strict):
    incident_id: UUID
    metric_type: MetricType
    target_minutes: int | None = Field(default=None, ge=1, le=366 * 24 * 60)


@router.post("/metrics", status_code=201)
async def record_metric(body: MetricIn, request: Request, caller: Recorder, uow: UowDep) -> JSONResponse:
    """002 "Recording Performance Metrics": the value is computed from the incident's times
    (mttd: detected → created, mtta: created → acknowledged, mttr: created → resolved, downtime:
    detected → resolved), never supplied; announced as `sla.metric_recorded.v1` for the audit log.

    Needs `metrics.record` (incident managers, system administrators). Halts: unknown incident
    404; incident not closed 409; unknown metric_type, or a time the metric needs missing, 422."""

    async def work() -> tuple[int, Any]:
        return 201, await handlers.record(
            uow, caller, body.incident_id, body.metric_type, body.target_minutes
        )

    return await respond_once(request, uow, user_scope(caller), work)


@router.get("/metrics")
async def metrics_summary(
    caller: Viewer,
    uow: UowDep,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
    client_id: UUID | None = None,
    tier: SubscriptionTier | None = None,
    severity: Severity | None = None,
) -> dict[str, Any]:
    """MTTA and MTTR (median, p90, mean, minutes) and breach rate and counts of the incidents
    created in [from, to), overall and per tier, client, severity and month. Needs `sla.view`."""
    return await views.summarize(
        uow.session,
        caller,
        since=since,
        until=until,
        client_id=client_id,
        tier=tier.value if tier else None,
        severity=severity.value if severity else None,
    )
