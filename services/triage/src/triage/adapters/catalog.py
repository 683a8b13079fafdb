"""Per-tenant catalogs of statuses, categories and priorities (004). Seeded lazily: the first
time triage meets a tenant (its first incident, or its first catalog read or write), the
defaults are written once (a ``tenant_catalogs`` marker row makes that one statement later on)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import new_id
from triage.adapters.orm import incident_categories, incident_priorities, incident_statuses, tenant_catalogs
from triage.domain.lifecycle import (
    DEFAULT_CATEGORIES,
    DEFAULT_PRIORITIES,
    DEFAULT_STATUSES,
    OPEN,
    Catalog,
    catalog_from_rows,
)

TABLES = {
    "statuses": incident_statuses,
    "categories": incident_categories,
    "priorities": incident_priorities,
}


async def ensure_seeded(session: AsyncSession, tenant_ids: Iterable[UUID]) -> None:
    """Write the default catalogs of tenants seen for the first time (idempotent, race-safe:
    the marker row and every default row are inserted ON CONFLICT DO NOTHING)."""
    wanted = sorted(set(tenant_ids))
    if not wanted:
        return
    new = list(
        (
            await session.scalars(
                insert(tenant_catalogs)
                .values([{"tenant_id": t} for t in wanted])
                .on_conflict_do_nothing()
                .returning(tenant_catalogs.c.tenant_id)
            )
        ).all()
    )
    if not new:
        return
    statuses = [
        {
            "id": new_id(),
            "tenant_id": t,
            "slug": s.slug,
            "name": s.name,
            "sort_order": s.sort_order,
            "is_terminal": s.is_terminal,
            "is_default": s.is_default,
        }
        for t in new
        for s in DEFAULT_STATUSES
    ]
    priorities = [
        {"id": new_id(), "tenant_id": t, "slug": slug, "name": name, "level": level}
        for t in new
        for slug, name, level in DEFAULT_PRIORITIES
    ]
    categories = [
        {"id": new_id(), "tenant_id": t, "slug": slug, "name": name}
        for t in new
        for slug, name in DEFAULT_CATEGORIES
    ]
    for table, rows in (
        (incident_statuses, statuses),
        (incident_priorities, priorities),
        (incident_categories, categories),
    ):
        await session.execute(insert(table).values(rows).on_conflict_do_nothing())


async def status_catalog(session: AsyncSession, tenant_id: UUID) -> Catalog:
    await ensure_seeded(session, [tenant_id])
    rows = (
        (await session.execute(select(incident_statuses).where(incident_statuses.c.tenant_id == tenant_id)))
        .mappings()
        .all()
    )
    return catalog_from_rows(dict(r) for r in rows)


async def items(session: AsyncSession, catalog: str, tenant_id: UUID) -> list[dict[str, Any]]:
    await ensure_seeded(session, [tenant_id])
    table = TABLES[catalog]
    order = (
        table.c.sort_order
        if catalog == "statuses"
        else (table.c.level if catalog == "priorities" else table.c.slug)
    )
    rows = await session.execute(select(table).where(table.c.tenant_id == tenant_id).order_by(order))
    return [dict(r) for r in rows.mappings()]


async def item(session: AsyncSession, catalog: str, tenant_id: UUID, slug: str) -> dict[str, Any] | None:
    await ensure_seeded(session, [tenant_id])
    table = TABLES[catalog]
    row = (
        (await session.execute(select(table).where(table.c.tenant_id == tenant_id, table.c.slug == slug)))
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def active_slugs(session: AsyncSession, catalog: str, tenant_id: UUID) -> dict[str, dict[str, Any]]:
    return {r["slug"]: r for r in await items(session, catalog, tenant_id) if r["is_active"]}


async def default_statuses(session: AsyncSession, tenant_ids: Iterable[UUID]) -> dict[UUID, str]:
    """Where each tenant's incidents start: its default status (``open`` unless changed)."""
    wanted = set(tenant_ids)
    rows = await session.execute(
        select(incident_statuses.c.tenant_id, incident_statuses.c.slug).where(
            incident_statuses.c.tenant_id.in_(wanted),
            incident_statuses.c.is_default,
            incident_statuses.c.is_active,
        )
    )
    found = {r.tenant_id: r.slug for r in rows}
    return {t: found.get(t, OPEN) for t in wanted}


async def clear_default(session: AsyncSession, tenant_id: UUID, keep: str) -> None:
    """No status but ``keep`` is the tenant's default any more."""
    table = incident_statuses
    await session.execute(
        update(table).where(table.c.tenant_id == tenant_id, table.c.slug != keep).values(is_default=False)
    )


async def insert_item(session: AsyncSession, catalog: str, item: dict[str, Any]) -> None:
    await session.execute(insert(TABLES[catalog]).values(item))


async def update_item(session: AsyncSession, catalog: str, item_id: UUID, values: dict[str, Any]) -> None:
    table = TABLES[catalog]
    await session.execute(update(table).where(table.c.id == item_id).values(**values, updated_at=func.now()))
