"""The SQL of components."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.adapters.orm import components
from directory.adapters.shared import Rows

ROWS = Rows(components, "component")


async def name_taken(session: AsyncSession, client_id: UUID, name: str) -> bool:
    """Whether the client already has a component of this name."""
    taken = await session.scalar(
        select(components.c.id).where(components.c.client_id == client_id, components.c.name == name)
    )
    return taken is not None
