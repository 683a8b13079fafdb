"""Queries of incidents, always narrowed to what the caller may see
(docs/adr/0004-directory-and-access.md): the caller's tenant, and for a client or vendor contact
only incidents linked to its client or vendor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, exists, literal, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.auth import Principal
from triage.adapters.orm import incident_assignments, incidents

# Sort keys of the incident list: the column, and whether its order is the id order.
SORTS = {
    "created": incidents.c.id,  # ids are UUIDv7: creation order
    "detected": incidents.c.detected_at,
    "updated": incidents.c.updated_at,
    "severity": incidents.c.severity,  # "P1" < "P2": ascending is most severe first
    "reference": incidents.c.reference_code,
}


@dataclass(frozen=True)
class IncidentFilters:
    """Filters of the incident list; empty sequences mean "any"."""

    status: Sequence[str] = ()
    severity: Sequence[str] = ()
    client_id: UUID | None = None
    component_id: UUID | None = None
    assignee_id: UUID | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    text: str | None = None
    # "-created" (newest first, the default), "created", "severity", "-updated" …
    sort: str = "-created"
    # keyset cursor: the last row's (sort value, id); for the default sort the id alone.
    after_value: Any = None
    after: UUID | None = None
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
    """One keyset page in the asked order; ties broken by id in the same direction, so the
    cursor (last row's sort value and id) is stable while incidents keep arriving."""
    query = select(incidents).where(*visible_to(caller))
    if filters.status:
        query = query.where(incidents.c.status.in_(list(filters.status)))
    if filters.severity:
        query = query.where(incidents.c.severity.in_(list(filters.severity)))
    if filters.client_id is not None:
        query = query.where(incidents.c.client_id == filters.client_id)
    if filters.component_id is not None:
        query = query.where(incidents.c.component_id == filters.component_id)
    if filters.assignee_id is not None:
        query = query.where(
            exists().where(
                incident_assignments.c.incident_id == incidents.c.id,
                incident_assignments.c.user_id == filters.assignee_id,
                incident_assignments.c.is_active,
                incident_assignments.c.kind.in_(("assignee", "delegate")),
            )
        )
    if filters.created_from is not None:
        query = query.where(incidents.c.created_at >= filters.created_from)
    if filters.created_to is not None:
        query = query.where(incidents.c.created_at < filters.created_to)
    if filters.text:
        pattern = "%" + filters.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                incidents.c.title.ilike(pattern),
                incidents.c.description.ilike(pattern),
                incidents.c.reference_code.ilike(pattern),
            )
        )
    descending = filters.sort.startswith("-")
    column = SORTS[filters.sort.lstrip("-")]
    if filters.after is not None:
        if column is incidents.c.id:
            query = query.where(
                incidents.c.id < filters.after if descending else incidents.c.id > filters.after
            )
        else:
            key = tuple_(column, incidents.c.id)
            bound = tuple_(
                literal(filters.after_value, column.type), literal(filters.after, incidents.c.id.type)
            )
            query = query.where(key < bound if descending else key > bound)
    if column is incidents.c.id:
        order = [incidents.c.id.desc() if descending else incidents.c.id.asc()]
    else:
        order = [c.desc() if descending else c.asc() for c in (column, incidents.c.id)]
    rows = (await session.execute(query.order_by(*order).limit(filters.limit))).mappings()
    return [dict(r) for r in rows]
