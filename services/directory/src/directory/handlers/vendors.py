"""Vendors."""

from __future__ import annotations

from typing import Any

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from contracts.envelope import new_id
from contracts.events import (
    VendorRegistered,
)
from directory.adapters import vendors as repo
from directory.handlers.shared import ensure_unique, state

# --------------------------------------------------------------------------- vendors


async def register_vendor(uow: UnitOfWork, caller: Principal, values: dict[str, Any]) -> Any:
    """003 Register Vendor Information: name, email and phone each unique."""
    values = {**values, "vendor_email": values["vendor_email"].lower()}
    await ensure_unique(
        uow,
        repo.ROWS,
        caller.tenant_id,
        {k: values[k] for k in ("vendor_name", "vendor_email", "vendor_phone")},
    )
    row = await repo.ROWS.add(uow.session, {"id": new_id(), "tenant_id": caller.tenant_id, **values})
    uow.emit(VendorRegistered(**state(row, "vendor_id")), tenant_id=caller.tenant_id, actor=caller.actor)
    return row
