"""Recording a performance metric (002): load the incident, compute, save, announce."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.problems import Conflict, Unprocessable
from backbone.rows import get_or_404
from backbone.uow import UnitOfWork
from contracts.enums import MetricType
from contracts.envelope import new_id
from contracts.events import SlaMetricRecorded
from sla.adapters import metric as store
from sla.adapters.orm import incidents
from sla.domain.metric import MetricHalt, compute


async def record(
    uow: UnitOfWork, caller: Principal, incident_id: UUID, metric_type: MetricType, target_minutes: int | None
) -> dict[str, Any]:
    incident = await get_or_404(
        uow.session, incidents, incident_id, caller.tenant_id, what="incident", field="incident_id"
    )
    try:
        value = compute(metric_type, dict(incident._mapping), target_minutes)
    except MetricHalt as halt:
        raise (Conflict if halt.status == 409 else Unprocessable)(str(halt)) from halt
    row = {
        "id": new_id(),
        "tenant_id": caller.tenant_id,
        "incident_id": incident_id,
        "metric_type": metric_type.value,
        "calculated_value_minutes": value.minutes,
        "target_minutes": value.target_minutes,
        "met_target": value.met_target,
        "recorded_by": caller.user_id,
        "recorded_at": uow.now,
    }
    await store.add(uow.session, row)
    uow.emit(
        SlaMetricRecorded(
            metric_id=row["id"],
            incident_id=incident_id,
            metric_type=metric_type,
            calculated_value_minutes=value.minutes,
            target_minutes=value.target_minutes,
            met_target=value.met_target,
            recorded_by=caller.user_id,
        ),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )
    return {"metric_id": row["id"], **{k: v for k, v in row.items() if k not in ("id", "tenant_id")}}
