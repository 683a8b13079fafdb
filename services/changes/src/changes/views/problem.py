"""Problem tickets as the API reads them, with every incident linked to each."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from backbone.auth import Principal
from changes.adapters import problem as store
from changes.views import records
from contracts.enums import ProblemTicketStatus

reader = records.Reader(store.table, "problem", attach=store.with_incidents)
ProblemTicket = records.model_of(
    store.table, "ProblemTicket", status=ProblemTicketStatus, incident_ids=list[UUID]
)


async def page(
    session: AsyncSession, caller: Principal, filters: dict[str, Any], after: UUID | None, limit: int
) -> list[dict[str, Any]]:
    incident_id = filters.pop("incident_id", None)
    where = [store.touching(incident_id)] if incident_id is not None else []
    return await reader.page(session, caller, filters, after, limit, where)
