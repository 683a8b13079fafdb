"""The SQL of tenants."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from directory.adapters.orm import tenants


async def slug_taken(session: AsyncSession, slug: str) -> bool:
    return bool(await session.scalar(select(tenants.c.id).where(tenants.c.slug == slug)))


async def add(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(insert(tenants).values(**values))


async def lock_and_count(session: AsyncSession) -> int:
    """How many tenants there are, the table locked against another bootstrap until the end of
    the transaction (the second waits here, then sees a tenant)."""
    await session.execute(text("LOCK TABLE tenants IN SHARE ROW EXCLUSIVE MODE"))
    return await session.scalar(select(func.count()).select_from(tenants)) or 0
