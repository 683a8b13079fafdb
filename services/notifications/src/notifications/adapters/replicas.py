"""The replicas notifications keeps of other services' data (docs/architecture.md
"Conventions"): recipients (directory's users), clients and incident headlines, each written
through backbone.replica.upsert (newest per key wins; a row never changes tenant)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backbone import replica
from notifications.adapters.incidents import incidents
from notifications.adapters.orm import clients, recipients


async def upsert_incidents(session: AsyncSession, rows: Iterable[Mapping[str, Any]]) -> None:
    await replica.upsert(session, incidents, rows, touch="updated_at", same=("tenant_id",))


async def upsert_recipients(session: AsyncSession, rows: Iterable[Mapping[str, Any]]) -> None:
    await replica.upsert(session, recipients, rows, key=("user_id",), same=("tenant_id",))


async def upsert_clients(session: AsyncSession, rows: Iterable[Mapping[str, Any]]) -> None:
    await replica.upsert(session, clients, rows, same=("tenant_id",))


async def recipient_email(session: AsyncSession, user_id: UUID) -> str | None:
    email = await session.scalar(select(recipients.c.email).where(recipients.c.user_id == user_id))
    return email or None
