"""Notifications' replica of triage's incidents: the headline every incident event carries
(reference, title, severity, status, client, vendor). What recording a communication or
scheduling a reminder checks ("the incident exists"), and what scopes reads to a client or
vendor contact."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from sqlalchemy import Column, DateTime, Index, Row, String, Table, func, select
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.auth import Principal
from backbone.rows import get_or_404
from notifications.adapters.orm import metadata

incidents = Table(
    "incidents",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("tenant_id", PgUUID(as_uuid=True), nullable=False),
    Column("reference_code", String(20), nullable=False),
    Column("title", String(300), nullable=False),
    Column("severity", String(2), nullable=False),
    Column("status", String(40), nullable=False),
    Column("client_id", PgUUID(as_uuid=True)),
    Column("vendor_id", PgUUID(as_uuid=True)),
    Column("deleted_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_incidents_tenant", "tenant_id", "id"),
)


async def visible(session: AsyncSession, caller: Principal, incident_id: UUID) -> Row[Any]:
    """The incident's row if it exists, is not deleted, and the caller may see it; else 404."""
    return await get_or_404(
        session,
        incidents,
        incident_id,
        caller.tenant_id,
        what="incident",
        among=(incidents.c.deleted_at.is_(None), *caller.scope(incidents.c.client_id, incidents.c.vendor_id)),
    )


async def states(session: AsyncSession, ids: Iterable[UUID]) -> dict[UUID, Any]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.execute(
        select(incidents.c.id, incidents.c.status, incidents.c.deleted_at).where(incidents.c.id.in_(wanted))
    )
    return {r.id: r for r in rows}
