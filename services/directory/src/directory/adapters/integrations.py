"""The SQL of integrations: every change bumps the revision; deleted ones read as absent."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from directory.adapters.orm import integrations
from directory.adapters.shared import Rows

ROWS = Rows(integrations, "integration", live=(integrations.c.deleted_at.is_(None),))


async def save(
    session: AsyncSession, integration_id: UUID, values: dict[str, Any], now: datetime
) -> Row[Any]:
    """Set the values, one revision on; the row as stored."""
    values = {**values, "revision": integrations.c.revision + 1, "updated_at": now}
    return await ROWS.change(session, integration_id, values)
