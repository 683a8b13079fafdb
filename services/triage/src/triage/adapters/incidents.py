"""Queries of incidents, always narrowed to what the caller may see (DESIGN §5): the caller's
tenant, and for a client or vendor contact only incidents linked to its client or vendor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.auth import Principal
from triage.adapters.orm import incidents


@dataclass(frozen=True)
class IncidentFilters:
    """Filters of the incident list; empty sequences mean "any"."""

    status: Sequence[str] = ()
    severity: Sequence[str] = ()
    client_id: UUID | None = None
    after: UUID | None = None  # keyset cursor: the last id of the previous page
    limit: int = 50


def visible_to(caller: Principal) -> list[ColumnElement[bool]]:
    """The conditions every incident query of ``caller`` carries: tenant, not deleted, and the
    contact's client or vendor scope."""
    return [
        incidents.c.tenant_id == caller.tenant_id,
        incidents.c.deleted_at.is_(None),
        *caller.scope(incidents.c.client_id, incidents.c.vendor_id),
    ]


async def get(session: AsyncSession, caller: Principal, incident_id: UUID) -> dict[str, Any] | None:
    row = (
        (await session.execute(select(incidents).where(incidents.c.id == incident_id, *visible_to(caller))))
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def search(session: AsyncSession, caller: Principal, filters: IncidentFilters) -> list[dict[str, Any]]:
    """Newest first by id (UUIDv7, so creation order); ``after`` continues below that id."""
    query = select(incidents).where(*visible_to(caller))
    if filters.status:
        query = query.where(incidents.c.status.in_(list(filters.status)))
    if filters.severity:
        query = query.where(incidents.c.severity.in_(list(filters.severity)))
    if filters.client_id is not None:
        query = query.where(incidents.c.client_id == filters.client_id)
    if filters.after is not None:
        query = query.where(incidents.c.id < filters.after)
    rows = (await session.execute(query.order_by(incidents.c.id.desc()).limit(filters.limit))).mappings()
    return [dict(r) for r in rows]
