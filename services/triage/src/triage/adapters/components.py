"""Triage's replica of directory's components, and the links incidents take from them."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from triage.adapters.orm import components, incidents
from triage.domain.incident import Component


async def upsert(session: AsyncSession, rows: list[Component]) -> None:
    """Newest state wins; a row never moves to another tenant."""
    if not rows:
        return
    stmt = insert(components).values(
        [
            {
                "id": c.id,
                "tenant_id": c.tenant_id,
                "client_id": c.client_id,
                "vendor_id": c.vendor_id,
                "business_critical": c.business_critical,
            }
            for c in rows
        ]
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["id"],
            set_={k: stmt.excluded[k] for k in ("client_id", "vendor_id", "business_critical")},
            where=components.c.tenant_id == stmt.excluded.tenant_id,
        )
    )


async def by_id(session: AsyncSession, ids: Iterable[UUID]) -> dict[UUID, Component]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.execute(select(components).where(components.c.id.in_(wanted)))
    return {r.id: Component(r.id, r.tenant_id, r.client_id, r.vendor_id, r.business_critical) for r in rows}


async def link_open_incidents(session: AsyncSession, rows: list[Component]) -> None:
    """Incidents opened on a component before triage knew it (the topics are read in parallel,
    so a report may overtake the registration): take the vendor, and the client if they have
    none. Incidents already linked to a vendor keep it."""
    with_vendor = [
        {"t": c.tenant_id, "c": c.id, "v": c.vendor_id, "cl": c.client_id} for c in rows if c.vendor_id
    ]
    if with_vendor:
        await session.execute(
            update(incidents)
            .where(
                incidents.c.tenant_id == bindparam("t"),
                incidents.c.component_id == bindparam("c"),
                incidents.c.vendor_id.is_(None),
            )
            .values(
                vendor_id=bindparam("v"),
                client_id=func.coalesce(incidents.c.client_id, bindparam("cl")),
                updated_at=func.now(),
            ),
            with_vendor,
        )
    await session.execute(
        update(incidents)
        .where(
            incidents.c.tenant_id == bindparam("t"),
            incidents.c.component_id == bindparam("c"),
            incidents.c.client_id.is_(None),
        )
        .values(client_id=bindparam("cl"), updated_at=func.now()),
        [{"t": c.tenant_id, "c": c.id, "cl": c.client_id} for c in rows],
    )
