"""Events of the intake service (topic ``intake.events``), keyed by the pre-allocated incident id."""

from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel

from contracts.enums import Degradation, IncidentSource, Scope, Workaround
from contracts.envelope import EventData, event
from contracts.topics import Topic


class ImpactFacts(BaseModel):
    """The facts severity is derived from (docs/architecture.md "Severity policy"); every one optional."""

    business_critical: bool | None = None
    degradation: Degradation | None = None
    workaround: Workaround | None = None
    affected_parties: int | None = None
    scope: Scope | None = None
    regulatory_safety_financial: bool | None = None
    sla_risk: bool | None = None


class Reporter(BaseModel):
    """Who reported: a signed-in user (``kind`` user, ``id`` their user id) or a person on the
    public form (``kind`` public, ``id`` intake's reporter record; 004 incident_reporters)."""

    kind: Literal["user", "public"]
    id: UUID
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    organization: str | None = None


class IntakeEvent(EventData):
    """Base of the events on ``intake.events`` (not an event type of its own)."""

    topic: ClassVar[Topic] = Topic.INTAKE_EVENTS


@event
class IncidentReported(IntakeEvent):
    """Intake has accepted a report (an alert group or a person) that opens a new incident."""

    event_type: ClassVar[str] = "intake.incident_reported.v1"
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
    # Added after the first version; optional so earlier events still validate.
    reporter: Reporter | None = None
    category: str | None = None
    # The source's own severity word (PagerDuty critical|error|warning|info, Alertmanager's
    # severity label), kept for display; severity itself comes from the impact facts.
    alert_severity: str | None = None
    # Minimized extra fields of the alert worth showing (e.g. PagerDuty source/group/class).
    details: dict[str, Any] = {}


class AlertEvent(IntakeEvent):
    """Fields every event about an incident's alerts carries, keyed by the incident."""

    subject_field: ClassVar[str] = "incident_id"

    incident_id: UUID
    dedup_key: str


@event
class AlertRepeated(AlertEvent):
    """Another alert arrived for an incident that is still open (dedup hit)."""

    event_type: ClassVar[str] = "intake.alert_repeated.v1"

    alert_count: int
    last_seen_at: datetime


@event
class AlertAcknowledged(AlertEvent):
    """The alert source acknowledged the incident (PagerDuty-format ``acknowledge``)."""

    event_type: ClassVar[str] = "intake.alert_acknowledged.v1"

    acknowledged_at: datetime


@event
class AlertsResolved(AlertEvent):
    """Every alert of the incident's dedup key has resolved (Alertmanager) or the source sent a
    ``resolve`` (PagerDuty format), and the integration resolves incidents automatically.
    Intake has closed the dedup key: the same alert opens a new incident from now on."""

    event_type: ClassVar[str] = "intake.alerts_resolved.v1"

    resolved_at: datetime


class Matcher(BaseModel):
    """An Alertmanager-style label matcher: ``=``, ``!=``, ``=~`` or ``!~`` (regex, anchored)."""

    name: str
    value: str
    op: Literal["=", "!=", "=~", "!~"] = "="


@event
class SilenceChanged(IntakeEvent):
    """A silence (maintenance window) was created, changed or expired early (full state)."""

    event_type: ClassVar[str] = "intake.silence_changed.v1"
    subject_field: ClassVar[str] = "silence_id"

    silence_id: UUID
    matchers: list[Matcher]
    starts_at: datetime
    ends_at: datetime
    comment: str = ""
    created_by: UUID | None = None
    client_id: UUID | None = None
    expired: bool = False


class ChangeLink(BaseModel):
    href: str
    text: str | None = None


@event
class ChangeReceived(IntakeEvent):
    """A monitoring or delivery tool reported a change (a deploy, a config push) in the PagerDuty
    Change Events format (``POST /v2/change/enqueue``): not a problem, so it opens nothing; the
    changes service records it as a completed change on the integration's component, where an
    incident's related changes find it."""

    event_type: ClassVar[str] = "intake.change_received.v1"
    subject_field: ClassVar[str] = "change_id"

    change_id: UUID
    integration_id: UUID
    client_id: UUID | None = None
    component_id: UUID | None = None
    summary: str
    source: str | None = None
    occurred_at: datetime
    custom_details: dict[str, Any] = {}
    links: list[ChangeLink] = []
