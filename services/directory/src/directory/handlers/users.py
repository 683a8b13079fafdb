"""Users: register and change (role, status, links to a client or vendor)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from contracts.enums import Role
from contracts.envelope import new_id
from contracts.events import (
    UserRegistered,
    UserUpdated,
)
from directory.adapters import clients as clients_repo
from directory.adapters import users as repo
from directory.adapters import vendors as vendors_repo
from directory.domain import users as user_rules
from directory.handlers.api_keys import revoke_keys_beyond_issuers
from directory.handlers.shared import ensure_unique, save_changes, state

# --------------------------------------------------------------------------- users


async def _check_user_links(uow: UnitOfWork, tenant_id: UUID, values: dict[str, Any]) -> None:
    """003 halt: "specified client/vendor does not exist"."""
    if values.get("client_id") is not None:
        await clients_repo.ROWS.get(uow.session, tenant_id, values["client_id"], field="client_id")
    if values.get("vendor_id") is not None:
        await vendors_repo.ROWS.get(uow.session, tenant_id, values["vendor_id"], field="vendor_id")


async def register_user(uow: UnitOfWork, caller: Principal, values: dict[str, Any]) -> Any:
    """003 Register User Account."""
    role = Role(values["role"])
    user_rules.check_may_grant(caller.role, role)
    user_rules.check_links(role, values.get("client_id"), values.get("vendor_id"))
    values = {**values, "email": values["email"].lower()}
    await ensure_unique(uow, repo.ROWS, caller.tenant_id, {"email": values["email"]})
    await _check_user_links(uow, caller.tenant_id, values)
    row = await repo.ROWS.add(uow.session, {"id": new_id(), "tenant_id": caller.tenant_id, **values})
    uow.emit(UserRegistered(**state(row, "user_id")), tenant_id=caller.tenant_id, actor=caller.actor)
    return row


async def update_user(uow: UnitOfWork, caller: Principal, user_id: UUID, changes: dict[str, Any]) -> Any:
    """003 Update User Details (role assignments, status, details)."""
    current = await repo.ROWS.get(uow.session, caller.tenant_id, user_id, for_update=True)
    role = Role(changes.get("role", current.role))
    # A caller changes only users whose role they could grant, and only to such a role: else
    # an incident manager could demote or deactivate the administrators.
    user_rules.check_may_grant(caller.role, Role(current.role))
    user_rules.check_may_grant(caller.role, role)
    merged = {k: changes.get(k, getattr(current, k)) for k in ("client_id", "vendor_id")}
    user_rules.check_links(role, merged["client_id"], merged["vendor_id"])
    if "email" in changes:
        changes["email"] = changes["email"].lower()
        await ensure_unique(uow, repo.ROWS, caller.tenant_id, {"email": changes["email"]}, exclude=user_id)
    await _check_user_links(uow, caller.tenant_id, changes)

    async def save(changes: dict[str, Any]) -> Any:
        return await repo.ROWS.change(uow.session, user_id, {**changes, "updated_at": uow.now})

    row = await save_changes(uow, caller, current, changes, save, UserUpdated, "user_id")
    if row.role != current.role:
        await revoke_keys_beyond_issuers(uow, row, caller.actor)
    return row
