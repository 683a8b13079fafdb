"""The SQL of incident reports: the log entries about an incident and its related records, the
generating user as the users replica holds them, and the reports table."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Row, and_, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from audit.adapters.orm import entries, reports
from backbone.rows import get_or_404
from backbone.tables import PRINCIPALS

# A problem linked to the incident after it was opened names it in this event's data.
LINKED = "problem.incident_linked.v1"


async def incident_entries(
    session: AsyncSession, tenant_id: UUID, incident_id: UUID, limit: int
) -> list[Row[Any]]:
    """Up to ``limit`` entries of the tenant's log, in log order, about the incident: keyed by
    it, naming it in their data, and every entry about a record so linked (a change request's
    later moves, a delivery's retries). Each branch has an index: subject, the incident id in
    the data, the event type."""
    about = or_(
        entries.c.subject == str(incident_id),
        entries.c.data["incident_id"].astext == str(incident_id),
        and_(entries.c.event_type == LINKED, entries.c.data["linked_incident_id"].astext == str(incident_id)),
    )
    direct = (
        await session.execute(
            select(entries)
            .where(entries.c.tenant_id == tenant_id, about)
            .order_by(entries.c.leaf_index)
            .limit(limit)
        )
    ).all()
    related = {r.subject for r in direct} - {str(incident_id)}
    if not related or len(direct) >= limit:
        return list(direct)
    seen = {r.leaf_index for r in direct}
    more = (
        await session.execute(
            select(entries)
            .where(entries.c.tenant_id == tenant_id, entries.c.subject.in_(sorted(related)))
            .order_by(entries.c.leaf_index)
            .limit(limit)
        )
    ).all()
    return sorted([*direct, *(r for r in more if r.leaf_index not in seen)], key=lambda r: r.leaf_index)[
        :limit
    ]


async def user_status(session: AsyncSession, tenant_id: UUID, user_id: UUID) -> str | None:
    """The user's status in the tenant as the users replica holds it; None for no such user."""
    status: str | None = await session.scalar(
        select(PRINCIPALS.c.status).where(
            PRINCIPALS.c.user_id == user_id, PRINCIPALS.c.tenant_id == tenant_id
        )
    )
    return status


async def add(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(insert(reports).values(row))


async def get(session: AsyncSession, tenant_id: UUID, report_id: UUID) -> Row[Any]:
    return await get_or_404(session, reports, report_id, tenant_id, what="report")
