"""Root fixtures shared by every test tree.

Infrastructure is chosen in this order (docs/architecture.md "Running locally and testing"):
environment variables (DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS) → testcontainers when a Docker
engine answers → the project's own scripts in deploy/local/. Each session gets its own database
and its own topic prefix, so a test run never sees another's rows or messages, even on a broker
`make up` is also using.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from backbone.db import Database
from backbone.testing import Infra, Stack, discover_infra, scratch_stack, unique
from backbone.uow import UnitOfWork


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    with contextlib.ExitStack() as stack:
        yield discover_infra(stack)


@pytest.fixture(scope="session")
async def stack(infra: Infra) -> AsyncIterator[Stack]:
    async with scratch_stack(infra.database_url, infra.kafka_bootstrap_servers) as s:
        yield s


@pytest.fixture(scope="session")
def kafka_bootstrap(infra: Infra) -> str:
    return infra.kafka_bootstrap_servers


@pytest.fixture(scope="session")
async def operator_key(stack: Stack) -> str:
    """The session's bootstrap: the first tenant's platform operator, whose API key creates a
    fresh tenant for each test that needs one (backbone.testing.new_tenant)."""
    from directory.handlers import tenants as handlers

    db = Database.connect(stack.database_url, "directory", pool_size=1)
    try:
        async with UnitOfWork(db.sessions, source="directory") as uow:
            created = await handlers.bootstrap(
                uow, slug="operators", name="Platform operators", admin_email="ops@example.com"
            )
            await uow.commit()
    finally:
        await db.dispose()
    return created.api_key


@pytest.fixture
def integration_token(stack: Stack) -> Callable[[uuid.UUID], Awaitable[str]]:
    """Makes a bearer token intake accepts for a tenant: an alertmanager integration written
    straight into intake's replica, as directory's integration.created.v1 would leave it."""
    from sqlalchemy import insert

    from contracts.events import token_sha256
    from intake.adapters.orm import integrations

    async def make(tenant_id: uuid.UUID) -> str:
        token = unique("iit_test_")
        db = Database.connect(stack.database_url, "intake", pool_size=1)
        try:
            async with db.sessions() as s, s.begin():
                await s.execute(
                    insert(integrations).values(
                        id=uuid.uuid4(),
                        tenant_id=tenant_id,
                        kind="alertmanager",
                        name=token,
                        token_sha256=token_sha256(token),
                    )
                )
        finally:
            await db.dispose()
        return token

    return make


@pytest.fixture
async def intake_token(integration_token: Callable[[uuid.UUID], Awaitable[str]]) -> str:
    """A bearer token intake accepts, of a tenant of its own."""
    return await integration_token(uuid.uuid4())
