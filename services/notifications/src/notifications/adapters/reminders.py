"""Incident reminders (004 ``incident_reminders``): timer rows due at ``scheduled_for``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Column, DateTime, Index, Row, String, Table, func, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.rows import get_or_404
from backbone.timers import claim_due
from notifications.adapters.orm import metadata
from notifications.domain.reminders import ReminderStatus

reminders = Table(
    "reminders",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("tenant_id", PgUUID(as_uuid=True), nullable=False),
    Column("incident_id", PgUUID(as_uuid=True), nullable=False),
    Column("reminder_type", String(100), nullable=False),
    Column("scheduled_for", DateTime(timezone=True), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("user_ids", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("status", String(20), nullable=False),
    # 004's sent_at: when it was handed to its channel; fired_at: when its timer fired at all.
    Column("sent_at", DateTime(timezone=True)),
    Column("fired_at", DateTime(timezone=True)),
    Column("cancelled_at", DateTime(timezone=True)),
    Column("cancelled_by", PgUUID(as_uuid=True)),
    Column("created_by", PgUUID(as_uuid=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_reminders_tenant_incident", "tenant_id", "incident_id", "scheduled_for"),
    # The timer queue: only rows still waiting, in due order.
    Index("ix_reminders_due", "scheduled_for", postgresql_where=text("status = 'scheduled'")),
)


async def add(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(reminders.insert().values(row))


async def of_incident(session: AsyncSession, tenant_id: UUID, incident_id: UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(reminders)
        .where(reminders.c.tenant_id == tenant_id, reminders.c.incident_id == incident_id)
        .order_by(reminders.c.scheduled_for, reminders.c.id)
    )
    return [dict(r) for r in rows.mappings()]


async def lock_one(session: AsyncSession, tenant_id: UUID, reminder_id: UUID) -> Row[Any]:
    """The tenant's reminder, locked until the transaction ends; else 404."""
    return await get_or_404(session, reminders, reminder_id, tenant_id, what="reminder", for_update=True)


async def claim(session: AsyncSession, now: datetime, limit: int = 100) -> Sequence[Row[Any]]:
    return await claim_due(
        session,
        reminders,
        now=now,
        due=reminders.c.scheduled_for,
        pending=[reminders.c.status == ReminderStatus.SCHEDULED.value],
        limit=limit,
    )


async def mark(session: AsyncSession, reminder_id: UUID, values: dict[str, Any]) -> None:
    await session.execute(update(reminders).where(reminders.c.id == reminder_id).values(values))
