"""SQL for post-incident reviews: the record and its action items."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from changes.adapters.orm import pir_action_items
from changes.adapters.orm import post_incident_reviews as table

__all__ = ["action_items", "add_action_item", "pir_action_items", "table", "with_items"]


async def add_action_item(session: AsyncSession, values: dict[str, Any]) -> dict[str, Any]:
    row = (await session.execute(insert(pir_action_items).values(values).returning(pir_action_items))).one()
    return dict(row._mapping)


async def action_items(session: AsyncSession, review_id: UUID) -> list[dict[str, Any]]:
    query = (
        select(pir_action_items)
        .where(pir_action_items.c.review_id == review_id)
        .order_by(pir_action_items.c.id)
    )
    return [dict(r._mapping) for r in await session.execute(query)]


async def with_items(session: AsyncSession, row: dict[str, Any]) -> dict[str, Any]:
    """The review's row with its action items."""
    return {**row, "action_items": await action_items(session, row["id"])}
