"""Clients and their subscriptions."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.problems import Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import Role
from contracts.envelope import new_id
from contracts.events import (
    ClientOnboarded,
    ClientUpdated,
    SubscriptionChanged,
)
from directory.adapters import clients as repo
from directory.adapters import users as users_repo
from directory.domain import clients as client_rules
from directory.handlers.shared import ensure_unique, save_changes, state

# --------------------------------------------------------------------------- clients


CLIENT_UNIQUE = ("registration_number", "contact_email")


async def _check_account_manager(uow: UnitOfWork, tenant_id: UUID, user_id: UUID | None) -> None:
    if user_id is None:
        return
    user = await users_repo.ROWS.get(uow.session, tenant_id, user_id, field="account_manager_id")
    if user.role != Role.ACCOUNT_MANAGER.value:
        raise Unprocessable(
            "account_manager_id: the user is not an account manager", field="account_manager_id"
        )


async def onboard_client(uow: UnitOfWork, caller: Principal, values: dict[str, Any]) -> Any:
    """003 Client Onboarding."""
    values = {**values, "contact_email": values["contact_email"].lower()}
    await ensure_unique(uow, repo.ROWS, caller.tenant_id, {k: values[k] for k in CLIENT_UNIQUE})
    await _check_account_manager(uow, caller.tenant_id, values.get("account_manager_id"))
    row = await repo.ROWS.add(uow.session, {"id": new_id(), "tenant_id": caller.tenant_id, **values})
    uow.emit(ClientOnboarded(**state(row, "client_id")), tenant_id=caller.tenant_id, actor=caller.actor)
    return row


async def update_client(uow: UnitOfWork, caller: Principal, client_id: UUID, changes: dict[str, Any]) -> Any:
    """003 Client Information Update."""
    current = await repo.ROWS.get(uow.session, caller.tenant_id, client_id)
    client_rules.check_may_update(caller.role, caller.user_id, current.account_manager_id)
    if "contact_email" in changes:
        changes["contact_email"] = changes["contact_email"].lower()
    await ensure_unique(
        uow,
        repo.ROWS,
        caller.tenant_id,
        {k: changes[k] for k in CLIENT_UNIQUE if k in changes},
        exclude=client_id,
    )
    if "account_manager_id" in changes:
        await _check_account_manager(uow, caller.tenant_id, changes["account_manager_id"])

    async def save(changes: dict[str, Any]) -> Any:
        return await repo.ROWS.change(uow.session, client_id, {**changes, "updated_at": uow.now})

    return await save_changes(uow, caller, current, changes, save, ClientUpdated, "client_id")


async def set_subscription(
    uow: UnitOfWork, caller: Principal, client_id: UUID, values: dict[str, Any]
) -> Any:
    """Set or replace a client's subscription (tier, contractual P1 terms, validity)."""
    await repo.ROWS.get(uow.session, caller.tenant_id, client_id)
    values = {**values, "valid_from": values.get("valid_from") or uow.now.date()}
    if values.get("valid_until") and values["valid_until"] < values["valid_from"]:
        raise Unprocessable("valid_until: must not be before valid_from", field="valid_until")
    row = await repo.set_subscription(uow.session, caller.tenant_id, client_id, values, uow.now)
    uow.emit(SubscriptionChanged(**dict(row._mapping)), tenant_id=caller.tenant_id, actor=caller.actor)
    return row
