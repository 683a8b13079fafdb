"""All SQL of the metrics: recorded metrics, and the incident rows their summaries read."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Integer, and_, cast, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from sla.adapters.orm import clocks, incidents, metrics


async def add(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(insert(metrics).values(**row))


async def incident_rows(
    session: AsyncSession,
    tenant_id: UUID,
    *,
    since: datetime | None,
    until: datetime | None,
    client_id: UUID | None,
    tier: str | None,
    severity: str | None,
    scope: list[Any],
) -> list[dict[str, Any]]:
    """The tenant's incidents created in [since, until), not deleted, with their tier (of the
    resolution clock), how many clocks counted (not cancelled) and how many breached."""
    resolution = clocks.alias("resolution")
    counted = (
        select(
            clocks.c.incident_id,
            func.count().filter(clocks.c.state != "cancelled").label("clocks"),
            func.count().filter(clocks.c.breached_at.is_not(None)).label("breached"),
        )
        .where(clocks.c.tenant_id == tenant_id)
        .group_by(clocks.c.incident_id)
        .subquery()
    )
    query = (
        select(
            incidents.c.id,
            incidents.c.client_id,
            incidents.c.severity,
            incidents.c.created_at,
            incidents.c.acknowledged_at,
            incidents.c.resolved_at,
            resolution.c.tier,
            func.to_char(func.date_trunc("month", incidents.c.created_at), "YYYY-MM").label("period"),
            cast(func.coalesce(counted.c.clocks, 0), Integer).label("clocks"),
            cast(func.coalesce(counted.c.breached, 0), Integer).label("breached"),
        )
        .select_from(
            incidents.outerjoin(
                resolution,
                and_(resolution.c.incident_id == incidents.c.id, resolution.c.kind == "resolution"),
            ).outerjoin(counted, counted.c.incident_id == incidents.c.id)
        )
        .where(incidents.c.tenant_id == tenant_id, incidents.c.deleted_at.is_(None), *scope)
    )
    if since is not None:
        query = query.where(incidents.c.created_at >= since)
    if until is not None:
        query = query.where(incidents.c.created_at < until)
    if client_id is not None:
        query = query.where(incidents.c.client_id == client_id)
    if tier is not None:
        query = query.where(resolution.c.tier == tier)
    if severity is not None:
        query = query.where(incidents.c.severity == severity)
    return [dict(r._mapping) for r in (await session.execute(query)).all()]
