"""Events of the triage service (topic ``incident.events``), keyed by incident id.

Every incident event carries the incident's current headline (``IncidentEvent``: reference,
title, severity, status, client, component, vendor), so consumers that route or display it
(notifications, SLA, audit) need no copy of the incident. Statuses are strings: a tenant's
catalog may add its own (004), beyond the default ``IncidentStatus`` values.

Escalation-policy events are keyed by the policy id; catalog events by the item id.
"""

from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel

from contracts.enums import AssignmentKind, EscalationTrigger, IncidentSource, Severity
from contracts.envelope import EventData, event
from contracts.events.intake import ImpactFacts
from contracts.topics import Topic


class TriageEvent(EventData):
    """Base of the events on ``incident.events`` (not an event type of its own)."""

    topic: ClassVar[Topic] = Topic.INCIDENT_EVENTS


class IncidentEvent(TriageEvent):
    """Fields every incident event carries (not an event type of its own)."""

    subject_field: ClassVar[str] = "incident_id"

    incident_id: UUID
    reference_code: str
    title: str
    severity: Severity
    status: str
    priority: str | None = None
    client_id: UUID | None = None
    component_id: UUID | None = None
    vendor_id: UUID | None = None


@event
class IncidentCreated(IncidentEvent):
    """Triage recorded and classified a new incident reported by intake."""

    event_type: ClassVar[str] = "incident.created.v1"

    severity_flags: dict[str, bool]
    source: IncidentSource
    description: str = ""
    category: str | None = None
    dedup_key: str | None = None
    impact: ImpactFacts = ImpactFacts()
    detected_at: datetime


@event
class IncidentUpdated(IncidentEvent):
    """Fields of the incident changed (title, description, category, priority, impact …);
    ``changes`` maps each field to {"from": old, "to": new}."""

    event_type: ClassVar[str] = "incident.updated.v1"

    changes: dict[str, dict[str, Any]]


@event
class IncidentTriaged(IncidentEvent):
    """Severity was set or changed: recomputed from new facts, or overridden by a person.
    ``severity`` is the effective one; ``computed_severity`` what the flags give."""

    event_type: ClassVar[str] = "incident.triaged.v1"

    previous_severity: Severity | None = None
    computed_severity: Severity
    severity_flags: dict[str, bool]
    override: bool = False
    override_reason: str | None = None


@event
class IncidentStatusChanged(IncidentEvent):
    """Any move in the status catalog. Moves into acknowledged, resolved and closed, and
    reopening, are also announced by their own events below."""

    event_type: ClassVar[str] = "incident.status_changed.v1"

    from_status: str
    to_status: str
    note: str | None = None


@event
class IncidentAcknowledged(IncidentEvent):
    """First acknowledgement (by a person, or by the alert source for PagerDuty-format acks);
    stops the response clock and automatic escalation."""

    event_type: ClassVar[str] = "incident.acknowledged.v1"

    acknowledged_at: datetime
    acknowledged_by: UUID | None = None
    via: Literal["user", "alert"] = "user"


@event
class IncidentAssigned(IncidentEvent):
    """A user was assigned (``kind`` assignee) or added as a CC watcher (``kind`` cc)."""

    event_type: ClassVar[str] = "incident.assigned.v1"

    assignment_id: UUID
    user_id: UUID
    kind: AssignmentKind = AssignmentKind.ASSIGNEE
    assigned_by: UUID | None = None
    note: str | None = None
    assigned_at: datetime


@event
class IncidentUnassigned(IncidentEvent):
    event_type: ClassVar[str] = "incident.unassigned.v1"

    assignment_id: UUID
    user_id: UUID
    unassigned_at: datetime


@event
class IncidentDelegated(IncidentEvent):
    """Work handed from one user to another; the previous assignment ends."""

    event_type: ClassVar[str] = "incident.delegated.v1"

    assignment_id: UUID
    user_id: UUID
    delegated_from: UUID
    assigned_by: UUID | None = None
    note: str | None = None
    assigned_at: datetime


@event
class IncidentEscalated(IncidentEvent):
    """Escalation: manual (a person, with a reason) or automatic (an escalation policy level
    fired, an acknowledgement timed out, or the SLA service warned or breached).
    ``target_user_ids``/``target_roles`` are whom the level pages; notifications routes to them."""

    event_type: ClassVar[str] = "incident.escalated.v1"

    escalation_id: UUID
    trigger: EscalationTrigger
    cause: Literal["manual", "policy", "sla_at_risk", "sla_breached"] = "manual"
    reason: str | None = None
    level: int | None = None
    loop: int = 0
    policy_id: UUID | None = None
    target_user_ids: list[UUID] = []
    target_roles: list[str] = []
    from_priority: str | None = None
    to_priority: str | None = None
    from_severity: Severity | None = None
    to_severity: Severity | None = None
    escalated_by: UUID | None = None
    escalated_at: datetime


@event
class IncidentResolved(IncidentEvent):
    """The incident was resolved, by a person or because all its alerts resolved (``via`` alert).
    Intake closes its dedup key, so the same alert opens a new incident afterwards."""

    event_type: ClassVar[str] = "incident.resolved.v1"

    resolved_at: datetime
    resolved_by: UUID | None = None
    via: Literal["user", "alert"] = "user"
    resolution: str | None = None
    dedup_key: str | None = None


@event
class IncidentClosed(IncidentEvent):
    event_type: ClassVar[str] = "incident.closed.v1"

    closed_at: datetime
    closed_by: UUID | None = None
    dedup_key: str | None = None


@event
class IncidentReopened(IncidentEvent):
    event_type: ClassVar[str] = "incident.reopened.v1"

    reopened_at: datetime
    reopened_by: UUID | None = None
    reason: str | None = None


@event
class IncidentDeleted(IncidentEvent):
    """Soft delete: the record stays for the audit trail, but queries no longer show it."""

    event_type: ClassVar[str] = "incident.deleted.v1"

    deleted_at: datetime
    deleted_by: UUID | None = None


@event
class IncidentCommentAdded(IncidentEvent):
    """A comment; ``is_internal`` comments are never sent to client or vendor contacts."""

    event_type: ClassVar[str] = "incident.comment_added.v1"

    comment_id: UUID
    author_id: UUID | None = None
    body: str
    is_internal: bool = True


@event
class IncidentTaskAdded(IncidentEvent):
    event_type: ClassVar[str] = "incident.task_added.v1"

    task_id: UUID
    task_title: str
    task_status: str
    assignee_id: UUID | None = None
    due_at: datetime | None = None
    sort_order: int = 0


@event
class IncidentTaskUpdated(IncidentEvent):
    """A task changed; ``changes`` maps each field to {"from": old, "to": new}."""

    event_type: ClassVar[str] = "incident.task_updated.v1"

    task_id: UUID
    task_status: str
    changes: dict[str, dict[str, Any]]


@event
class IncidentAttachmentAdded(IncidentEvent):
    event_type: ClassVar[str] = "incident.attachment_added.v1"

    attachment_id: UUID
    filename: str
    mime_type: str
    size_bytes: int
    comment_id: UUID | None = None
    uploaded_by: UUID | None = None


class EscalationLevel(BaseModel):
    """One level of a policy: whom to page, and how long to wait for an acknowledgement
    before the next level."""

    user_ids: list[UUID] = []
    roles: list[str] = []
    delay_minutes: int


@event
class EscalationPolicyChanged(TriageEvent):
    """An escalation policy was created or changed (full state; ``deleted`` when removed)."""

    event_type: ClassVar[str] = "escalation_policy.changed.v1"
    subject_field: ClassVar[str] = "policy_id"

    policy_id: UUID
    name: str
    client_id: UUID | None = None
    min_severity: Severity | None = None
    levels: list[EscalationLevel]
    loops: int = 0
    deleted: bool = False


@event
class CatalogItemChanged(TriageEvent):
    """A tenant's status, category or priority catalog entry was created or changed (004)."""

    event_type: ClassVar[str] = "incident_catalog.changed.v1"
    subject_field: ClassVar[str] = "item_id"

    catalog: Literal["statuses", "categories", "priorities"]
    item_id: UUID
    slug: str
    values: dict[str, Any]


def incident_event_types() -> tuple[type[IncidentEvent], ...]:
    """Every incident event type (those carrying the headline), in definition order."""
    return tuple(cls for cls in IncidentEvent.__subclasses__() if "event_type" in cls.__dict__)
