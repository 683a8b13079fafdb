"""Tenants: bootstrap the platform's first tenant, and create others. Each command writes
through the caller's unit of work and emits its event."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

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
from directory.adapters import tenants as repo
from directory.adapters import users as users_repo
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
    if await repo.slug_taken(uow.session, slug):
        raise Conflict(f"slug: tenant {slug!r} exists", field="slug")
    tenant_id, user_id = new_id(), new_id()
    await repo.add(uow.session, {"id": tenant_id, "slug": slug, "name": name})
    admin = await users_repo.ROWS.add(
        uow.session,
        {
            "id": user_id,
            "tenant_id": tenant_id,
            "email": admin_email.strip().lower(),
            "name": "Tenant administrator",
            "role": Role.SYSTEM_ADMINISTRATOR.value,
            "is_platform_operator": operator,
        },
    )
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
    if await repo.lock_and_count(uow.session):
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
