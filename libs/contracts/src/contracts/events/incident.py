"""Events of the triage service (topic ``incident.events``), keyed by incident id."""

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from contracts.enums import IncidentSource, IncidentStatus, Severity
from contracts.envelope import EventData, event
from contracts.topics import Topic


@event
class IncidentCreated(EventData):
    event_type: ClassVar[str] = "incident.created.v1"
    topic: ClassVar[Topic] = Topic.INCIDENT_EVENTS
    subject_field: ClassVar[str] = "incident_id"

    incident_id: UUID
    reference_code: str
    title: str
    status: IncidentStatus
    severity: Severity
    severity_flags: dict[str, bool]
    source: IncidentSource
    client_id: UUID | None = None
    component_id: UUID | None = None
    dedup_key: str | None = None
    detected_at: datetime
