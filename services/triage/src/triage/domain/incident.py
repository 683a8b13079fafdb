"""The incident aggregate: its state, how an edit of it becomes the changes to save, the update
records to keep (001 "Updating Incident Status": who, field, from, to, when) and the events to
announce; and its identity and linking rules. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic_core import to_jsonable_python

from contracts.enums import AssignmentKind, Severity
from contracts.envelope import SYSTEM, Actor, Envelope
from contracts.events import IncidentDeleted, IncidentEvent
from contracts.events.intake import ImpactFacts

# Fields whose changes are kept as update records (timestamps and "by" columns follow from the
# status change they belong to).
RECORDED = (
    "title",
    "description",
    "category",
    "priority",
    "status",
    "severity",
    "computed_severity",
    "severity_flags",
    "severity_override",
    "impact",
    "metadata",
    "resolution",
    "deleted_at",
)
# Owner kinds: an assignee, or whom the work was delegated to.
OWNER_KINDS = (AssignmentKind.ASSIGNEE.value, AssignmentKind.DELEGATE.value)


def as_json(value: Any) -> Any:
    """A value as it is compared, recorded and announced (JSON)."""
    return to_jsonable_python(value)


@dataclass(frozen=True)
class Incident:
    """An incident as stored: one field per column of the incidents table."""

    id: UUID
    tenant_id: UUID
    reference_code: str
    title: str
    status: str
    severity: str
    description: str = ""
    severity_flags: dict[str, bool] = field(default_factory=dict)
    impact: dict[str, Any] = field(default_factory=dict)
    source: str = "manual"
    dedup_key: str | None = None
    client_id: UUID | None = None
    component_id: UUID | None = None
    vendor_id: UUID | None = None
    alert_count: int = 1
    labels: dict[str, Any] = field(default_factory=dict)
    detected_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None
    category: str | None = None
    priority: str | None = None
    computed_severity: str | None = None
    severity_override: str | None = None
    severity_override_reason: str | None = None
    severity_overridden_by: UUID | None = None
    severity_overridden_at: datetime | None = None
    contractual_p1: bool = False
    recurrent: bool = False
    reporter: dict[str, Any] | None = None
    alert_severity: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    resolution: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: UUID | None = None
    resolved_at: datetime | None = None
    resolved_by: UUID | None = None
    closed_at: datetime | None = None
    closed_by: UUID | None = None
    deleted_by: UUID | None = None

    @classmethod
    def of(cls, row: Mapping[Any, Any]) -> Incident:
        return cls(**{f.name: row[f.name] for f in fields(cls)})

    def headline(self) -> dict[str, Any]:
        """The fields every incident event carries (contracts IncidentEvent)."""
        return {
            "incident_id": self.id,
            "reference_code": self.reference_code,
            "title": self.title,
            "severity": Severity(self.severity),
            "status": self.status,
            "priority": self.priority,
            "client_id": self.client_id,
            "component_id": self.component_id,
            "vendor_id": self.vendor_id,
        }

    def event(self, data_cls: type[IncidentEvent], **values: Any) -> IncidentEvent:
        """An event about this incident, its headline from this state."""
        return data_cls(**self.headline(), **values)


@dataclass(frozen=True)
class Who:
    """Who makes a change: a person (``via`` user), the alert source, or the system; the actor
    and cause its events carry."""

    user_id: UUID | None = None
    role: str | None = None
    via: str = "user"
    actor: Actor = SYSTEM
    caused_by: Envelope | None = None

    @classmethod
    def alert(cls, envelope: Envelope) -> Who:
        return cls(None, None, "alert", SYSTEM, envelope)


@dataclass(frozen=True)
class Record:
    """One update record: a field's value before and after, as JSON."""

    field: str
    from_value: Any
    to_value: Any


@dataclass
class Edit:
    """An incident being changed: ``before`` as loaded, ``after`` as it will be saved."""

    before: Incident
    after: Incident = field(init=False)

    def __post_init__(self) -> None:
        self.after = self.before

    def set(self, **values: Any) -> None:
        self.after = replace(self.after, **values)

    def changed(self) -> dict[str, dict[str, Any]]:
        """Every changed field: {"from", "to"} as JSON."""
        changes = {}
        for f in fields(Incident):
            old, new = as_json(getattr(self.before, f.name)), as_json(getattr(self.after, f.name))
            if old != new:
                changes[f.name] = {"from": old, "to": new}
        return changes


@dataclass(frozen=True)
class Outcome:
    """What a command did to an incident: its state to save, the changed fields, the update
    records to keep and the events to announce, in order (nothing changed: nothing to save)."""

    incident: Incident
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)
    events: list[IncidentEvent] = field(default_factory=list)
    at: datetime | None = None
    note: str | None = None

    @property
    def recorded(self) -> dict[str, dict[str, Any]]:
        """The changes kept as update records."""
        return {k: v for k, v in self.changes.items() if k in RECORDED}


def settle(edit: Edit, at: datetime, note: str | None = None) -> Outcome:
    """The edit's changes, stamped ``at``, with an update record per recorded field (events
    are added by the command)."""
    changes = edit.changed()
    if not changes:
        return Outcome(edit.after, at=at, note=note)
    incident = replace(edit.after, updated_at=at)
    records = [Record(k, c["from"], c["to"]) for k, c in changes.items() if k in RECORDED]
    return Outcome(incident, changes, records, at=at, note=note)


def mark_deleted(incident: Incident, who: Who, at: datetime) -> Outcome:
    """Soft delete: the record stays for the audit trail; queries no longer show it."""
    edit = Edit(incident)
    edit.set(deleted_at=at, deleted_by=who.user_id)
    outcome = settle(edit, at)
    outcome.events.append(outcome.incident.event(IncidentDeleted, deleted_at=at, deleted_by=who.user_id))
    return outcome


def reference_code(number: int) -> str:
    """Per-tenant, human-friendly: INC-000123 (grows past six digits when it must)."""
    return f"INC-{number:06d}"


@dataclass(frozen=True)
class Component:
    """What triage knows of a directory component (its replica row)."""

    id: UUID
    tenant_id: UUID
    client_id: UUID
    vendor_id: UUID | None
    business_critical: bool


@dataclass(frozen=True)
class Links:
    """The parties an incident is linked to, which decide who may see it."""

    client_id: UUID | None
    vendor_id: UUID | None


def links(tenant_id: UUID, client_id: UUID | None, component: Component | None) -> Links:
    """The reported client wins; the component's client fills in when none was reported, and the
    vendor always comes from the component. A component of another tenant links nothing."""
    if component is None or component.tenant_id != tenant_id:
        return Links(client_id=client_id, vendor_id=None)
    return Links(client_id=client_id or component.client_id, vendor_id=component.vendor_id)


def with_component_facts(impact: ImpactFacts, tenant_id: UUID, component: Component | None) -> ImpactFacts:
    """A business-critical component makes the incident business-critical unless the report
    said otherwise (an explicit ``business_critical`` in the report wins)."""
    if component is None or component.tenant_id != tenant_id or impact.business_critical is not None:
        return impact
    if not component.business_critical:
        return impact
    return impact.model_copy(update={"business_critical": True})


@dataclass(frozen=True)
class Prior:
    """An earlier incident, as far as recurrence cares."""

    tenant_id: UUID
    dedup_key: str | None
    component_id: UUID | None
    detected_at: datetime


def is_recurrent(
    history: Iterable[Prior],
    *,
    tenant_id: UUID,
    dedup_key: str | None,
    component_id: UUID | None,
    detected_at: datetime,
    window: timedelta,
) -> bool:
    """Recurrent (001 P1 condition): another incident of the tenant had the same dedup key or
    the same component within ``window`` before this one was detected (docs/architecture.md)."""
    if dedup_key is None and component_id is None:
        return False
    since = detected_at - window
    for prior in history:
        if prior.tenant_id != tenant_id or not since <= prior.detected_at <= detected_at:
            continue
        if (dedup_key is not None and prior.dedup_key == dedup_key) or (
            component_id is not None and prior.component_id == component_id
        ):
            return True
    return False
