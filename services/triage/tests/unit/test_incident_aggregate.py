"""The incident aggregate (triage.domain.incident, .lifecycle, .severity), pure: a command on an
incident gives its new state, the changed fields, the update records and the events to
announce, in order; nothing here touches a database."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from backbone.problems import Conflict, Forbidden, Unprocessable
from contracts.enums import Role, Severity
from contracts.envelope import Envelope
from contracts.events import (
    AlertAcknowledged,
    IncidentAcknowledged,
    IncidentClosed,
    IncidentDeleted,
    IncidentEscalated,
    IncidentReopened,
    IncidentResolved,
    IncidentStatusChanged,
    IncidentTriaged,
    IncidentUpdated,
)
from contracts.events.intake import ImpactFacts
from triage.adapters.orm import incident_tasks, incidents
from triage.domain import incident as aggregate
from triage.domain import lifecycle, severity
from triage.domain.incident import Incident, Outcome, Record, Who
from triage.domain.lifecycle import DEFAULT_STATUSES, Catalog, StatusDef
from triage.domain.task import Task, edit_task, new_task

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CATALOG = Catalog(DEFAULT_STATUSES)
MANAGER = Who(uuid4(), Role.INCIDENT_MANAGER.value)
SUPPORT = Who(uuid4(), Role.TECHNICAL_SUPPORT.value)
PRIORITY_LEVELS = {"critical": 1, "high": 2, "medium": 3, "low": 4}


def opened(**values: object) -> Incident:
    base = Incident(
        id=uuid4(),
        tenant_id=uuid4(),
        reference_code="INC-000001",
        title="database down",
        status="open",
        severity="P4",
        computed_severity="P4",
        priority="low",
        dedup_key="db-1",
        severity_flags=severity.classify(ImpactFacts()).flags,
    )
    return replace(base, **values)  # type: ignore[arg-type]


def by_alert() -> Who:
    acknowledged = AlertAcknowledged(incident_id=uuid4(), dedup_key="db-1", acknowledged_at=NOW)
    return Who.alert(Envelope.wrap(acknowledged, source="intake", tenant_id=uuid4()))


def kinds(outcome: Outcome) -> list[type]:
    return [type(e) for e in outcome.events]


def escalate(
    incident: Incident, who: Who = MANAGER, priority: str | None = None, target: Severity | None = None
) -> tuple[Outcome, severity.ManualEscalation]:
    return severity.escalate(
        incident,
        who,
        reason="customer called",
        priority=priority,
        severity=target,
        catalog=CATALOG,
        levels=PRIORITY_LEVELS,
        at=NOW,
    )


def test_the_aggregate_holds_every_column_of_the_incidents_table() -> None:
    """Incident.of builds the aggregate from a row: a column missing here would be lost."""
    assert {f.name for f in fields(Incident)} == set(incidents.c.keys())


def test_a_persons_first_move_out_of_open_acknowledges() -> None:
    incident = opened()
    outcome = lifecycle.move(incident, "in_progress", SUPPORT, CATALOG, now=NOW, note="on it")
    after = outcome.incident
    assert (after.status, after.acknowledged_at, after.acknowledged_by) == (
        "in_progress",
        NOW,
        SUPPORT.user_id,
    )
    assert after.updated_at == NOW
    assert kinds(outcome) == [IncidentStatusChanged, IncidentAcknowledged]
    changed, acknowledged = outcome.events
    assert (changed.from_status, changed.to_status, changed.note) == ("open", "in_progress", "on it")
    assert isinstance(acknowledged, IncidentAcknowledged) and acknowledged.via == "user"
    # Only the status is an update record; the stamps follow from it.
    assert outcome.records == [Record("status", "open", "in_progress")]
    assert outcome.note == "on it"


def test_a_second_move_does_not_acknowledge_again() -> None:
    first = NOW - timedelta(hours=1)
    incident = opened(status="acknowledged", acknowledged_at=first, acknowledged_by=MANAGER.user_id)
    outcome = lifecycle.move(incident, "in_progress", SUPPORT, CATALOG, now=NOW)
    assert outcome.incident.acknowledged_at == first
    assert kinds(outcome) == [IncidentStatusChanged]


def test_the_alert_sources_acknowledgement_takes_its_time_and_says_via_alert() -> None:
    at = NOW - timedelta(minutes=3)
    outcome = lifecycle.acknowledge_from_source(opened(), by_alert(), CATALOG, at=at, now=NOW)
    assert outcome is not None
    assert (outcome.incident.acknowledged_at, outcome.incident.acknowledged_by) == (at, None)
    assert outcome.incident.updated_at == NOW  # saved now, happened at the source's time
    ack = outcome.events[-1]
    assert isinstance(ack, IncidentAcknowledged) and (ack.via, ack.acknowledged_at) == ("alert", at)


def test_the_alert_source_does_not_acknowledge_an_acknowledged_or_finished_incident() -> None:
    assert (
        lifecycle.acknowledge_from_source(opened(acknowledged_at=NOW), by_alert(), CATALOG, at=NOW, now=NOW)
        is None
    )
    assert (
        lifecycle.acknowledge_from_source(opened(status="resolved"), by_alert(), CATALOG, at=NOW, now=NOW)
        is None
    )
    assert (
        lifecycle.resolve_from_source(opened(status="closed"), by_alert(), CATALOG, at=NOW, now=NOW) is None
    )


def test_a_catalog_without_the_acknowledged_move_still_records_the_acknowledgement() -> None:
    custom = Catalog(
        [
            StatusDef("open", "Open", 10, is_default=True, next_statuses=("resolved",)),
            StatusDef("acknowledged", "Acknowledged", 20),
            StatusDef("resolved", "Resolved", 40),
        ]
    )
    outcome = lifecycle.acknowledge_from_source(opened(), by_alert(), custom, at=NOW, now=NOW)
    assert outcome is not None
    assert outcome.incident.status == "open"
    assert outcome.records == [Record("acknowledged_at", None, NOW.isoformat().replace("+00:00", "Z"))]
    assert kinds(outcome) == [IncidentAcknowledged]


def test_resolving_stamps_who_and_the_resolution_and_carries_the_dedup_key() -> None:
    outcome = lifecycle.move(
        opened(status="acknowledged"), "resolved", SUPPORT, CATALOG, now=NOW, resolution="fixed"
    )
    after = outcome.incident
    assert (after.resolved_at, after.resolved_by, after.resolution) == (NOW, SUPPORT.user_id, "fixed")
    assert kinds(outcome) == [IncidentStatusChanged, IncidentResolved]
    resolved = outcome.events[-1]
    assert isinstance(resolved, IncidentResolved)
    assert (resolved.dedup_key, resolved.resolution, resolved.via) == ("db-1", "fixed", "user")
    assert {r.field for r in outcome.records} == {"status", "resolution"}


def test_the_alert_source_resolves_without_a_catalog_check_and_without_acknowledging() -> None:
    outcome = lifecycle.resolve_from_source(opened(), by_alert(), CATALOG, at=NOW, now=NOW)
    assert outcome is not None
    assert outcome.incident.acknowledged_at is None
    assert kinds(outcome) == [IncidentStatusChanged, IncidentResolved]
    assert outcome.events[-1].via == "alert"  # type: ignore[attr-defined]


def test_closing_then_reopening_clears_the_stamps_and_announces_the_reopen() -> None:
    closed = lifecycle.move(opened(status="resolved", resolved_at=NOW), "closed", MANAGER, CATALOG, now=NOW)
    assert kinds(closed) == [IncidentStatusChanged, IncidentClosed]
    assert closed.incident.closed_by == MANAGER.user_id
    later = NOW + timedelta(days=1)
    reopened = lifecycle.reopen(closed.incident, MANAGER, CATALOG, reason="back again", now=later)
    after = reopened.incident
    assert after.status == "open"
    assert (after.resolved_at, after.resolved_by, after.closed_at, after.closed_by) == (
        None,
        None,
        None,
        None,
    )
    assert kinds(reopened) == [IncidentStatusChanged, IncidentReopened]
    reopen_event = reopened.events[-1]
    assert isinstance(reopen_event, IncidentReopened)
    assert (reopen_event.reason, reopen_event.reopened_at) == ("back again", later)
    # Reopening does not acknowledge the incident (it keeps its first acknowledgement, if any).
    assert after.acknowledged_at is None


def test_only_a_finished_incident_reopens() -> None:
    with pytest.raises(Conflict, match="only a resolved or closed incident"):
        lifecycle.reopen(opened(), MANAGER, CATALOG, reason="why", now=NOW)


def test_a_move_the_catalog_refuses_is_a_conflict_naming_the_allowed_moves() -> None:
    with pytest.raises(Conflict) as refused:
        lifecycle.move(opened(status="closed"), "in_progress", MANAGER, CATALOG, now=NOW)
    assert refused.value.extra["allowed"] == ["open"]
    with pytest.raises(Unprocessable, match="not a status of this tenant"):
        lifecycle.move(opened(), "paused", MANAGER, CATALOG, now=NOW)


def test_patching_the_impact_reclassifies_and_priority_follows() -> None:
    outcome = lifecycle.patch(
        opened(), {"impact": {"scope": "enterprise"}, "title": "all down"}, MANAGER, now=NOW
    )
    after = outcome.incident
    assert (after.severity, after.computed_severity, after.priority) == ("P1", "P1", "critical")
    assert after.severity_flags["p1_wide_impact"] is True
    assert kinds(outcome) == [IncidentUpdated, IncidentTriaged]
    updated, triaged = outcome.events
    assert isinstance(updated, IncidentUpdated)
    assert updated.changes["title"] == {"from": "database down", "to": "all down"}
    assert isinstance(triaged, IncidentTriaged) and triaged.previous_severity is Severity.P4
    assert {"impact", "severity", "computed_severity", "severity_flags", "priority", "title"} <= {
        r.field for r in outcome.records
    }


def test_patching_with_a_status_moves_and_saves_the_edits_with_the_move() -> None:
    outcome = lifecycle.patch(
        opened(), {"status": "in_progress", "title": "db slow"}, SUPPORT, now=NOW, catalog=CATALOG
    )
    assert (outcome.incident.status, outcome.incident.title) == ("in_progress", "db slow")
    assert kinds(outcome) == [IncidentUpdated, IncidentStatusChanged, IncidentAcknowledged]
    assert outcome.events[0].changes == {"title": {"from": "database down", "to": "db slow"}}  # type: ignore[attr-defined]


def test_patching_nothing_new_changes_nothing() -> None:
    incident = opened()
    outcome = lifecycle.patch(incident, {"status": "open", "title": "database down"}, SUPPORT, now=NOW)
    assert outcome.incident is incident
    assert (outcome.changes, outcome.records, outcome.events) == ({}, [], [])


def test_patching_an_inactive_category_or_priority_is_refused() -> None:
    with pytest.raises(Unprocessable, match="category"):
        lifecycle.patch(opened(), {"category": "gone"}, SUPPORT, now=NOW, categories={"network"})
    with pytest.raises(Unprocessable, match="priority"):
        lifecycle.patch(opened(), {"priority": None}, SUPPORT, now=NOW, priorities={"low"})


def test_an_override_keeps_the_computed_severity_and_clearing_it_restores_that() -> None:
    overridden = severity.override(opened(), MANAGER, Severity.P2, "customer impact", NOW)
    after = overridden.incident
    assert (after.severity, after.computed_severity, after.severity_override) == ("P2", "P4", "P2")
    assert (after.severity_overridden_by, after.severity_overridden_at) == (MANAGER.user_id, NOW)
    assert kinds(overridden) == [IncidentTriaged]
    assert overridden.events[0].override is True  # type: ignore[attr-defined]
    cleared = severity.override(after, MANAGER, None, None, NOW)
    assert (cleared.incident.severity, cleared.incident.severity_override) == ("P4", None)
    assert cleared.incident.severity_override_reason is None


def test_only_an_incident_manager_overrides() -> None:
    with pytest.raises(Forbidden):
        severity.override(opened(), SUPPORT, Severity.P1, "because", NOW)


def test_escalating_without_a_target_raises_the_priority_one_level() -> None:
    outcome, record = escalate(opened(priority="medium"), SUPPORT)
    assert outcome.incident.priority == "high"
    assert (record.from_priority, record.to_priority, record.escalated_by) == (
        "medium",
        "high",
        SUPPORT.user_id,
    )
    assert kinds(outcome) == [IncidentEscalated]
    escalated = outcome.events[0]
    assert isinstance(escalated, IncidentEscalated) and escalated.escalation_id == record.id


def test_escalating_a_severity_keeps_it_as_an_override_and_announces_the_triage() -> None:
    outcome, record = escalate(opened(), target=Severity.P2)
    after = outcome.incident
    assert (after.severity, after.severity_override, after.computed_severity, after.priority) == (
        "P2",
        "P2",
        "P4",
        "high",
    )
    assert (record.from_severity, record.to_severity) == ("P4", "P2")
    assert kinds(outcome) == [IncidentTriaged, IncidentEscalated]


@pytest.mark.parametrize(
    ("incident", "priority", "target", "error"),
    [
        (opened(priority="critical"), None, None, Conflict),  # nothing more urgent
        (opened(priority="high"), "low", None, Unprocessable),  # lowering
        (opened(severity="P2"), None, Severity.P3, Unprocessable),  # less severe
        (opened(status="resolved"), "critical", None, Conflict),  # finished
    ],
)
def test_escalation_only_raises(
    incident: Incident, priority: str | None, target: Severity | None, error: type[Exception]
) -> None:
    with pytest.raises(error):
        escalate(incident, priority=priority, target=target)


def test_new_contractual_terms_reassess_the_severity() -> None:
    outcome = severity.reassess(opened(), NOW, "terms changed", contractual_p1=True)
    assert (outcome.incident.severity, outcome.incident.contractual_p1) == ("P1", True)
    assert outcome.note == "terms changed"
    assert kinds(outcome) == [IncidentTriaged]
    assert severity.reassess(opened(), NOW, contractual_p1=False).events == []


def test_deleting_stamps_who_and_when_and_is_announced() -> None:
    outcome = aggregate.mark_deleted(opened(), MANAGER, NOW)
    assert (outcome.incident.deleted_at, outcome.incident.deleted_by) == (NOW, MANAGER.user_id)
    assert [r.field for r in outcome.records] == ["deleted_at"]
    assert kinds(outcome) == [IncidentDeleted]


def test_a_task_changes_only_what_was_sent_and_stamps_its_completion() -> None:
    task = new_task(opened(), {"title": "restart the primary", "sort_order": None}, SUPPORT.user_id, NOW)
    assert (task.status, task.sort_order, task.completed_at, task.created_by) == (
        "open",
        0,
        None,
        SUPPORT.user_id,
    )
    later = NOW + timedelta(minutes=20)
    done, changes = edit_task(task, {"status": "completed", "title": "restart the primary"}, later)
    assert changes == {"status": {"from": "open", "to": "completed"}}
    assert (done.completed_at, done.updated_at) == (later, later)
    reopened, _ = edit_task(done, {"status": "open"}, later + timedelta(minutes=1))
    assert reopened.completed_at is None
    assert edit_task(task, {"title": "restart the primary"}, later) == (task, {})
    with pytest.raises(Unprocessable, match="title"):
        edit_task(task, {"title": ""}, later)


def test_the_task_holds_every_column_of_its_table() -> None:
    assert {f.name for f in fields(Task)} == set(incident_tasks.c.keys())


@pytest.mark.parametrize("field", ["title", "description", "metadata"])
def test_a_field_every_incident_has_sent_as_null_is_refused(field: str) -> None:
    # Found by the OpenAPI fuzzing: PATCH {"description": null} reached the NOT NULL column (500).
    with pytest.raises(Unprocessable, match=f"{field}: may not be null"):
        lifecycle.patch(opened(), {field: None}, SUPPORT, now=NOW)
