"""Events of the intake service (topic ``intake.events``), keyed by the pre-allocated incident id."""

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel

from contracts.enums import Degradation, IncidentSource, Scope, Workaround
from contracts.envelope import EventData, event
from contracts.topics import Topic


class ImpactFacts(BaseModel):
    """The facts severity is derived from (DESIGN §7); every one optional."""

    business_critical: bool | None = None
    degradation: Degradation | None = None
    workaround: Workaround | None = None
    affected_parties: int | None = None
    scope: Scope | None = None
    regulatory_safety_financial: bool | None = None
    sla_risk: bool | None = None


@event
class IncidentReported(EventData):
    """Intake has accepted a report (an alert group or a person) that opens a new incident."""

    event_type: ClassVar[str] = "intake.incident_reported.v1"
    topic: ClassVar[Topic] = Topic.INTAKE_EVENTS
    subject_field: ClassVar[str] = "incident_id"

    incident_id: UUID
    source: IncidentSource
    title: str
    description: str = ""
    dedup_key: str | None = None
    client_id: UUID | None = None
    component_id: UUID | None = None
    integration_id: UUID | None = None
    impact: ImpactFacts = ImpactFacts()
    labels: dict[str, str] = {}
    detected_at: datetime


@event
class AlertRepeated(EventData):
    """Another alert arrived for an incident that is still open (dedup hit)."""

    event_type: ClassVar[str] = "intake.alert_repeated.v1"
    topic: ClassVar[Topic] = Topic.INTAKE_EVENTS
    subject_field: ClassVar[str] = "incident_id"

    incident_id: UUID
    dedup_key: str
    alert_count: int
    last_seen_at: datetime
