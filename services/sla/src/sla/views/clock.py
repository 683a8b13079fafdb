"""Read models of the clocks: one incident's SLA, and the clock list for dashboards."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.auth import Principal
from backbone.rows import get_or_404
from sla.adapters import calendar as calendars
from sla.adapters.clock import to_clock
from sla.adapters.orm import clocks, incidents
from sla.domain.calendar import ALWAYS
from sla.domain.clock import Calendar, Clock


async def _calendar(session: AsyncSession, clock: Clock, seen: dict[Any, Calendar]) -> Calendar:
    if clock.figures.calendar == "24x7":
        return ALWAYS
    key = (clock.tenant_id, clock.client_id)
    if key not in seen:
        seen[key] = await calendars.for_client(session, clock.tenant_id, clock.client_id)
    return seen[key]


def clock_out(clock: Clock, cal: Calendar, now: datetime) -> dict[str, Any]:
    """One clock as the API shows it; minutes on the clock's calendar. ``remaining_minutes``
    is negative once the deadline has passed."""
    end = clock.stopped_at or clock.cancelled_at or now
    elapsed = clock.elapsed(cal, end)
    return {
        "id": clock.id,
        "incident_id": clock.incident_id,
        "client_id": clock.client_id,
        "kind": clock.kind.value,
        "tier": clock.tier.value,
        "severity": clock.severity.value,
        "calendar": clock.figures.calendar,
        "target_minutes": clock.figures.target_minutes,
        "deadline_minutes": clock.figures.deadline_minutes,
        "state": clock.state,
        "at_risk": clock.warned_at is not None and clock.breached_at is None and clock.open,
        "started_at": clock.started_at,
        "warn_at": clock.warn_at(cal),
        "due_at": clock.due_at(cal),
        "warned_at": clock.warned_at,
        "stopped_at": clock.stopped_at or clock.cancelled_at,
        "breached_at": clock.breached_at,
        "elapsed_minutes": round(elapsed, 2),
        "remaining_minutes": round(clock.deadline - elapsed, 2),
        "paused_minutes": round(clock.paused_minutes(cal, end), 2),
        "extensions": [e.as_json() for e in clock.extensions],
        "history": list(clock.history),
    }


async def incident_sla(
    session: AsyncSession, caller: Principal, incident_id: UUID, now: datetime
) -> dict[str, Any]:
    """GET /v1/incidents/{id}/sla; an incident outside the caller's tenant or scope is 404."""
    incident = await get_or_404(
        session,
        incidents,
        incident_id,
        caller.tenant_id,
        what="incident",
        among=tuple(caller.scope(incidents.c.client_id, incidents.c.vendor_id)),
    )
    rows = (
        await session.execute(
            select(clocks)
            .where(clocks.c.incident_id == incident_id, clocks.c.tenant_id == caller.tenant_id)
            .order_by(clocks.c.kind.desc())  # response, then resolution
        )
    ).all()
    seen: dict[Any, Calendar] = {}
    shown = []
    for row in rows:
        clock = to_clock(row)
        shown.append(clock_out(clock, await _calendar(session, clock, seen), now))
    latest = shown[-1] if shown else None
    return {
        "incident_id": incident.id,
        "client_id": incident.client_id,
        "tier": latest["tier"] if latest else incident.tier,
        "severity": latest["severity"] if latest else incident.severity,
        "clocks": shown,
    }


async def list_clocks(
    session: AsyncSession,
    caller: Principal,
    now: datetime,
    *,
    state: str | None,
    at_risk: bool | None,
    client_id: UUID | None,
    after: UUID | None,
    limit: int,
) -> dict[str, Any]:
    """GET /v1/sla/clocks: the tenant's clocks (the caller's scope only), oldest first, keyset
    pagination on the id (time-ordered)."""
    query = select(clocks).where(
        clocks.c.tenant_id == caller.tenant_id, *caller.scope(clocks.c.client_id, clocks.c.vendor_id)
    )
    if state is not None:
        query = query.where(clocks.c.state == state)
    if at_risk is not None:
        query = query.where(clocks.c.at_risk.is_(at_risk))
    if client_id is not None:
        query = query.where(clocks.c.client_id == client_id)
    if after is not None:
        query = query.where(clocks.c.id > after)
    rows = (await session.execute(query.order_by(clocks.c.id).limit(limit + 1))).all()
    seen: dict[Any, Calendar] = {}
    items = []
    for row in rows[:limit]:
        clock = to_clock(row)
        items.append(clock_out(clock, await _calendar(session, clock, seen), now))
    return {"items": items, "next_cursor": str(rows[limit - 1].id) if len(rows) > limit else None}
