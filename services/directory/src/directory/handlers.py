"""Directory commands. One function per command; the caller's unit of work commits."""

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import func, insert, select, text

from backbone.problems import Conflict
from backbone.uow import UnitOfWork
from contracts.enums import Role
from contracts.envelope import new_id
from contracts.events import TenantCreated, UserRegistered
from directory.adapters.orm import api_keys, tenants, users
from directory.domain import api_keys as keys
from directory.domain.tenants import check_slug


@dataclass(frozen=True)
class Bootstrapped:
    tenant_id: UUID
    tenant_slug: str
    user_id: UUID
    api_key: str


async def bootstrap(uow: UnitOfWork, *, slug: str, name: str, admin_email: str) -> Bootstrapped:
    """Create the first tenant and its admin (a platform operator); only on an empty system."""
    check_slug(slug)
    # Two bootstraps at once: the second waits here, then sees a tenant and refuses.
    await uow.session.execute(text("LOCK TABLE tenants IN SHARE ROW EXCLUSIVE MODE"))
    if await uow.session.scalar(select(func.count()).select_from(tenants)):
        raise Conflict("the system is already bootstrapped")
    tenant_id, user_id = new_id(), new_id()
    await uow.session.execute(insert(tenants).values(id=tenant_id, slug=slug, name=name))
    await uow.session.execute(
        insert(users).values(
            id=user_id,
            tenant_id=tenant_id,
            email=admin_email,
            name="Platform administrator",
            role=Role.SYSTEM_ADMINISTRATOR.value,
            is_platform_operator=True,
        )
    )
    key = keys.issue()
    await uow.session.execute(
        insert(api_keys).values(
            id=new_id(), tenant_id=tenant_id, user_id=user_id, prefix=key.prefix, hash=key.hash
        )
    )
    uow.emit(TenantCreated(tenant_id=tenant_id, slug=slug, name=name), tenant_id=tenant_id)
    uow.emit(
        UserRegistered(user_id=user_id, tenant_id=tenant_id, role=Role.SYSTEM_ADMINISTRATOR),
        tenant_id=tenant_id,
    )
    return Bootstrapped(tenant_id, slug, user_id, key.secret)
