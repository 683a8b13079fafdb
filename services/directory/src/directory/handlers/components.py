"""Components."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from backbone.auth import Principal
from backbone.problems import Conflict
from backbone.uow import UnitOfWork
from contracts.envelope import new_id
from contracts.events import (
    ComponentRegistered,
)
from directory.adapters.orm import (
    clients,
    components,
    vendors,
)
from directory.handlers.shared import row_of, state

# --------------------------------------------------------------------------- components


async def register_component(uow: UnitOfWork, caller: Principal, values: dict[str, Any]) -> Any:
    """An infrastructure component of a client, optionally run by a vendor."""
    await row_of(uow, clients, caller.tenant_id, values["client_id"], "client", field="client_id")
    if values.get("vendor_id") is not None:
        await row_of(uow, vendors, caller.tenant_id, values["vendor_id"], "vendor", field="vendor_id")
    taken = await uow.session.scalar(
        select(components.c.id).where(
            components.c.client_id == values["client_id"], components.c.name == values["name"]
        )
    )
    if taken is not None:
        raise Conflict(f"name: the client already has a component {values['name']!r}", field="name")
    row = (
        await uow.session.execute(
            insert(components).values(id=new_id(), tenant_id=caller.tenant_id, **values).returning(components)
        )
    ).one()
    uow.emit(
        ComponentRegistered(**state(row, "component_id")), tenant_id=caller.tenant_id, actor=caller.actor
    )
    return row
