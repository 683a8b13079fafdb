"""All SQL of the incident replica: what clocks and metrics need of triage's incidents."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Row, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from sla.adapters.orm import incidents

# Timestamps that keep their first value: later events never move them.
FIRST_ONLY = ("created_at", "detected_at", "acknowledged_at", "first_response_at")


async def record(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Apply incident events in order: headline fields take the newest value; a first-only
    timestamp keeps the one it has; the other timestamps are set as given (None clears, a
    missing key leaves them). Rows of another tenant never take an incident over."""
    for row in rows:
        stmt = insert(incidents).values(**row)
        changed: dict[str, Any] = {}
        for name in row:
            if name in ("id", "tenant_id"):
                continue
            column = incidents.c[name]
            changed[name] = (
                func.coalesce(column, stmt.excluded[name]) if name in FIRST_ONLY else stmt.excluded[name]
            )
        changed["updated_at"] = func.now()
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[incidents.c.id],
                set_=changed,
                where=incidents.c.tenant_id == stmt.excluded.tenant_id,
            )
        )


async def get(session: AsyncSession, tenant_id: UUID, incident_id: UUID) -> Row[Any] | None:
    return (
        await session.execute(
            select(incidents).where(incidents.c.id == incident_id, incidents.c.tenant_id == tenant_id)
        )
    ).one_or_none()
