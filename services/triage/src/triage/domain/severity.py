"""Severity classification (docs/architecture.md, from 001 "Severity Classification Process").

Every condition is evaluated and kept as a flag, true or false; severity is P1 if any p1_* flag
holds, else P2 if any p2_*, else P3 if any p3_*, else P4. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from backbone.problems import Conflict, Forbidden, Unprocessable
from contracts.enums import Degradation, EscalationTrigger, Role, Scope, Severity, SeverityFlag, Workaround
from contracts.envelope import new_id
from contracts.events import IncidentEscalated, IncidentEvent, IncidentTriaged
from contracts.events.intake import ImpactFacts
from triage.domain.incident import Edit, Incident, Outcome, Who, settle

if TYPE_CHECKING:  # lifecycle's moves reclassify: imported for the annotation only
    from triage.domain.lifecycle import Catalog

WIDE_IMPACT_PARTIES = 5
MULTI_SCOPES = {Scope.MULTIPLE_DEPARTMENTS, Scope.MULTIPLE_SITES, Scope.CRITICAL_FUNCTION}
LOCAL_SCOPES = {Scope.SINGLE_DEPARTMENT, Scope.LOCALIZED, Scope.NON_CRITICAL_FUNCTION}


@dataclass(frozen=True)
class Classification:
    severity: Severity
    flags: dict[str, bool]


def evaluate_flags(facts: ImpactFacts, *, contractual_p1: bool, recurrent: bool) -> dict[str, bool]:
    critical = facts.business_critical is True
    workaround = facts.workaround
    flags = {
        SeverityFlag.P1_COMPLETE_OUTAGE: critical
        and facts.degradation is Degradation.COMPLETE_OUTAGE
        and workaround in (None, Workaround.NONE),
        SeverityFlag.P1_WIDE_IMPACT: facts.scope is Scope.ENTERPRISE
        or (facts.affected_parties or 0) >= WIDE_IMPACT_PARTIES,
        SeverityFlag.P1_REGULATORY_SAFETY_FINANCIAL: facts.regulatory_safety_financial is True,
        SeverityFlag.P1_PRIORITY_CUSTOMER_OR_RECURRENT: contractual_p1 or recurrent,
        SeverityFlag.P2_MAJOR_DEGRADATION: critical
        and facts.degradation is Degradation.MAJOR
        and workaround is Workaround.AVAILABLE,
        SeverityFlag.P2_MULTI_DEPARTMENT: facts.scope in MULTI_SCOPES,
        SeverityFlag.P2_SLA_RISK: facts.sla_risk is True,
        SeverityFlag.P3_LOCALIZED: facts.scope in LOCAL_SCOPES,
        SeverityFlag.P3_MODERATE_DEGRADATION: facts.degradation is Degradation.MODERATE
        and workaround in (Workaround.MINIMAL, Workaround.AVAILABLE),
    }
    return {flag.value: bool(value) for flag, value in flags.items()}


def classify(facts: ImpactFacts, *, contractual_p1: bool = False, recurrent: bool = False) -> Classification:
    flags = evaluate_flags(facts, contractual_p1=contractual_p1, recurrent=recurrent)
    for severity, prefix in ((Severity.P1, "p1_"), (Severity.P2, "p2_"), (Severity.P3, "p3_")):
        if any(value for name, value in flags.items() if name.startswith(prefix)):
            return Classification(severity, flags)
    return Classification(Severity.P4, flags)


def effective(computed: Severity, override: Severity | None) -> Severity:
    """The severity an incident carries: a person's override when there is one, else the
    computed one (both are kept)."""
    return override or computed


# --------------------------------------------------------------------------- the incident's severity

SEVERITY_FIELDS = frozenset({"severity", "computed_severity", "severity_flags", "severity_override"})


def reclassify(edit: Edit) -> None:
    """Recompute flags and severity from the incident's facts; the effective severity is the
    override when there is one. Priority follows a change of the effective severity."""
    after = edit.after
    result = classify(
        ImpactFacts.model_validate(after.impact or {}),
        contractual_p1=bool(after.contractual_p1),
        recurrent=bool(after.recurrent),
    )
    override = Severity(after.severity_override) if after.severity_override else None
    severity = effective(result.severity, override)
    edit.set(computed_severity=result.severity.value, severity_flags=result.flags)
    if severity.value != after.severity:
        edit.set(severity=severity.value, priority=severity.priority.value)


def triaged(before: Incident, outcome: Outcome) -> list[IncidentEvent]:
    """incident.triaged.v1 when the outcome changed the severity or what it rests on."""
    if not SEVERITY_FIELDS & outcome.changes.keys():
        return []
    after = outcome.incident
    assert after.computed_severity is not None  # set by reclassify, which every such change runs
    return [
        after.event(
            IncidentTriaged,
            previous_severity=Severity(before.severity),
            computed_severity=Severity(after.computed_severity),
            severity_flags=after.severity_flags,
            override=after.severity_override is not None,
            override_reason=after.severity_override_reason,
        )
    ]


def reassess(incident: Incident, now: datetime, note: str | None = None, **facts: object) -> Outcome:
    """New facts (the client's contractual P1 terms …): severity evaluated again."""
    edit = Edit(incident)
    edit.set(**facts)
    reclassify(edit)
    outcome = settle(edit, now, note)
    outcome.events.extend(triaged(incident, outcome))
    return outcome


def check_may_override(who: Who) -> None:
    if who.role != Role.INCIDENT_MANAGER.value:
        raise Forbidden("only an incident manager may override the severity")


def override(
    incident: Incident, who: Who, severity: Severity | None, reason: str | None, at: datetime
) -> Outcome:
    """An incident manager sets (or, with None, clears) the severity by hand, with a reason.
    The computed severity and every flag stay as they are and visible."""
    check_may_override(who)
    edit = Edit(incident)
    edit.set(
        severity_override=severity.value if severity else None,
        severity_override_reason=reason if severity else None,
        severity_overridden_by=who.user_id if severity else None,
        severity_overridden_at=at if severity else None,
    )
    reclassify(edit)
    outcome = settle(edit, at, reason)
    outcome.events.extend(triaged(incident, outcome))
    return outcome


@dataclass(frozen=True)
class ManualEscalation:
    """A person's escalation, as its history keeps it (004 ``incident_escalations``)."""

    id: UUID
    tenant_id: UUID
    incident_id: UUID
    reason: str
    from_priority: str | None
    to_priority: str | None
    from_severity: str
    to_severity: str
    escalated_by: UUID | None
    escalated_at: datetime
    trigger: str = EscalationTrigger.MANUAL.value
    cause: str = "manual"


def escalate(
    incident: Incident,
    who: Who,
    *,
    reason: str,
    priority: str | None,
    severity: Severity | None,
    catalog: Catalog,
    levels: Mapping[str, int],
    at: datetime,
) -> tuple[Outcome, ManualEscalation]:
    """Manual escalation with a reason: raise the priority and/or the severity (an escalated
    severity is kept as an override; the computed one stays). With neither, the priority goes
    one level up. Only raising is an escalation; lowering is a PATCH or an override.
    ``levels``: the tenant's active priorities and their levels (1 the most urgent)."""
    if catalog.is_finished(incident.status):
        raise Conflict(f"status: a {incident.status} incident cannot be escalated; reopen it first")
    current_level = levels.get(incident.priority or "", max(levels.values(), default=4) + 1)
    if priority is None and severity is None:
        higher = sorted((lvl, slug) for slug, lvl in levels.items() if lvl < current_level)
        if not higher:
            raise Conflict(
                "priority: the incident already has the most urgent priority; escalate its severity"
            )
        priority = higher[-1][1]
    if priority is not None:
        if priority not in levels:
            raise Unprocessable(f"priority: {priority!r} is not an active priority", field="priority")
        if levels[priority] >= current_level:
            raise Unprocessable(
                f"priority: {priority} is not more urgent than {incident.priority}", field="priority"
            )
    current_severity = Severity(incident.severity)
    if severity is not None and not (severity.rank < current_severity.rank):
        raise Unprocessable(
            f"severity: {severity.value} is not more severe than {current_severity.value}", field="severity"
        )
    edit = Edit(incident)
    if severity is not None:
        edit.set(
            severity_override=severity.value,
            severity_override_reason=reason,
            severity_overridden_by=who.user_id,
            severity_overridden_at=at,
        )
        reclassify(edit)
    if priority is not None:
        edit.set(priority=priority)
    outcome = settle(edit, at, reason)
    after = outcome.incident
    record = ManualEscalation(
        id=new_id(),
        tenant_id=incident.tenant_id,
        incident_id=incident.id,
        reason=reason,
        from_priority=incident.priority,
        to_priority=after.priority,
        from_severity=incident.severity,
        to_severity=after.severity,
        escalated_by=who.user_id,
        escalated_at=at,
    )
    outcome.events.extend(triaged(incident, outcome))
    outcome.events.append(
        after.event(
            IncidentEscalated,
            escalation_id=record.id,
            trigger=EscalationTrigger.MANUAL,
            cause="manual",
            reason=reason,
            from_priority=incident.priority,
            to_priority=after.priority,
            from_severity=current_severity,
            to_severity=Severity(after.severity),
            escalated_by=who.user_id,
            escalated_at=at,
        )
    )
    return outcome, record
