"""Vendors."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from contracts.envelope import new_id
from contracts.events import (
    VendorRegistered,
)
from directory.adapters.orm import (
    vendors,
)
from directory.handlers.shared import ensure_unique, state

# --------------------------------------------------------------------------- vendors


async def register_vendor(uow: UnitOfWork, caller: Principal, values: dict[str, Any]) -> Any:
    """003 Register Vendor Information: name, email and phone each unique."""
    values = {**values, "vendor_email": values["vendor_email"].lower()}
    await ensure_unique(
        uow,
        vendors,
        caller.tenant_id,
        {k: values[k] for k in ("vendor_name", "vendor_email", "vendor_phone")},
    )
    row = (
        await uow.session.execute(
            insert(vendors).values(id=new_id(), tenant_id=caller.tenant_id, **values).returning(vendors)
        )
    ).one()
    uow.emit(VendorRegistered(**state(row, "vendor_id")), tenant_id=caller.tenant_id, actor=caller.actor)
    return row
