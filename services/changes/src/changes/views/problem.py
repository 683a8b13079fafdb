"""Problem tickets as the API reads them, with every incident linked to each."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from backbone.auth import Principal
from changes.adapters import problem as store
from changes.views import records
from contracts.enums import ProblemTicketStatus

reader = records.Reader(store.table, "problem")
ProblemTicket = records.model_of(
    store.table, "ProblemTicket", status=ProblemTicketStatus, incident_ids=list[UUID]
)


async def with_incidents(session: AsyncSession, row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "incident_ids": await store.incident_ids(session, row["id"])}


async def get(session: AsyncSession, caller: Principal, id_: UUID) -> dict[str, Any]:
    return await with_incidents(session, await reader.get(session, caller, id_))


async def page(
    session: AsyncSession, caller: Principal, filters: dict[str, Any], after: UUID | None, limit: int
) -> list[dict[str, Any]]:
    incident_id = filters.pop("incident_id", None)
    where = [store.touching(incident_id)] if incident_id is not None else []
    rows = await reader.page(session, caller, filters, after, limit, where)
    return [await with_incidents(session, r) for r in rows]
