"""Read model of calendars (docs/sla.md "Calendars"): the calendar in force for the tenant or
a client, and where it comes from (``source``): the client's own, the tenant's default, or the
built-in Mon-Fri 09:00-17:00 UTC."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from backbone.problems import NotFound
from sla.adapters import calendar as calendars
from sla.adapters import subscription as subscriptions
from sla.domain.calendar import DEFAULT, Calendar


def shape(calendar: Calendar, source: str) -> dict[str, Any]:
    return {**calendar.to_json(), "source": source}


async def default_calendar(session: AsyncSession, tenant_id: UUID) -> dict[str, Any]:
    own = await calendars.stored(session, tenant_id, None)
    return shape(own, "tenant") if own else shape(DEFAULT, "built_in")


async def client_calendar(session: AsyncSession, tenant_id: UUID, client_id: UUID) -> dict[str, Any]:
    """404 for a client this tenant does not have (known here by its subscription)."""
    if not await subscriptions.exists(session, tenant_id, client_id):
        raise NotFound(f"no client {client_id}")
    own = await calendars.stored(session, tenant_id, client_id)
    return shape(own, "client") if own else await default_calendar(session, tenant_id)
