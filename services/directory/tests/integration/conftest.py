"""Directory served in-process for each test module, and a fresh tenant's admin per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from backbone.testing import Stack, TenantAdmin, new_tenant, serving, sign_in
from directory.config import Settings
from directory.main import create


@pytest.fixture(scope="module")
async def directory(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create(stack.settings(Settings))) as client:
        yield client


@pytest.fixture
async def admin(directory: httpx.AsyncClient, operator_key: str) -> TenantAdmin:
    return await new_tenant(directory, operator_key)


@pytest.fixture
async def auth(directory: httpx.AsyncClient, admin: TenantAdmin) -> dict[str, str]:
    return await sign_in(directory, admin.api_key)
