"""Events of the SLA service (topic ``sla.events``), keyed by incident id (docs/architecture.md "SLA policy").

A clock warns (``sla.at_risk.v1``) at start + min(target, 80 % of deadline) and breaches
(``sla.breached.v1``) at the deadline. Triage escalates on both; notifications routes them.
"""

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from contracts.enums import MetricType, Severity, SlaClockKind, SubscriptionTier
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


# Every other change of a clock is an event too (docs/sla.md "Clocks"), so audit records it and
# triage can keep the incident's due time. ``due_at`` is the deadline as it stands after the
# change (for a paused or stopped clock: as it stood when it stopped counting).


@event
class SlaClockStarted(SlaClockEvent):
    event_type: ClassVar[str] = "sla.clock_started.v1"

    calendar: str
    target_minutes: int
    deadline_minutes: int
    warn_at: datetime | None = None


@event
class SlaClockStopped(SlaClockEvent):
    """Stopped (response: first acknowledgement or assignment; resolution: resolve), or
    cancelled (close or delete before that). ``outcome``: met, breached or cancelled."""

    event_type: ClassVar[str] = "sla.clock_stopped.v1"

    stopped_at: datetime
    outcome: str
    elapsed_minutes: float


@event
class SlaClockPaused(SlaClockEvent):
    event_type: ClassVar[str] = "sla.clock_paused.v1"

    paused_at: datetime
    status: str


@event
class SlaClockResumed(SlaClockEvent):
    """Counting again: after a pause (``reason`` the new status) or a reopen (``reopened``)."""

    event_type: ClassVar[str] = "sla.clock_resumed.v1"

    resumed_at: datetime
    reason: str


@event
class SlaClockExtended(SlaClockEvent):
    """A deadline extension: warning and deadline move by ``minutes`` of the clock's calendar."""

    event_type: ClassVar[str] = "sla.clock_extended.v1"

    minutes: int
    reason: str
    extended_by: UUID | None = None
    extended_at: datetime
    total_extension_minutes: int


@event
class SlaClockRetargeted(SlaClockEvent):
    """Severity or tier changed: the new policy's figures apply from the clock's start."""

    event_type: ClassVar[str] = "sla.clock_retargeted.v1"

    previous_severity: Severity
    previous_tier: SubscriptionTier | None = None
    calendar: str
    target_minutes: int
    deadline_minutes: int
    retargeted_at: datetime


@event
class SlaMetricRecorded(EventData):
    """002 "Recording Performance Metrics": a metric computed from the incident's times."""

    event_type: ClassVar[str] = "sla.metric_recorded.v1"
    topic: ClassVar[Topic] = Topic.SLA_EVENTS
    subject_field: ClassVar[str] = "incident_id"

    metric_id: UUID
    incident_id: UUID
    metric_type: MetricType
    calculated_value_minutes: float
    target_minutes: int | None = None
    met_target: bool | None = None
    recorded_by: UUID | None = None


@event
class SlaPolicyChanged(EventData):
    """A tenant edited the figures of one tier and severity (docs/sla.md "Policies"). Clocks
    started after it use them; running clocks keep theirs."""

    event_type: ClassVar[str] = "sla.policy_changed.v1"
    topic: ClassVar[Topic] = Topic.SLA_EVENTS
    subject_field: ClassVar[str] = "tier"

    tier: SubscriptionTier
    severity: Severity
    calendar: str
    response_target_minutes: int
    response_deadline_minutes: int
    resolution_target_minutes: int
    resolution_deadline_minutes: int


@event
class SlaCalendarChanged(EventData):
    """A tenant's default calendar (``scope`` "default") or a client's (``scope`` its id) was set
    or, for a client, removed (``definition`` None: the default applies again)."""

    event_type: ClassVar[str] = "sla.calendar_changed.v1"
    topic: ClassVar[Topic] = Topic.SLA_EVENTS
    subject_field: ClassVar[str] = "scope"

    scope: str
    client_id: UUID | None = None
    definition: dict[str, Any] | None = None
