"""Workarounds: implement (record) and update (supersede, deactivate)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.problems import NotFound, Unprocessable
from backbone.uow import UnitOfWork
from changes.adapters import records
from changes.adapters import workaround as store
from changes.domain import workaround as rules
from changes.handlers import links
from contracts.enums import WorkaroundStatus
from contracts.events.change import WorkaroundImplemented, WorkaroundUpdated


async def implement(uow: UnitOfWork, caller: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    scope = await links.scope_of_incident(uow, caller, fields["incident_id"])
    values = links.new_values(
        uow, caller, fields.get("status", WorkaroundStatus.ACTIVE), "implemented_by_id", fields, scope
    )
    row = await records.add(uow.session, store.table, values)
    links.emit(uow, caller, WorkaroundImplemented, row)
    return row


async def update(
    uow: UnitOfWork, caller: Principal, workaround_id: UUID, fields: dict[str, Any]
) -> dict[str, Any]:
    current = await records.load(
        uow.session, store.table, workaround_id, caller.tenant_id, what="workaround", for_update=True
    )
    if (better := fields.get("superseded_by_id")) is not None:
        try:
            await records.load(uow.session, store.table, better, caller.tenant_id, what="workaround")
        except NotFound as exc:
            raise Unprocessable(
                f"superseded_by_id: no workaround {better}", field="superseded_by_id"
            ) from exc
    changed = rules.patch(current, fields)
    row = await records.change(uow.session, store.table, workaround_id, changed, uow.now)
    links.emit(uow, caller, WorkaroundUpdated, row, changed=sorted(changed))
    return row
