"""Notifications' replica of triage's incidents: the headline every incident event carries
(reference, title, severity, status, client, vendor). What recording a communication or
scheduling a reminder checks ("the incident exists"), and what scopes reads to a client or
vendor contact."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from sqlalchemy import Column, DateTime, Index, String, Table, func, select
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.auth import Principal
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

_HEADLINE = ("reference_code", "title", "severity", "status", "client_id", "vendor_id")


async def upsert(session: AsyncSession, rows: Iterable[dict[str, Any]]) -> None:
    """Newest headline wins (callers pass each incident's latest); a row never changes tenant."""
    values = list(rows)
    if not values:
        return
    stmt = insert(incidents).values(values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["id"],
            set_={k: stmt.excluded[k] for k in (*_HEADLINE, "deleted_at")} | {"updated_at": func.now()},
            where=incidents.c.tenant_id == stmt.excluded.tenant_id,
        )
    )


async def visible(session: AsyncSession, caller: Principal, incident_id: UUID) -> Any:
    """The incident's row if it exists, is not deleted, and the caller may see it; else None."""
    return (
        await session.execute(
            select(incidents).where(
                incidents.c.id == incident_id,
                incidents.c.tenant_id == caller.tenant_id,
                incidents.c.deleted_at.is_(None),
                *caller.scope(incidents.c.client_id, incidents.c.vendor_id),
            )
        )
    ).first()


async def states(session: AsyncSession, ids: Iterable[UUID]) -> dict[UUID, Any]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.execute(
        select(incidents.c.id, incidents.c.status, incidents.c.deleted_at).where(incidents.c.id.in_(wanted))
    )
    return {r.id: r for r in rows}
