"""Reads of a tenant's catalogs: statuses, categories and priorities."""

from __future__ import annotations

from typing import Any

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from triage.adapters import catalog as catalogs


async def catalog_items(uow: UnitOfWork, caller: Principal, catalog: str) -> list[dict[str, Any]]:
    return await catalogs.items(uow.session, catalog, caller.tenant_id)
