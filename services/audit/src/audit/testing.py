"""Test helpers of audit's incident reports: one incident's life as its owners announce it
(triage, sla, changes), for the handler and integration tiers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from backbone.testing import OWNERS
from contracts.enums import (
    ChangeRequestStatus,
    ChangeType,
    EscalationTrigger,
    IncidentSource,
    RiskLevel,
    Severity,
    SlaClockKind,
)
from contracts.envelope import Envelope, EventData, new_id
from contracts.events import (
    IncidentAcknowledged,
    IncidentCreated,
    IncidentEscalated,
    IncidentResolved,
    IncidentStatusChanged,
    IncidentTaskAdded,
    SlaBreached,
    SlaClockStarted,
)
from contracts.events.change import ChangeRequestCreated


def incident_story(
    tenant_id: UUID,
    incident_id: UUID,
    start: datetime,
    *,
    title: str = "Payments down",
    resolved: bool = True,
) -> list[Envelope]:
    """Opened, an SLA clock started, acknowledged, the clock breached and the incident escalated
    for it, a change requested and a task added, then (``resolved``) resolved: the envelopes
    their owners would publish, each at the time it happened."""

    def at(minutes: int) -> datetime:
        return start + timedelta(minutes=minutes)

    head: dict[str, Any] = {
        "incident_id": incident_id,
        "reference_code": "INC-42",
        "title": title,
        "severity": Severity.P2,
        "status": "open",
    }
    clock: dict[str, Any] = {
        "incident_id": incident_id,
        "clock": SlaClockKind.RESOLUTION,
        "severity": Severity.P2,
        "started_at": at(0),
        "due_at": at(30),
    }
    acknowledged = {**head, "status": "acknowledged"}
    story: list[tuple[int, EventData]] = [
        (
            0,
            IncidentCreated(
                **head,
                severity_flags={"p2_major_degradation": True},
                source=IncidentSource.MANUAL,
                description="Card payments fail",
                detected_at=at(0),
            ),
        ),
        (0, SlaClockStarted(**clock, calendar="24x7", target_minutes=20, deadline_minutes=30)),
        (5, IncidentAcknowledged(**acknowledged, acknowledged_at=at(5))),
        (30, SlaBreached(**clock, breached_at=at(30))),
        (
            30,
            IncidentEscalated(
                **acknowledged,
                escalation_id=new_id(),
                trigger=EscalationTrigger.AUTOMATIC,
                cause="sla_breached",
                escalated_at=at(30),
            ),
        ),
        (
            32,
            ChangeRequestCreated(
                id=new_id(),
                incident_id=incident_id,
                status=ChangeRequestStatus.REQUESTED,
                title="Roll back the gateway",
                change_type=ChangeType.EMERGENCY,
                risk_level=RiskLevel.HIGH,
                requested_by_id=new_id(),
            ),
        ),
        (
            33,
            IncidentTaskAdded(
                **acknowledged, task_id=new_id(), task_title="Call the bank", task_status="open"
            ),
        ),
    ]
    if resolved:
        resolved_head = {**head, "status": "resolved"}
        story += [
            (40, IncidentStatusChanged(**resolved_head, from_status="acknowledged", to_status="resolved")),
            (40, IncidentResolved(**resolved_head, resolved_at=at(40), resolution="Rolled back")),
        ]
    return [
        Envelope.wrap(data, source=OWNERS[data.topic], tenant_id=tenant_id).model_copy(
            update={"time": at(minutes)}
        )
        for minutes, data in story
    ]
