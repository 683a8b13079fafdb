"""Change requests: submit, and each step of the workflow (domain.change_request)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from changes.adapters import change_request as store
from changes.adapters import links as link_rows
from changes.adapters import records
from changes.domain import change_request as rules
from changes.domain.change_request import Window
from changes.handlers import links
from contracts.enums import ChangeRequestStatus
from contracts.envelope import Envelope, new_id
from contracts.events.change import (
    BlackoutWindowsChanged,
    ChangeRequestApproved,
    ChangeRequestCancelled,
    ChangeRequestCompleted,
    ChangeRequestCreated,
    ChangeRequestEvent,
    ChangeRequestFailed,
    ChangeRequestRejected,
    ChangeRequestScheduled,
    ChangeRequestStarted,
)
from contracts.events.intake import ChangeReceived

EVENTS: dict[str, type[ChangeRequestEvent]] = {
    "approve": ChangeRequestApproved,
    "reject": ChangeRequestRejected,
    "schedule": ChangeRequestScheduled,
    "start": ChangeRequestStarted,
    "complete": ChangeRequestCompleted,
    "fail": ChangeRequestFailed,
    "cancel": ChangeRequestCancelled,
}
# docs/changes.md "Related changes": where responders look first.
RELATED_WINDOW = timedelta(hours=72)


async def _conflicts(uow: UnitOfWork, tenant_id: UUID, change: dict[str, Any]) -> list[str]:
    others = [
        Window(r.id, r.planned_start, r.planned_end, "change")
        for r in await store.windows_near(
            uow.session, tenant_id, change.get("component_id"), change.get("id")
        )
    ]
    others += [
        Window(b.id, b.starts_at, b.ends_at, "blackout")
        for b in await store.blackouts(uow.session, tenant_id)
    ]
    return rules.conflicts(change.get("planned_start"), change.get("planned_end"), others)


async def submit(uow: UnitOfWork, caller: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    """Record a change request (status requested), flagged with the windows it overlaps."""
    rules.check_window(fields.get("planned_start"), fields.get("planned_end"))
    scope = await links.scope_of_incident(uow, caller, fields.get("incident_id"))
    if (component_id := fields.get("component_id")) is not None:
        component = await links.component(uow, caller, component_id)
        if fields.get("incident_id") is None:
            scope = {"client_id": component.client_id, "vendor_id": component.vendor_id}
    values = links.new_values(uow, caller, ChangeRequestStatus.REQUESTED, "requested_by_id", fields, scope)
    values["conflicts"] = await _conflicts(uow, caller.tenant_id, values)
    row = await records.add(uow.session, store.table, values)
    links.emit(uow, caller, ChangeRequestCreated, row)
    return row


async def take_step(
    uow: UnitOfWork, caller: Principal, change_id: UUID, action: str, comment: str | None = None
) -> dict[str, Any]:
    change = await records.load(
        uow.session, store.table, change_id, caller.tenant_id, what="change request", for_update=True
    )
    changed = rules.take_step(change, action, caller.role, caller.user_id)
    if action in rules.DECISIONS:
        changed |= {"approved_at": uow.now, "decision_comment": comment}
    if action == "start":
        changed["started_at"] = uow.now
    if action in ("complete", "fail"):
        changed["finished_at"] = uow.now
    row = await records.change(uow.session, store.table, change_id, changed, uow.now)
    links.emit(uow, caller, EVENTS[action], row, comment=comment)
    return row


async def related(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> list[dict[str, Any]]:
    """Changes on the incident's component that started in the 72 hours before it was detected
    (or since, while it is open)."""
    incident = await links.visible_incident(uow, caller, incident_id)
    if incident.component_id is None:
        return []
    detected = incident.detected_at or uow.now
    return await store.implemented_on(
        uow.session,
        caller.tenant_id,
        incident.component_id,
        detected - RELATED_WINDOW,
        max(detected, uow.now),
    )


async def blackouts(uow: UnitOfWork, caller: Principal) -> list[dict[str, Any]]:
    rows = await store.blackouts(uow.session, caller.tenant_id)
    return [{"starts_at": r.starts_at, "ends_at": r.ends_at, "reason": r.reason} for r in rows]


async def set_blackouts(uow: UnitOfWork, caller: Principal, windows: list[dict[str, Any]]) -> dict[str, Any]:
    """Replace the tenant's blackout windows (approvers only: they are change policy)."""
    rules.check_blackouts(caller.role, windows)
    await store.replace_blackouts(uow.session, caller.tenant_id, [{**w, "id": new_id()} for w in windows])
    listed = [{k: str(v) for k, v in w.items()} for w in windows]
    uow.emit(
        BlackoutWindowsChanged(tenant_id=caller.tenant_id, windows=listed),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )
    return {"windows": windows}


async def record_reported(uow: UnitOfWork, batch: list[tuple[Envelope, ChangeReceived]]) -> None:
    """Changes tools reported (intake.change_received.v1): a completed change each, on the
    integration's component and scoped to its client and vendor, where the related changes of
    an incident on that component find it."""
    rows = []
    for envelope, e in batch:
        if envelope.tenantid is None:
            continue
        scope: dict[str, Any] = {"client_id": e.client_id, "vendor_id": None}
        if e.component_id is not None:
            component = await link_rows.component(uow.session, envelope.tenantid, e.component_id)
            if component is not None:
                scope = {"client_id": component.client_id, "vendor_id": component.vendor_id}
        links_given = [(link.href, link.text) for link in e.links]
        rows.append(
            rules.reported(e.change_id, e.summary, e.source, links_given, e.occurred_at)
            | scope
            | {
                "tenant_id": envelope.tenantid,
                "component_id": e.component_id,
                "created_at": uow.now,
                "updated_at": uow.now,
            }
        )
    await store.add_reported(uow.session, rows)
