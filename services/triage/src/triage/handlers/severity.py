"""Severity and priority by hand: an incident manager's override, and manual escalation. The
rules are the incident aggregate's (triage.domain.severity)."""

from __future__ import annotations

from uuid import UUID

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from contracts.enums import Severity
from triage.adapters import catalog as catalogs
from triage.adapters import incident as store
from triage.adapters import severity as escalation_records
from triage.domain import severity as rules
from triage.domain.incident import Incident
from triage.domain.severity import ManualEscalation
from triage.handlers.incident import apply, person


async def override_severity(
    uow: UnitOfWork, caller: Principal, incident_id: UUID, severity: Severity | None, reason: str | None
) -> Incident:
    """An incident manager sets (or, with None, clears) the severity by hand, with a reason."""
    who = person(caller)
    rules.check_may_override(who)  # before the incident is looked up: 403 whatever the id
    found = await store.lock(uow.session, caller, incident_id)
    return await apply(uow, rules.override(found, who, severity, reason, uow.now), who)


async def escalate(
    uow: UnitOfWork,
    caller: Principal,
    incident_id: UUID,
    reason: str,
    priority: str | None,
    severity: Severity | None,
) -> ManualEscalation:
    """Manual escalation with a reason: raise the priority and/or the severity."""
    found = await store.lock(uow.session, caller, incident_id)
    catalog = await catalogs.status_catalog(uow.session, found.tenant_id)
    levels = {
        slug: r["level"]
        for slug, r in (await catalogs.active_slugs(uow.session, "priorities", found.tenant_id)).items()
    }
    who = person(caller)
    outcome, escalation = rules.escalate(
        found,
        who,
        reason=reason,
        priority=priority,
        severity=severity,
        catalog=catalog,
        levels=levels,
        at=uow.now,
    )
    await apply(uow, outcome, who)
    await escalation_records.record_escalation(uow.session, escalation)
    return escalation
