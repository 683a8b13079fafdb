"""The SQL of API keys: stored by hash, listed, revoked, and found for the token exchange."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from directory.adapters.orm import api_keys, users
from directory.adapters.shared import Rows

ROWS = Rows(api_keys, "API key")


async def add(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(insert(api_keys).values(**values))


async def get_of_user(session: AsyncSession, tenant_id: UUID, user_id: UUID, key_id: UUID) -> Row[Any]:
    """The user's key (404 for another user's)."""
    return await ROWS.get(session, tenant_id, key_id, among=(api_keys.c.user_id == user_id,))


async def of_user(session: AsyncSession, tenant_id: UUID, user_id: UUID) -> list[Any]:
    """The user's keys, newest first: ids, prefixes and dates, never a hash."""
    return list(
        (
            await session.execute(
                select(
                    api_keys.c.id,
                    api_keys.c.user_id,
                    api_keys.c.prefix,
                    api_keys.c.created_at,
                    api_keys.c.revoked_at,
                )
                .where(api_keys.c.user_id == user_id, api_keys.c.tenant_id == tenant_id)
                .order_by(api_keys.c.id.desc())
            )
        ).all()
    )


async def revoke(
    session: AsyncSession, tenant_id: UUID, ids: Sequence[UUID], now: datetime
) -> list[Row[Any]]:
    """Revoke the live keys among ``ids``; the keys revoked now (already revoked ones stay)."""
    return list(
        (
            await session.execute(
                update(api_keys)
                .where(
                    api_keys.c.tenant_id == tenant_id,
                    api_keys.c.revoked_at.is_(None),
                    api_keys.c.id.in_(ids),
                )
                .values(revoked_at=now)
                .returning(api_keys)
            )
        ).all()
    )


async def live_with_issuers(session: AsyncSession, user_id: UUID) -> list[Any]:
    """The user's live keys minted by someone else, with the role of who minted each (None
    when the issuer is unknown)."""
    issuer = users.alias("issuer")
    return list(
        (
            await session.execute(
                select(api_keys.c.id, issuer.c.role, issuer.c.is_platform_operator)
                .outerjoin(issuer, issuer.c.id == api_keys.c.issued_by)
                .where(
                    api_keys.c.user_id == user_id,
                    api_keys.c.revoked_at.is_(None),
                    api_keys.c.issued_by.is_distinct_from(user_id),
                )
            )
        ).all()
    )


async def live_by_prefix(session: AsyncSession, prefix: str) -> Row[Any] | None:
    """The live key with this prefix: its hash and its user's row."""
    return (
        await session.execute(
            select(api_keys.c.hash, users)
            .join(users, users.c.id == api_keys.c.user_id)
            .where(api_keys.c.prefix == prefix, api_keys.c.revoked_at.is_(None))
        )
    ).one_or_none()
