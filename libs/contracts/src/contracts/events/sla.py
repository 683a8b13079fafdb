"""Events of the SLA service (topic ``sla.events``), keyed by incident id (docs/architecture.md "SLA policy").

A clock warns (``sla.at_risk.v1``) at start + min(target, 80 % of deadline) and breaches
(``sla.breached.v1``) at the deadline. Triage escalates on both; notifications routes them.
"""

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from contracts.enums import Severity, SlaClockKind, SubscriptionTier
from contracts.envelope import EventData, event
from contracts.topics import Topic


class SlaClockEvent(EventData):
    topic: ClassVar[Topic] = Topic.SLA_EVENTS
    subject_field: ClassVar[str] = "incident_id"

    incident_id: UUID
    clock: SlaClockKind
    severity: Severity
    tier: SubscriptionTier | None = None
    client_id: UUID | None = None
    started_at: datetime
    due_at: datetime


@event
class SlaAtRisk(SlaClockEvent):
    event_type: ClassVar[str] = "sla.at_risk.v1"

    warned_at: datetime


@event
class SlaBreached(SlaClockEvent):
    event_type: ClassVar[str] = "sla.breached.v1"

    breached_at: datetime
