"""Triage's replicas of directory's facts: components (and the links incidents take from them)
and the clients' subscription terms."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backbone import replica
from triage.adapters.orm import client_subscriptions, components, incidents
from triage.domain.incident import Component


async def upsert_components(session: AsyncSession, rows: Iterable[Component]) -> None:
    """Newest state wins; a row never moves to another tenant."""
    await replica.upsert(session, components, (asdict(c) for c in rows), same=("tenant_id",))


async def upsert_subscriptions(session: AsyncSession, rows: Iterable[dict[str, Any]]) -> None:
    """Newest terms win; a client's row never moves to another tenant."""
    await replica.upsert(
        session, client_subscriptions, rows, key=("client_id",), touch="updated_at", same=("tenant_id",)
    )


async def components_by_id(session: AsyncSession, ids: Iterable[UUID]) -> dict[UUID, Component]:
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
