"""Directory commands: one function per procedure of 003 and DESIGN §6. Each checks its halt
conditions, writes through the caller's unit of work (which the caller commits) and emits the
event audit and the other services' replicas need. API keys and integrations are in their own
modules (handlers/api_keys.py, handlers/integrations.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from backbone.auth import Principal
from backbone.problems import Conflict, Forbidden, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import Role
from contracts.envelope import SYSTEM, Actor, new_id
from contracts.events import (
    ApiKeyIssued,
    ClientOnboarded,
    ClientUpdated,
    ComponentRegistered,
    SubscriptionChanged,
    TenantCreated,
    UserRegistered,
    UserUpdated,
    VendorRegistered,
)
from directory.adapters.orm import (
    clients,
    components,
    subscriptions,
    tenants,
    users,
    vendors,
)
from directory.domain import clients as client_rules
from directory.domain import users as user_rules
from directory.domain.tenants import check_slug
from directory.handlers.api_keys import insert_key, revoke_keys_beyond_issuers
from directory.handlers.shared import ensure_unique, now, row_of, state

# --------------------------------------------------------------------------- tenants


@dataclass(frozen=True)
class TenantWithAdmin:
    tenant_id: UUID
    tenant_slug: str
    user_id: UUID
    api_key: str


async def _create_tenant(
    uow: UnitOfWork, *, slug: str, name: str, admin_email: str, operator: bool, actor: Actor
) -> TenantWithAdmin:
    check_slug(slug)
    if await uow.session.scalar(select(tenants.c.id).where(tenants.c.slug == slug)):
        raise Conflict(f"slug: tenant {slug!r} exists", field="slug")
    tenant_id, user_id = new_id(), new_id()
    await uow.session.execute(insert(tenants).values(id=tenant_id, slug=slug, name=name))
    admin = (
        await uow.session.execute(
            insert(users)
            .values(
                id=user_id,
                tenant_id=tenant_id,
                email=admin_email.strip().lower(),
                name="Tenant administrator",
                role=Role.SYSTEM_ADMINISTRATOR.value,
                is_platform_operator=operator,
            )
            .returning(users)
        )
    ).one()
    key = await insert_key(uow, tenant_id, user_id, issued_by=actor.user_id)
    uow.emit(TenantCreated(tenant_id=tenant_id, slug=slug, name=name), tenant_id=tenant_id, actor=actor)
    uow.emit(UserRegistered(**state(admin, "user_id")), tenant_id=tenant_id, actor=actor)
    uow.emit(
        ApiKeyIssued(key_id=key[0], tenant_id=tenant_id, user_id=user_id, prefix=key[1]),
        tenant_id=tenant_id,
        actor=actor,
    )
    return TenantWithAdmin(tenant_id, slug, user_id, key[2])


async def bootstrap(uow: UnitOfWork, *, slug: str, name: str, admin_email: str) -> TenantWithAdmin:
    """Create the first tenant and its admin (a platform operator); only on an empty system."""
    # Two bootstraps at once: the second waits here, then sees a tenant and refuses.
    await uow.session.execute(text("LOCK TABLE tenants IN SHARE ROW EXCLUSIVE MODE"))
    if await uow.session.scalar(select(func.count()).select_from(tenants)):
        raise Conflict("the system is already bootstrapped")
    return await _create_tenant(
        uow, slug=slug, name=name, admin_email=admin_email, operator=True, actor=SYSTEM
    )


async def create_tenant(
    uow: UnitOfWork, caller: Principal, *, slug: str, name: str, admin_email: str
) -> TenantWithAdmin:
    """DESIGN §6: platform operators create further tenants, each with its own administrator."""
    if not caller.is_platform_operator:
        raise Forbidden("only a platform operator may create tenants")
    return await _create_tenant(
        uow, slug=slug, name=name, admin_email=admin_email, operator=False, actor=caller.actor
    )


async def principal_row(session: Any, user_id: UUID) -> Any:
    """Directory's own answer to "is this user still active, with which role": its table."""
    return (
        await session.execute(
            select(
                users.c.tenant_id, users.c.role, users.c.status, users.c.client_id, users.c.vendor_id
            ).where(users.c.id == user_id)
        )
    ).one_or_none()


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


# --------------------------------------------------------------------------- users


async def _check_user_links(uow: UnitOfWork, tenant_id: UUID, values: dict[str, Any]) -> None:
    """003 halt: "specified client/vendor does not exist"."""
    if values.get("client_id") is not None:
        await row_of(uow, clients, tenant_id, values["client_id"], "client", field="client_id")
    if values.get("vendor_id") is not None:
        await row_of(uow, vendors, tenant_id, values["vendor_id"], "vendor", field="vendor_id")


async def register_user(uow: UnitOfWork, caller: Principal, values: dict[str, Any]) -> Any:
    """003 Register User Account."""
    role = Role(values["role"])
    user_rules.check_may_grant(caller.role, role)
    user_rules.check_links(role, values.get("client_id"), values.get("vendor_id"))
    values = {**values, "email": values["email"].lower()}
    await ensure_unique(uow, users, caller.tenant_id, {"email": values["email"]})
    await _check_user_links(uow, caller.tenant_id, values)
    row = (
        await uow.session.execute(
            insert(users).values(id=new_id(), tenant_id=caller.tenant_id, **values).returning(users)
        )
    ).one()
    uow.emit(UserRegistered(**state(row, "user_id")), tenant_id=caller.tenant_id, actor=caller.actor)
    return row


async def update_user(uow: UnitOfWork, caller: Principal, user_id: UUID, changes: dict[str, Any]) -> Any:
    """003 Update User Details (role assignments, status, details)."""
    current = await row_of(uow, users, caller.tenant_id, user_id, "user", for_update=True)
    role = Role(changes.get("role", current.role))
    # A caller changes only users whose role they could grant, and only to such a role: else
    # an incident manager could demote or deactivate the administrators.
    user_rules.check_may_grant(caller.role, Role(current.role))
    user_rules.check_may_grant(caller.role, role)
    merged = {k: changes.get(k, getattr(current, k)) for k in ("client_id", "vendor_id")}
    user_rules.check_links(role, merged["client_id"], merged["vendor_id"])
    if "email" in changes:
        changes["email"] = changes["email"].lower()
        await ensure_unique(uow, users, caller.tenant_id, {"email": changes["email"]}, exclude=user_id)
    await _check_user_links(uow, caller.tenant_id, changes)
    if not changes:
        return current
    row = (
        await uow.session.execute(
            update(users).where(users.c.id == user_id).values(**changes, updated_at=now()).returning(users)
        )
    ).one()
    uow.emit(
        UserUpdated(**state(row, "user_id"), changed=sorted(changes)),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )
    if row.role != current.role:
        await revoke_keys_beyond_issuers(uow, row, caller.actor)
    return row


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
