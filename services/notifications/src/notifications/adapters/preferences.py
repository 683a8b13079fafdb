"""SQL of users' notification preferences (no row: everything the rules send)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import Row, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.rows import get_or_404
from notifications.adapters.orm import preferences, recipients


async def user(session: AsyncSession, tenant_id: UUID, user_id: UUID) -> Row[Any]:
    """The tenant's user (from the recipients replica), else 404."""
    return await get_or_404(session, recipients, user_id, tenant_id, what="user", key="user_id")


async def of_user(session: AsyncSession, tenant_id: UUID, user_id: UUID) -> dict[str, Any] | None:
    row = (
        await session.execute(
            select(preferences).where(preferences.c.user_id == user_id, preferences.c.tenant_id == tenant_id)
        )
    ).first()
    return dict(row._mapping) if row is not None else None


async def save(session: AsyncSession, row: Mapping[str, Any]) -> dict[str, Any]:
    """Insert or replace the user's preferences (never another tenant's row)."""
    stmt = insert(preferences).values(**row)
    saved = (
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["user_id"],
                set_={k: stmt.excluded[k] for k in row if k not in ("user_id", "tenant_id")}
                | {"updated_at": func.now()},
                where=preferences.c.tenant_id == row["tenant_id"],
            ).returning(preferences)
        )
    ).one()
    return dict(saved._mapping)
