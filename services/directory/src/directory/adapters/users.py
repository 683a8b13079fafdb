"""The SQL of users, and the principal lookup of signed-in users."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.adapters.orm import users
from directory.adapters.shared import Rows

ROWS = Rows(users, "user")


async def principal_row(session: AsyncSession, user_id: UUID) -> Any:
    """Directory's own answer to "is this user still active, with which role": its table."""
    return (
        await session.execute(
            select(
                users.c.tenant_id, users.c.role, users.c.status, users.c.client_id, users.c.vendor_id
            ).where(users.c.id == user_id)
        )
    ).one_or_none()
