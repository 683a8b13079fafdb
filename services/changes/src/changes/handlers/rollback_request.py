"""Rollback requests: submit against a change that ran, and each step; completing one rolls
its change back (two records, one event each)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.problems import NotFound, Unprocessable
from backbone.uow import UnitOfWork
from changes.adapters import change_request as changes
from changes.adapters import records
from changes.adapters import rollback_request as store
from changes.domain import change_request as change_rules
from changes.domain import rollback_request as rules
from changes.handlers import links
from contracts.enums import RollbackRequestStatus
from contracts.events.change import (
    ChangeRequestRolledBack,
    RollbackRequestApproved,
    RollbackRequestCompleted,
    RollbackRequestCreated,
    RollbackRequestEvent,
    RollbackRequestFailed,
    RollbackRequestRejected,
    RollbackRequestStarted,
)

EVENTS: dict[str, type[RollbackRequestEvent]] = {
    "approve": RollbackRequestApproved,
    "reject": RollbackRequestRejected,
    "start": RollbackRequestStarted,
    "complete": RollbackRequestCompleted,
    "fail": RollbackRequestFailed,
}


async def _change(uow: UnitOfWork, caller: Principal, change_id: UUID) -> dict[str, Any]:
    try:
        return await records.load(
            uow.session, changes.table, change_id, caller.tenant_id, what="change request", for_update=True
        )
    except NotFound as exc:  # the change is a body field here: a missing link is 422, not 404
        raise Unprocessable(f"change_id: no change request {change_id}", field="change_id") from exc


async def submit(uow: UnitOfWork, caller: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    change = await _change(uow, caller, fields["change_id"])
    rules.check_change(change["status"])
    scope = {"client_id": change["client_id"], "vendor_id": change["vendor_id"]}
    if fields.get("incident_id") is not None:
        scope = await links.scope_of_incident(uow, caller, fields["incident_id"])
    values = links.new_values(uow, caller, RollbackRequestStatus.REQUESTED, "requested_by_id", fields, scope)
    row = await records.add(uow.session, store.table, values)
    links.emit(uow, caller, RollbackRequestCreated, row)
    return row


async def take_step(uow: UnitOfWork, caller: Principal, rollback_id: UUID, action: str) -> dict[str, Any]:
    rollback = await records.load(
        uow.session, store.table, rollback_id, caller.tenant_id, what="rollback request", for_update=True
    )
    change = await records.load(
        uow.session,
        changes.table,
        rollback["change_id"],
        caller.tenant_id,
        what="change request",
        for_update=True,
    )
    changed = rules.take_step(rollback, action, caller.role, caller.user_id, change["status"], uow.now)
    row = await records.change(uow.session, store.table, rollback_id, changed, uow.now)
    links.emit(uow, caller, EVENTS[action], row)
    if action == "complete":
        reverted = await records.change(
            uow.session, changes.table, change["id"], change_rules.rolled_back(change), uow.now
        )
        links.emit(uow, caller, ChangeRequestRolledBack, reverted)
    return row
