"""Clients and their subscriptions."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

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
from directory.adapters.orm import (
    clients,
    subscriptions,
    users,
)
from directory.domain import clients as client_rules
from directory.handlers.shared import ensure_unique, now, row_of, state

# --------------------------------------------------------------------------- clients


CLIENT_UNIQUE = ("registration_number", "contact_email")


async def _check_account_manager(uow: UnitOfWork, tenant_id: UUID, user_id: UUID | None) -> None:
    if user_id is None:
        return
    user = await row_of(uow, users, tenant_id, user_id, "user", field="account_manager_id")
    if user.role != Role.ACCOUNT_MANAGER.value:
        raise Unprocessable(
            "account_manager_id: the user is not an account manager", field="account_manager_id"
        )


async def onboard_client(uow: UnitOfWork, caller: Principal, values: dict[str, Any]) -> Any:
    """003 Client Onboarding."""
    values = {**values, "contact_email": values["contact_email"].lower()}
    await ensure_unique(uow, clients, caller.tenant_id, {k: values[k] for k in CLIENT_UNIQUE})
    await _check_account_manager(uow, caller.tenant_id, values.get("account_manager_id"))
    row = (
        await uow.session.execute(
            insert(clients).values(id=new_id(), tenant_id=caller.tenant_id, **values).returning(clients)
        )
    ).one()
    uow.emit(ClientOnboarded(**state(row, "client_id")), tenant_id=caller.tenant_id, actor=caller.actor)
    return row


async def update_client(uow: UnitOfWork, caller: Principal, client_id: UUID, changes: dict[str, Any]) -> Any:
    """003 Client Information Update."""
    current = await row_of(uow, clients, caller.tenant_id, client_id, "client")
    client_rules.check_may_update(caller.role, caller.user_id, current.account_manager_id)
    if "contact_email" in changes:
        changes["contact_email"] = changes["contact_email"].lower()
    await ensure_unique(
        uow,
        clients,
        caller.tenant_id,
        {k: changes[k] for k in CLIENT_UNIQUE if k in changes},
        exclude=client_id,
    )
    if "account_manager_id" in changes:
        await _check_account_manager(uow, caller.tenant_id, changes["account_manager_id"])
    if not changes:
        return current
    row = (
        await uow.session.execute(
            update(clients)
            .where(clients.c.id == client_id)
            .values(**changes, updated_at=now())
            .returning(clients)
        )
    ).one()
    uow.emit(
        ClientUpdated(**state(row, "client_id"), changed=sorted(changes)),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )
    return row


async def set_subscription(
    uow: UnitOfWork, caller: Principal, client_id: UUID, values: dict[str, Any]
) -> Any:
    """Set or replace a client's subscription (tier, contractual P1 terms, validity)."""
    await row_of(uow, clients, caller.tenant_id, client_id, "client")
    values = {**values, "valid_from": values.get("valid_from") or date.today()}
    if values.get("valid_until") and values["valid_until"] < values["valid_from"]:
        raise Unprocessable("valid_until: must not be before valid_from", field="valid_until")
    stmt = pg_insert(subscriptions).values(client_id=client_id, tenant_id=caller.tenant_id, **values)
    row = (
        await uow.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["client_id"], set_={**values, "updated_at": now()}
            ).returning(subscriptions)
        )
    ).one()
    uow.emit(SubscriptionChanged(**dict(row._mapping)), tenant_id=caller.tenant_id, actor=caller.actor)
    return row
