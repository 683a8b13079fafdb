"""The replicas intake keeps of directory's data, written through backbone.replica.upsert
(docs/architecture.md "Conventions": newest event per key wins; a row never changes tenant)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backbone import replica
from intake.adapters.orm import tenants
from intake.adapters.reports import clients, components


async def upsert_tenants(session: AsyncSession, rows: Iterable[Mapping[str, Any]]) -> None:
    await replica.upsert(session, tenants, rows)


async def upsert_clients(session: AsyncSession, rows: Iterable[Mapping[str, Any]]) -> None:
    await replica.upsert(session, clients, rows, touch="updated_at", same=("tenant_id",))


async def upsert_components(session: AsyncSession, rows: Iterable[Mapping[str, Any]]) -> None:
    await replica.upsert(session, components, rows, same=("tenant_id",))
