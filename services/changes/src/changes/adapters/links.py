"""The replicas the pre-checks read: triage's incidents, directory's components and users
(backbone's principals), kept by handlers.replicas."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.replica import upsert
from changes.adapters.orm import components, incidents, principals


async def incident(session: AsyncSession, tenant_id: UUID, incident_id: UUID) -> Any:
    """The incident's row if the tenant has it and it is not deleted; else None."""
    query = select(incidents).where(
        incidents.c.id == incident_id, incidents.c.tenant_id == tenant_id, incidents.c.deleted_at.is_(None)
    )
    return (await session.execute(query)).one_or_none()


async def component(session: AsyncSession, tenant_id: UUID, component_id: UUID) -> Any:
    query = select(components).where(components.c.id == component_id, components.c.tenant_id == tenant_id)
    return (await session.execute(query)).one_or_none()


async def user(session: AsyncSession, tenant_id: UUID, user_id: UUID) -> Any:
    query = select(principals.c.status).where(
        principals.c.user_id == user_id, principals.c.tenant_id == tenant_id
    )
    return (await session.execute(query)).one_or_none()


async def upsert_incidents(session: AsyncSession, rows: Iterable[dict[str, Any]]) -> None:
    await upsert(session, incidents, rows, touch="updated_at", same=("tenant_id",))


async def set_detected(session: AsyncSession, detected: dict[tuple[UUID, UUID], Any]) -> None:
    """When each incident was detected (only incident.created.v1 says)."""
    for (tenant_id, incident_id), at in detected.items():
        await session.execute(
            update(incidents)
            .where(incidents.c.id == incident_id, incidents.c.tenant_id == tenant_id)
            .values(detected_at=at)
        )


async def upsert_components(session: AsyncSession, rows: Iterable[dict[str, Any]]) -> None:
    await upsert(session, components, rows, same=("tenant_id",))
