"""Recorded communications (000) and their delivery status."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Column, DateTime, Index, String, Table, Text, func, or_, select, update
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.auth import Principal
from backbone.rows import get_or_404
from contracts.enums import RecipientType
from notifications.adapters.incidents import incidents
from notifications.adapters.orm import metadata, principals

communications = Table(
    "communications",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("tenant_id", PgUUID(as_uuid=True), nullable=False),
    Column("incident_id", PgUUID(as_uuid=True), nullable=False),
    Column("sender_id", PgUUID(as_uuid=True), nullable=False),
    Column("recipient_user_id", PgUUID(as_uuid=True)),
    Column("recipient_type", String(20), nullable=False),
    Column("communication_type", String(40), nullable=False),
    Column("delivery_method", String(20), nullable=False),
    Column("title", String(300), nullable=False, server_default=""),
    Column("message", Text, nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("delivery_status", String(20), nullable=False),
    Column("delivery_error", Text),
    Column("status_changed_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_communications_tenant_incident", "tenant_id", "incident_id", "id"),
    Index("ix_communications_tenant_keyset", "tenant_id", "id"),
)


async def user(session: AsyncSession, user_id: UUID) -> Any:
    return (await session.execute(select(principals).where(principals.c.user_id == user_id))).first()


async def users(session: AsyncSession, ids: list[UUID]) -> dict[UUID, Any]:
    if not ids:
        return {}
    rows = await session.execute(select(principals).where(principals.c.user_id.in_(ids)))
    return {r.user_id: r for r in rows}


async def add(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(communications.insert().values(row))


def _visible_to(caller: Principal) -> tuple[Any, ...]:
    """Tenant, the incident in the caller's scope, and for a contact only what was addressed
    to them or to their kind of recipient (never internal or executive communications)."""
    seen = select(incidents.c.id).where(
        incidents.c.tenant_id == caller.tenant_id,
        incidents.c.deleted_at.is_(None),
        *caller.scope(incidents.c.client_id, incidents.c.vendor_id),
    )
    conditions: list[Any] = [
        communications.c.tenant_id == caller.tenant_id,
        communications.c.incident_id.in_(seen),
    ]
    if caller.client_scoped or caller.vendor_scoped:
        kind = RecipientType.CLIENT if caller.client_scoped else RecipientType.VENDOR
        conditions.append(
            or_(
                communications.c.recipient_user_id == caller.user_id,
                communications.c.recipient_type == kind.value,
            )
        )
    return tuple(conditions)


async def get(session: AsyncSession, caller: Principal, communication_id: UUID) -> dict[str, Any]:
    """The communication if the caller may see it; else 404."""
    row = await get_or_404(
        session,
        communications,
        communication_id,
        caller.tenant_id,
        what="communication",
        among=_visible_to(caller),
    )
    return dict(row._mapping)


async def search(
    session: AsyncSession, caller: Principal, *, incident_id: UUID | None, after: UUID | None, limit: int
) -> list[dict[str, Any]]:
    """Newest first by id (UUIDv7); ``after`` continues below that id."""
    query = select(communications).where(*_visible_to(caller))
    if incident_id is not None:
        query = query.where(communications.c.incident_id == incident_id)
    if after is not None:
        query = query.where(communications.c.id < after)
    rows = (await session.execute(query.order_by(communications.c.id.desc()).limit(limit))).mappings()
    return [dict(r) for r in rows]


async def lock(session: AsyncSession, tenant_id: UUID, ids: list[UUID]) -> dict[UUID, Any]:
    """The communications, locked until the transaction ends, so two consumers' outcomes for
    one communication apply one after the other."""
    if not ids:
        return {}
    rows = await session.execute(
        select(communications)
        .where(communications.c.tenant_id == tenant_id, communications.c.id.in_(ids))
        .with_for_update()
    )
    return {r.id: r for r in rows}


async def set_status(session: AsyncSession, communication_id: UUID, values: dict[str, Any]) -> None:
    await session.execute(
        update(communications).where(communications.c.id == communication_id).values(values)
    )
