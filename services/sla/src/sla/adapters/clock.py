"""All SQL of the clocks: rows to aggregates and back, their timer rows, the pause settings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, delete, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.timers import claim_due
from contracts.enums import Severity, SlaClockKind, SubscriptionTier
from sla.adapters.orm import clock_settings, clock_timers, clocks
from sla.domain.clock import (
    Calendar,
    Clock,
    Figures,
    extensions_from,
    spans_from,
    spans_json,
)


def to_clock(row: Row[Any]) -> Clock:
    return Clock(
        id=row.id,
        tenant_id=row.tenant_id,
        incident_id=row.incident_id,
        kind=SlaClockKind(row.kind),
        tier=SubscriptionTier(row.tier),
        severity=Severity(row.severity),
        client_id=row.client_id,
        figures=Figures(row.calendar, row.target_minutes, row.deadline_minutes),
        started_at=row.started_at,
        segments=spans_from(row.segments),
        pauses=spans_from(row.pauses),
        extensions=extensions_from(row.extensions),
        stopped_at=row.stopped_at,
        cancelled_at=row.cancelled_at,
        warned_at=row.warned_at,
        breached_at=row.breached_at,
        history=tuple(row.history),
    )


def _values(clock: Clock, calendar: Calendar) -> dict[str, Any]:
    return {
        "tenant_id": clock.tenant_id,
        "incident_id": clock.incident_id,
        "kind": clock.kind.value,
        "client_id": clock.client_id,
        "tier": clock.tier.value,
        "severity": clock.severity.value,
        "calendar": clock.figures.calendar,
        "target_minutes": clock.figures.target_minutes,
        "deadline_minutes": clock.figures.deadline_minutes,
        "started_at": clock.started_at,
        "segments": spans_json(clock.segments),
        "pauses": spans_json(clock.pauses),
        "extensions": [e.as_json() for e in clock.extensions],
        "history": list(clock.history),
        "state": clock.state,
        "at_risk": clock.warned_at is not None and clock.breached_at is None and clock.open,
        "warn_at": clock.warn_at(calendar),
        "due_at": clock.due_at(calendar),
        "warned_at": clock.warned_at,
        "breached_at": clock.breached_at,
        "stopped_at": clock.stopped_at,
        "cancelled_at": clock.cancelled_at,
    }


async def of_incidents(
    session: AsyncSession, incident_ids: Iterable[UUID], *, lock: bool = True
) -> dict[UUID, list[Clock]]:
    """The clocks of these incidents, locked for the transaction (a concurrent change of the
    same clock waits, then sees this one's result)."""
    query = select(clocks).where(clocks.c.incident_id.in_(list(incident_ids))).order_by(clocks.c.kind)
    if lock:
        query = query.with_for_update()
    found: dict[UUID, list[Clock]] = {}
    for row in (await session.execute(query)).all():
        found.setdefault(row.incident_id, []).append(to_clock(row))
    return found


async def by_ids(session: AsyncSession, ids: Iterable[UUID]) -> dict[UUID, Clock]:
    query = select(clocks).where(clocks.c.id.in_(list(ids))).with_for_update()
    return {row.id: to_clock(row) for row in (await session.execute(query)).all()}


async def open_of_client(session: AsyncSession, tenant_id: UUID, client_id: UUID) -> list[Clock]:
    query = (
        select(clocks)
        .where(
            clocks.c.tenant_id == tenant_id,
            clocks.c.client_id == client_id,
            clocks.c.stopped_at.is_(None),
            clocks.c.cancelled_at.is_(None),
        )
        .with_for_update()
    )
    return [to_clock(row) for row in (await session.execute(query)).all()]


# Upserts compiled once and run as executemany: a tick saves every clock it fired in one
# statement, whatever the batch (docs/sla.md "Timers").
_insert_clock = insert(clocks)
_KEPT = ("id", "vendor_id", "updated_at")  # set on insert only (or by the database)
_UPSERT_CLOCKS = _insert_clock.on_conflict_do_update(
    index_elements=[clocks.c.id],
    set_={c.name: _insert_clock.excluded[c.name] for c in clocks.c if c.name not in _KEPT}
    | {"updated_at": func.now()},
)
_insert_timer = insert(clock_timers)
_UPSERT_TIMERS = _insert_timer.on_conflict_do_update(
    index_elements=[clock_timers.c.clock_id, clock_timers.c.what],
    set_={"due_at": _insert_timer.excluded.due_at},
    where=clock_timers.c.fired_at.is_(None),
)


async def save(
    session: AsyncSession, clock: Clock, calendar: Calendar, *, vendor_id: UUID | None = None
) -> None:
    """Insert or update the clock and put its timer rows where the aggregate says."""
    await save_many(session, [(clock, calendar)], vendor_id=vendor_id)


async def save_many(
    session: AsyncSession, items: Sequence[tuple[Clock, Calendar]], *, vendor_id: UUID | None = None
) -> None:
    """Insert or update clocks (``vendor_id`` is written on insert only) and put their timer
    rows where each aggregate says: one pending row per warning and breach still to come; a
    timer no longer due is dropped unless it has fired (fired rows stay as the record)."""
    if not items:
        return
    await session.execute(
        _UPSERT_CLOCKS, [{"id": c.id, "vendor_id": vendor_id, **_values(c, cal)} for c, cal in items]
    )
    due = [(c, what, at) for c, cal in items for what, at in c.timers(cal).items()]
    gone = [(c.id, what) for c, what, at in due if at is None]
    if gone:
        await session.execute(
            delete(clock_timers).where(
                tuple_(clock_timers.c.clock_id, clock_timers.c.what).in_(gone),
                clock_timers.c.fired_at.is_(None),
            )
        )
    rows = [
        {"clock_id": c.id, "what": what, "tenant_id": c.tenant_id, "due_at": at}
        for c, what, at in due
        if at is not None
    ]
    if rows:
        await session.execute(_UPSERT_TIMERS, rows)


async def claim(session: AsyncSession, now: datetime, limit: int) -> Sequence[Row[Any]]:
    """Due, unfired timer rows, locked (SKIP LOCKED: another replica takes others)."""
    return await claim_due(
        session, clock_timers, now=now, pending=[clock_timers.c.fired_at.is_(None)], limit=limit
    )


async def mark_fired(session: AsyncSession, claimed: Sequence[Row[Any]], now: datetime) -> None:
    """These claimed rows fired (one statement for the batch): a fired row never fires again.
    A row whose due time moved meanwhile is left to fire at its new time."""
    if not claimed:
        return
    await session.execute(
        update(clock_timers)
        .where(
            tuple_(clock_timers.c.clock_id, clock_timers.c.what, clock_timers.c.due_at).in_(
                [(r.clock_id, r.what, r.due_at) for r in claimed]
            ),
            clock_timers.c.fired_at.is_(None),
        )
        .values(fired_at=now)
    )


async def next_due(session: AsyncSession) -> datetime | None:
    return await session.scalar(
        select(func.min(clock_timers.c.due_at)).where(clock_timers.c.fired_at.is_(None))
    )


# -- per-tenant settings (docs/sla.md "Pause") -------------------------------------------------


async def settings_of(session: AsyncSession, tenant_id: UUID) -> Row[Any] | None:
    return (
        await session.execute(select(clock_settings).where(clock_settings.c.tenant_id == tenant_id))
    ).one_or_none()


async def put_settings(
    session: AsyncSession,
    tenant_id: UUID,
    *,
    pause_enabled: bool,
    pause_statuses: list[str],
    default_tier: str,
) -> None:
    values = {"pause_enabled": pause_enabled, "pause_statuses": pause_statuses, "default_tier": default_tier}
    stmt = insert(clock_settings).values(tenant_id=tenant_id, **values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[clock_settings.c.tenant_id], set_={**values, "updated_at": func.now()}
        )
    )
