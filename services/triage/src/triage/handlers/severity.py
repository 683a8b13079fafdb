"""Severity and priority by hand: an incident manager's override, and manual escalation."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.dialects.postgresql import insert

from backbone.auth import Principal
from backbone.problems import Conflict, Forbidden, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import EscalationTrigger, Role, Severity
from contracts.envelope import new_id
from contracts.events import IncidentEscalated
from triage.adapters import catalogs
from triage.adapters.orm import incident_escalations
from triage.handlers.edits import (
    Edit,
    Who,
    _emit,
    _emit_triaged,
    _locked,
    _now,
    _reclassify,
    _save,
)


async def override_severity(
    uow: UnitOfWork, caller: Principal, incident_id: UUID, severity: Severity | None, reason: str | None
) -> dict[str, Any]:
    """An incident manager sets (or, with None, clears) the severity by hand, with a reason.
    The computed severity and every flag stay as they are and visible."""
    if caller.role is not Role.INCIDENT_MANAGER:
        raise Forbidden("only an incident manager may override the severity")
    row = await _locked(uow, caller, incident_id)
    edit = Edit(row)
    edit.set("severity_override", severity.value if severity else None)
    edit.set("severity_override_reason", reason if severity else None)
    edit.set("severity_overridden_by", caller.user_id if severity else None)
    edit.set("severity_overridden_at", _now() if severity else None)
    _reclassify(edit)
    who = Who.person(caller)
    changes = await _save(uow, edit, who, reason)
    _emit_triaged(uow, edit, changes, who)
    return edit.after


async def escalate(
    uow: UnitOfWork,
    caller: Principal,
    incident_id: UUID,
    reason: str,
    priority: str | None,
    severity: Severity | None,
) -> dict[str, Any]:
    """Manual escalation with a reason: raise the priority and/or the severity (an escalated
    severity is kept as an override; the computed one stays). With neither, the priority goes
    one level up. Only raising is an escalation; lowering is a PATCH or an override."""
    row = await _locked(uow, caller, incident_id)
    catalog = await catalogs.status_catalog(uow.session, row["tenant_id"])
    if catalog.is_finished(row["status"]):
        raise Conflict(f"status: a {row['status']} incident cannot be escalated; reopen it first")
    levels = {
        slug: r["level"]
        for slug, r in (await catalogs.active_slugs(uow.session, "priorities", row["tenant_id"])).items()
    }
    current_level = levels.get(row["priority"] or "", max(levels.values(), default=4) + 1)
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
                f"priority: {priority} is not more urgent than {row['priority']}", field="priority"
            )
    current_severity = Severity(row["severity"])
    if severity is not None and not (severity.rank < current_severity.rank):
        raise Unprocessable(
            f"severity: {severity.value} is not more severe than {current_severity.value}", field="severity"
        )
    edit = Edit(row)
    if severity is not None:
        edit.set("severity_override", severity.value)
        edit.set("severity_override_reason", reason)
        edit.set("severity_overridden_by", caller.user_id)
        edit.set("severity_overridden_at", _now())
        _reclassify(edit)
    if priority is not None:
        edit.set("priority", priority)
    who = Who.person(caller)
    changes = await _save(uow, edit, who, reason)
    now = _now()
    record = {
        "id": new_id(),
        "tenant_id": row["tenant_id"],
        "incident_id": incident_id,
        "trigger": EscalationTrigger.MANUAL.value,
        "cause": "manual",
        "reason": reason,
        "from_priority": row["priority"],
        "to_priority": edit.after["priority"],
        "from_severity": row["severity"],
        "to_severity": edit.after["severity"],
        "escalated_by": caller.user_id,
        "escalated_at": now,
    }
    await uow.session.execute(insert(incident_escalations).values(record))
    _emit_triaged(uow, edit, changes, who)
    _emit(
        uow,
        edit.after,
        IncidentEscalated,
        who,
        escalation_id=record["id"],
        trigger=EscalationTrigger.MANUAL,
        cause="manual",
        reason=reason,
        from_priority=row["priority"],
        to_priority=edit.after["priority"],
        from_severity=current_severity,
        to_severity=Severity(edit.after["severity"]),
        escalated_by=caller.user_id,
        escalated_at=now,
    )
    return record
