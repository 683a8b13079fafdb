"""The handler tier: directory's handlers against a migrated database of their own, no broker;
a fresh tenant (and its administrator, as the caller) per test."""

from datetime import UTC, datetime

import pytest

from backbone.auth import Principal
from backbone.testing import handler_fixtures
from backbone.uow import UnitOfWork
from contracts.enums import Role
from contracts.envelope import new_id
from directory.handlers import tenants

db, clock, uow = handler_fixtures("directory", datetime(2025, 3, 3, 9, 0, tzinfo=UTC))

OPERATOR = Principal(
    user_id=new_id(), tenant_id=new_id(), role=Role.SYSTEM_ADMINISTRATOR, is_platform_operator=True
)


@pytest.fixture
async def admin(uow: UnitOfWork) -> Principal:
    """A new tenant's administrator, created in the test's unit of work; its events are written
    to the outbox there, so ``uow.emitted`` holds only what the test does."""
    created = await tenants.create_tenant(
        uow, OPERATOR, slug=f"t-{new_id().hex[:12]}", name="Tenant", admin_email="admin@example.com"
    )
    await uow.flush_events()
    return Principal(user_id=created.user_id, tenant_id=created.tenant_id, role=Role.SYSTEM_ADMINISTRATOR)
