"""Work orders: create (assigned when given an assignee) and update."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.problems import NotFound, Unprocessable
from backbone.uow import UnitOfWork
from changes.adapters import change_request, problem, records
from changes.adapters import work_order as store
from changes.domain import work_order as rules
from changes.handlers import links
from contracts.events.change import WorkOrderCreated, WorkOrderUpdated


async def _linked(uow: UnitOfWork, caller: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    """Check the links (incident, change, problem, assignee) and take the scope from the first."""
    scope = await links.scope_of_incident(uow, caller, fields.get("incident_id"))
    for field, table, what in (
        ("change_id", change_request.table, "change request"),
        ("problem_id", problem.table, "problem"),
    ):
        if (id_ := fields.get(field)) is None:
            continue
        try:
            row = await records.load(uow.session, table, id_, caller.tenant_id, what=what)
        except NotFound as exc:
            raise Unprocessable(f"{field}: no {what} {id_}", field=field) from exc
        if scope["client_id"] is None and scope["vendor_id"] is None:
            scope = {"client_id": row["client_id"], "vendor_id": row["vendor_id"]}
    if (assignee := fields.get("assigned_to_id")) is not None:
        await links.active_user(uow, caller, assignee, "assigned_to_id")
    return scope


async def create(uow: UnitOfWork, caller: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    scope = await _linked(uow, caller, fields)
    values = links.new_values(
        uow, caller, rules.initial_status(fields.get("assigned_to_id")), "created_by_id", fields, scope
    )
    row = await records.add(uow.session, store.table, values)
    links.emit(uow, caller, WorkOrderCreated, row)
    return row


async def update(
    uow: UnitOfWork, caller: Principal, order_id: UUID, fields: dict[str, Any]
) -> dict[str, Any]:
    order = await records.load(
        uow.session, store.table, order_id, caller.tenant_id, what="work order", for_update=True
    )
    if (assignee := fields.get("assigned_to_id")) is not None:
        await links.active_user(uow, caller, assignee, "assigned_to_id")
    changed = rules.patch(order, fields)
    row = await records.change(uow.session, store.table, order_id, changed, uow.now)
    links.emit(uow, caller, WorkOrderUpdated, row, changed=sorted(changed))
    return row
