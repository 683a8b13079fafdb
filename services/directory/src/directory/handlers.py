"""Directory commands: one function per procedure of 003 and DESIGN §6. Each checks its halt
conditions, writes through the caller's unit of work (which the caller commits) and emits the
event audit and the other services' replicas need."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from backbone.auth import Principal, TokenSigner
from backbone.problems import Conflict, Forbidden, NotFound, Unauthorized, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import IntegrationKind, Role, UserStatus
from contracts.envelope import SYSTEM, Actor, new_id
from contracts.events import (
    ApiKeyIssued,
    ClientOnboarded,
    ClientUpdated,
    ComponentRegistered,
    IntegrationCreated,
    LabelRule,
    SubscriptionChanged,
    TenantCreated,
    UserRegistered,
    UserUpdated,
    VendorRegistered,
)
from contracts.permissions import Permission
from directory.adapters.orm import (
    api_keys,
    clients,
    components,
    integrations,
    subscriptions,
    tenants,
    users,
    vendors,
)
from directory.domain import api_keys as keys
from directory.domain import clients as client_rules
from directory.domain import integrations as integration_rules
from directory.domain import users as user_rules
from directory.domain.tenants import check_slug

# --------------------------------------------------------------------------- shared checks


async def _ensure_unique(
    uow: UnitOfWork, table: Table, tenant_id: UUID, values: dict[str, Any], exclude: UUID | None = None
) -> None:
    """003 halts on a duplicate; name the field. (The database's unique constraints stay the
    backstop for two requests racing; problems.py answers those with 409 too.)"""
    for field, value in values.items():
        query = select(table.c.id).where(table.c.tenant_id == tenant_id, table.c[field] == value)
        if exclude is not None:
            query = query.where(table.c.id != exclude)
        if await uow.session.scalar(query.limit(1)) is not None:
            raise Conflict(f"{field}: {value!r} is already registered", field=field)


async def _row(uow: UnitOfWork, table: Table, tenant_id: UUID, id_: UUID, what: str, field: str = "") -> Any:
    """The tenant's row with this id; another tenant's id is as unknown as a made-up one."""
    row = (
        await uow.session.execute(select(table).where(table.c.id == id_, table.c.tenant_id == tenant_id))
    ).one_or_none()
    if row is None:
        raise NotFound(f"no {what} {id_}", field=field or None)
    return row


def _state(row: Any, id_field: str) -> dict[str, Any]:
    """A row as an event's payload: its columns, with the id under the event's name for it."""
    data = dict(row._mapping)
    return {**data, id_field: data["id"]}


def _now() -> datetime:
    return datetime.now(UTC)


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
    key = await _insert_key(uow, tenant_id, user_id)
    uow.emit(TenantCreated(tenant_id=tenant_id, slug=slug, name=name), tenant_id=tenant_id, actor=actor)
    uow.emit(UserRegistered(**_state(admin, "user_id")), tenant_id=tenant_id, actor=actor)
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


# --------------------------------------------------------------------------- tokens and keys


async def _insert_key(uow: UnitOfWork, tenant_id: UUID, user_id: UUID) -> tuple[UUID, str, str]:
    key, key_id = keys.issue(), new_id()
    await uow.session.execute(
        insert(api_keys).values(
            id=key_id, tenant_id=tenant_id, user_id=user_id, prefix=key.prefix, hash=key.hash
        )
    )
    return key_id, key.prefix, key.secret


@dataclass(frozen=True)
class IssuedApiKey:
    id: UUID
    prefix: str
    api_key: str


async def issue_api_key(uow: UnitOfWork, caller: Principal, user_id: UUID) -> IssuedApiKey:
    """A new API key for a user: for anyone by those who manage keys, else only for oneself."""
    if user_id != caller.user_id:
        caller.require(Permission.API_KEYS_MANAGE)
    user = await _row(uow, users, caller.tenant_id, user_id, "user")
    if user.status != UserStatus.ACTIVE.value:
        raise Conflict(f"the user is {user.status}; activate them first", field="status")
    key_id, prefix, secret = await _insert_key(uow, caller.tenant_id, user_id)
    uow.emit(
        ApiKeyIssued(key_id=key_id, tenant_id=caller.tenant_id, user_id=user_id, prefix=prefix),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )
    return IssuedApiKey(key_id, prefix, secret)


async def exchange_api_key(uow: UnitOfWork, signer: TokenSigner, api_key: str) -> str:
    """POST /v1/auth/token: an active user's API key for a short-lived signed token."""
    refused = Unauthorized("the API key is not valid")
    prefix = keys.prefix_of(api_key)
    if prefix is None:
        raise refused
    row = (
        await uow.session.execute(
            select(api_keys.c.hash, users)
            .join(users, users.c.id == api_keys.c.user_id)
            .where(api_keys.c.prefix == prefix, api_keys.c.revoked_at.is_(None))
        )
    ).one_or_none()
    if row is None or not hmac.compare_digest(row.hash, keys.digest(api_key)):
        raise refused
    if row.status != UserStatus.ACTIVE.value:
        raise Unauthorized(f"the user is {row.status}")
    claims: dict[str, Any] = {
        "sub": str(row.id),
        "tid": str(row.tenant_id),
        "role": row.role,
        "cid": str(row.client_id) if row.client_id else None,
        "vid": str(row.vendor_id) if row.vendor_id else None,
    }
    if row.is_platform_operator:
        claims["op"] = True
    return signer.issue(claims)


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
    user = await _row(uow, users, tenant_id, user_id, "user", field="account_manager_id")
    if user.role != Role.ACCOUNT_MANAGER.value:
        raise Unprocessable(
            "account_manager_id: the user is not an account manager", field="account_manager_id"
        )


async def onboard_client(uow: UnitOfWork, caller: Principal, values: dict[str, Any]) -> Any:
    """003 Client Onboarding."""
    values = {**values, "contact_email": values["contact_email"].lower()}
    await _ensure_unique(uow, clients, caller.tenant_id, {k: values[k] for k in CLIENT_UNIQUE})
    await _check_account_manager(uow, caller.tenant_id, values.get("account_manager_id"))
    row = (
        await uow.session.execute(
            insert(clients).values(id=new_id(), tenant_id=caller.tenant_id, **values).returning(clients)
        )
    ).one()
    uow.emit(ClientOnboarded(**_state(row, "client_id")), tenant_id=caller.tenant_id, actor=caller.actor)
    return row


async def update_client(uow: UnitOfWork, caller: Principal, client_id: UUID, changes: dict[str, Any]) -> Any:
    """003 Client Information Update."""
    current = await _row(uow, clients, caller.tenant_id, client_id, "client")
    client_rules.check_may_update(caller.role, caller.user_id, current.account_manager_id)
    if "contact_email" in changes:
        changes["contact_email"] = changes["contact_email"].lower()
    await _ensure_unique(
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
            .values(**changes, updated_at=_now())
            .returning(clients)
        )
    ).one()
    uow.emit(
        ClientUpdated(**_state(row, "client_id"), changed=sorted(changes)),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )
    return row


async def set_subscription(
    uow: UnitOfWork, caller: Principal, client_id: UUID, values: dict[str, Any]
) -> Any:
    """Set or replace a client's subscription (tier, contractual P1 terms, validity)."""
    await _row(uow, clients, caller.tenant_id, client_id, "client")
    values = {**values, "valid_from": values.get("valid_from") or date.today()}
    if values.get("valid_until") and values["valid_until"] < values["valid_from"]:
        raise Unprocessable("valid_until: must not be before valid_from", field="valid_until")
    stmt = pg_insert(subscriptions).values(client_id=client_id, tenant_id=caller.tenant_id, **values)
    row = (
        await uow.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["client_id"], set_={**values, "updated_at": _now()}
            ).returning(subscriptions)
        )
    ).one()
    uow.emit(SubscriptionChanged(**dict(row._mapping)), tenant_id=caller.tenant_id, actor=caller.actor)
    return row


# --------------------------------------------------------------------------- vendors


async def register_vendor(uow: UnitOfWork, caller: Principal, values: dict[str, Any]) -> Any:
    """003 Register Vendor Information: name, email and phone each unique."""
    values = {**values, "vendor_email": values["vendor_email"].lower()}
    await _ensure_unique(
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
    uow.emit(VendorRegistered(**_state(row, "vendor_id")), tenant_id=caller.tenant_id, actor=caller.actor)
    return row


# --------------------------------------------------------------------------- users


async def _check_user_links(uow: UnitOfWork, tenant_id: UUID, values: dict[str, Any]) -> None:
    """003 halt: "specified client/vendor does not exist"."""
    if values.get("client_id") is not None:
        await _row(uow, clients, tenant_id, values["client_id"], "client", field="client_id")
    if values.get("vendor_id") is not None:
        await _row(uow, vendors, tenant_id, values["vendor_id"], "vendor", field="vendor_id")


async def register_user(uow: UnitOfWork, caller: Principal, values: dict[str, Any]) -> Any:
    """003 Register User Account."""
    role = Role(values["role"])
    user_rules.check_may_grant(caller.role, role)
    user_rules.check_links(role, values.get("client_id"), values.get("vendor_id"))
    values = {**values, "email": values["email"].lower()}
    await _ensure_unique(uow, users, caller.tenant_id, {"email": values["email"]})
    await _check_user_links(uow, caller.tenant_id, values)
    row = (
        await uow.session.execute(
            insert(users).values(id=new_id(), tenant_id=caller.tenant_id, **values).returning(users)
        )
    ).one()
    uow.emit(UserRegistered(**_state(row, "user_id")), tenant_id=caller.tenant_id, actor=caller.actor)
    return row


async def update_user(uow: UnitOfWork, caller: Principal, user_id: UUID, changes: dict[str, Any]) -> Any:
    """003 Update User Details (role assignments, status, details)."""
    current = await _row(uow, users, caller.tenant_id, user_id, "user")
    role = Role(changes.get("role", current.role))
    if "role" in changes or current.role == Role.SYSTEM_ADMINISTRATOR.value:
        user_rules.check_may_grant(caller.role, role)
    merged = {k: changes.get(k, getattr(current, k)) for k in ("client_id", "vendor_id")}
    user_rules.check_links(role, merged["client_id"], merged["vendor_id"])
    if "email" in changes:
        changes["email"] = changes["email"].lower()
        await _ensure_unique(uow, users, caller.tenant_id, {"email": changes["email"]}, exclude=user_id)
    await _check_user_links(uow, caller.tenant_id, changes)
    if not changes:
        return current
    row = (
        await uow.session.execute(
            update(users).where(users.c.id == user_id).values(**changes, updated_at=_now()).returning(users)
        )
    ).one()
    uow.emit(
        UserUpdated(**_state(row, "user_id"), changed=sorted(changes)),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )
    return row


# --------------------------------------------------------------------------- components


async def register_component(uow: UnitOfWork, caller: Principal, values: dict[str, Any]) -> Any:
    """An infrastructure component of a client, optionally run by a vendor."""
    await _row(uow, clients, caller.tenant_id, values["client_id"], "client", field="client_id")
    if values.get("vendor_id") is not None:
        await _row(uow, vendors, caller.tenant_id, values["vendor_id"], "vendor", field="vendor_id")
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
        ComponentRegistered(**_state(row, "component_id")), tenant_id=caller.tenant_id, actor=caller.actor
    )
    return row


# --------------------------------------------------------------------------- integrations


async def create_integration(uow: UnitOfWork, caller: Principal, values: dict[str, Any]) -> tuple[Any, str]:
    """A monitoring integration and its token (shown once; intake gets only its hash)."""
    rules = [LabelRule.model_validate(r) for r in values.get("impact_rules", [])]
    integration_rules.check_rules(rules, values.get("default_impact", {}))
    await _ensure_unique(uow, integrations, caller.tenant_id, {"name": values["name"]})
    if values.get("client_id") is not None:
        await _row(uow, clients, caller.tenant_id, values["client_id"], "client", field="client_id")
    if values.get("default_component_id") is not None:
        component = await _row(
            uow,
            components,
            caller.tenant_id,
            values["default_component_id"],
            "component",
            field="default_component_id",
        )
        if values.get("client_id") is None:
            values = {**values, "client_id": component.client_id}
        elif component.client_id != values["client_id"]:
            raise Unprocessable(
                "default_component_id: the component belongs to another client", field="default_component_id"
            )
    token = integration_rules.issue_token(IntegrationKind(values["kind"]))
    row = (
        await uow.session.execute(
            insert(integrations)
            .values(
                id=new_id(),
                tenant_id=caller.tenant_id,
                **values,
                token_prefix=token.prefix,
                token_sha256=token.sha256,
            )
            .returning(integrations)
        )
    ).one()
    uow.emit(
        IntegrationCreated(**_state(row, "integration_id")), tenant_id=caller.tenant_id, actor=caller.actor
    )
    return row, token.token
