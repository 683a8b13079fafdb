"""Post-incident reviews as the API reads them, with their action items."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from backbone.auth import Principal
from changes.adapters import post_incident_review as store
from changes.views import records
from contracts.enums import PostIncidentReviewStatus

reader = records.Reader(store.table, "review")
ActionItem = records.model_of(store.pir_action_items, "ActionItem")
PostIncidentReview = records.model_of(
    store.table,
    "PostIncidentReview",
    status=PostIncidentReviewStatus,
    action_items=records.list_of(ActionItem),
)


async def with_items(session: AsyncSession, row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "action_items": await store.action_items(session, row["id"])}


async def get(session: AsyncSession, caller: Principal, id_: UUID) -> dict[str, Any]:
    return await with_items(session, await reader.get(session, caller, id_))


async def page(
    session: AsyncSession, caller: Principal, filters: dict[str, Any], after: UUID | None, limit: int
) -> list[dict[str, Any]]:
    rows = await reader.page(session, caller, filters, after, limit)
    return [await with_items(session, r) for r in rows]
