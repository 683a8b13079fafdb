"""SQL for business calendars (docs/sla.md "Calendars"): a tenant's default (client_id NULL)
and its clients' own, stored in the API shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import new_id
from sla.adapters.orm import calendars
from sla.domain.calendar import DEFAULT, Calendar


async def stored(session: AsyncSession, tenant_id: UUID, client_id: UUID | None) -> Calendar | None:
    """Exactly this scope's calendar (the tenant's default for ``client_id`` None), if set."""
    scope = calendars.c.client_id.is_(None) if client_id is None else calendars.c.client_id == client_id
    definition = await session.scalar(
        select(calendars.c.definition).where(calendars.c.tenant_id == tenant_id, scope)
    )
    return None if definition is None else Calendar.from_json(definition)


async def for_client(session: AsyncSession, tenant_id: UUID, client_id: UUID | None) -> Calendar:
    """The calendar a client's clocks run on: its own, else the tenant's default, else DEFAULT."""
    default = calendars.c.client_id.is_(None)
    scope = default if client_id is None else default | (calendars.c.client_id == client_id)
    definition = await session.scalar(
        select(calendars.c.definition)
        .where(calendars.c.tenant_id == tenant_id, scope)
        .order_by(calendars.c.client_id.is_(None))  # the client's own first
        .limit(1)
    )
    return DEFAULT if definition is None else Calendar.from_json(definition)


async def put(
    session: AsyncSession,
    tenant_id: UUID,
    client_id: UUID | None,
    calendar: Calendar,
    *,
    by: UUID,
    at: datetime,
) -> None:
    definition: dict[str, Any] = calendar.to_json()
    where = "client_id IS NULL" if client_id is None else "client_id IS NOT NULL"
    index = [calendars.c.tenant_id] if client_id is None else [calendars.c.tenant_id, calendars.c.client_id]
    await session.execute(
        insert(calendars)
        .values(
            id=new_id(),
            tenant_id=tenant_id,
            client_id=client_id,
            definition=definition,
            updated_at=at,
            updated_by=by,
        )
        .on_conflict_do_update(
            index_elements=index,
            index_where=text(where),
            set_={"definition": definition, "updated_at": at, "updated_by": by},
        )
    )


async def remove(session: AsyncSession, tenant_id: UUID, client_id: UUID) -> bool:
    """Drop a client's own calendar; True if there was one."""
    gone = await session.execute(
        delete(calendars)
        .where(calendars.c.tenant_id == tenant_id, calendars.c.client_id == client_id)
        .returning(calendars.c.id)
    )
    return gone.first() is not None
