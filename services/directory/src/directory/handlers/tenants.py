"""Tenants: bootstrap the platform's first tenant, create others, and the principal lookup of
signed-in users. Each command writes through the caller's unit of work and emits its event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import func, insert, select, text

from backbone.auth import Principal
from backbone.problems import Conflict, Forbidden
from backbone.uow import UnitOfWork
from contracts.enums import Role
from contracts.envelope import SYSTEM, Actor, new_id
from contracts.events import (
    ApiKeyIssued,
    TenantCreated,
    UserRegistered,
)
from directory.adapters.orm import (
    tenants,
    users,
)
from directory.domain.tenants import check_slug
from directory.handlers.api_keys import insert_key
from directory.handlers.shared import state

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
    """Platform operators create further tenants, each with its own administrator."""
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
