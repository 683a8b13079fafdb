"""Components."""

from __future__ import annotations

from typing import Any

from backbone.auth import Principal
from backbone.problems import Conflict
from backbone.uow import UnitOfWork
from contracts.envelope import new_id
from contracts.events import (
    ComponentRegistered,
)
from directory.adapters import clients as clients_repo
from directory.adapters import components as repo
from directory.adapters import vendors as vendors_repo
from directory.handlers.shared import state

# --------------------------------------------------------------------------- components


async def register_component(uow: UnitOfWork, caller: Principal, values: dict[str, Any]) -> Any:
    """An infrastructure component of a client, optionally run by a vendor."""
    await clients_repo.ROWS.get(uow.session, caller.tenant_id, values["client_id"], field="client_id")
    if values.get("vendor_id") is not None:
        await vendors_repo.ROWS.get(uow.session, caller.tenant_id, values["vendor_id"], field="vendor_id")
    if await repo.name_taken(uow.session, values["client_id"], values["name"]):
        raise Conflict(f"name: the client already has a component {values['name']!r}", field="name")
    row = await repo.ROWS.add(uow.session, {"id": new_id(), "tenant_id": caller.tenant_id, **values})
    uow.emit(
        ComponentRegistered(**state(row, "component_id")), tenant_id=caller.tenant_id, actor=caller.actor
    )
    return row
