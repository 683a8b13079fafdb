"""The incident replica: every incident event updates the times clocks and metrics need."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backbone.uow import UnitOfWork
from contracts.envelope import Envelope
from contracts.events import (
    IncidentAcknowledged,
    IncidentAssigned,
    IncidentClosed,
    IncidentCreated,
    IncidentDelegated,
    IncidentDeleted,
    IncidentEvent,
    IncidentReopened,
    IncidentResolved,
)
from sla.adapters import incident as replica


def started_at(envelope: Envelope, event: IncidentCreated) -> datetime:
    """When triage created the incident: the time of its incident.created.v1."""
    return envelope.time


def _times(envelope: Envelope, event: IncidentEvent) -> dict[str, Any]:
    match event:
        case IncidentCreated():
            return {"created_at": started_at(envelope, event), "detected_at": event.detected_at}
        case IncidentAcknowledged():
            return {"acknowledged_at": event.acknowledged_at, "first_response_at": event.acknowledged_at}
        case IncidentAssigned() | IncidentDelegated():
            return {"first_response_at": event.assigned_at}
        case IncidentResolved():
            return {"resolved_at": event.resolved_at}
        case IncidentClosed():
            return {"closed_at": event.closed_at}
        case IncidentReopened():
            return {"resolved_at": None, "closed_at": None}
        case IncidentDeleted():
            return {"deleted_at": event.deleted_at}
    return {}


async def replicate_incidents(uow: UnitOfWork, batch: list[tuple[Envelope, IncidentEvent]]) -> None:
    rows = []
    for envelope, event in batch:
        if envelope.tenantid is None:
            continue
        rows.append(
            {
                "id": event.incident_id,
                "tenant_id": envelope.tenantid,
                "reference_code": event.reference_code,
                "client_id": event.client_id,
                "vendor_id": event.vendor_id,
                "severity": event.severity.value,
                "status": event.status,
                **_times(envelope, event),
            }
        )
    await replica.record(uow.session, rows)
