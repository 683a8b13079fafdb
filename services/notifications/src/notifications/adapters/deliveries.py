"""SQL of deliveries: queueing them once per (event, recipient, channel), the workers' claim
and outcome, and the reads the API serves.

Leases and retry times are read and written with the database's clock, never a replica's:
replicas whose clocks disagree would otherwise take each other's leased deliveries early. A new
delivery is due at the database's now (the column's default) for the same reason."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Row, and_, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from backbone.rows import get_or_404
from notifications.adapters.orm import deliveries
from notifications.domain.deliveries import DeliveryState

# What the API shows of a delivery (not the rendered message nor the address).
SHOWN = (
    "id",
    "tenant_id",
    "event_id",
    "event_type",
    "channel_id",
    "channel_kind",
    "recipient_key",
    "recipient_user_id",
    "incident_id",
    "communication_id",
    "reminder_id",
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "sent_at",
    "failed_at",
    "created_at",
)
_DUE = (DeliveryState.PENDING.value, DeliveryState.SENDING.value)
# Notified in the transaction that queues deliveries: PostgreSQL delivers it on commit to every
# replica listening (entrypoints/workers.py), so workers start at once instead of at a poll.
DUE_CHANNEL = "notifications_deliveries_due"


_ADD_NEW = (
    insert(deliveries)
    .on_conflict_do_nothing(constraint="uq_deliveries_event_recipient_channel")
    .returning(deliveries.c.id)
)


async def add_new(session: AsyncSession, rows: list[dict[str, Any]]) -> list[UUID]:
    """Queue the rows; one already there for its (event, recipient, channel) is left alone.
    Returns the ids of the rows added."""
    if not rows:
        return []
    # The rows as parameters of one cached statement (sent as multi-row inserts): a statement
    # built from a poll's rows' values is compiled anew each time, a cost per row on the hot path.
    ids = list(await session.scalars(_ADD_NEW, rows))
    if ids:
        await session.execute(select(func.pg_notify(DUE_CHANNEL, "")))
    return ids


@contextlib.asynccontextmanager
async def listening(engine: AsyncEngine, wake: Callable[[], None]) -> AsyncIterator[Callable[[], bool]]:
    """Call ``wake`` whenever a transaction that queued deliveries commits (in any replica),
    while the context is open; yields a check that the listening connection is still alive."""
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None

        def notified(*_: object) -> None:
            wake()

        await raw.add_listener(DUE_CHANNEL, notified)
        try:
            yield lambda: not raw.is_closed()
        finally:
            with contextlib.suppress(Exception):
                await raw.remove_listener(DUE_CHANNEL, notified)


async def due_channels(session: AsyncSession) -> list[UUID]:
    """Channels with deliveries due now (pending, or claimed by a sender whose lease ran out)."""
    rows = await session.scalars(
        select(deliveries.c.channel_id)
        .where(deliveries.c.status.in_(_DUE), deliveries.c.next_attempt_at <= func.now())
        .distinct()
    )
    return list(rows)


async def claim(session: AsyncSession, channel_id: UUID, lease_s: float) -> Row[Any] | None:
    """The channel's next due delivery, counted as an attempt and leased for ``lease_s``."""
    rows = await claim_many(session, channel_id, lease_s, 1)
    return rows[0] if rows else None


async def claim_many(session: AsyncSession, channel_id: UUID, lease_s: float, limit: int) -> list[Row[Any]]:
    """Up to ``limit`` of the channel's due deliveries, oldest first, each counted as an attempt
    and leased for ``lease_s``; rows another worker holds are skipped, not waited for."""
    next_due = (
        select(deliveries.c.id)
        .where(
            deliveries.c.channel_id == channel_id,
            deliveries.c.status.in_(_DUE),
            deliveries.c.next_attempt_at <= func.now(),
        )
        .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = await session.execute(
        update(deliveries)
        .where(deliveries.c.id.in_(next_due.scalar_subquery()))
        .values(
            status=DeliveryState.SENDING.value,
            attempts=deliveries.c.attempts + 1,
            next_attempt_at=func.now() + timedelta(seconds=lease_s),
            updated_at=func.now(),
        )
        .returning(deliveries)
    )
    return list(rows)


async def record_sent_many(session: AsyncSession, claims: list[Any]) -> dict[UUID, datetime]:
    """Sent, in one statement: when, per delivery whose claim still holds (a late worker whose
    lease was taken over records nothing)."""
    if not claims:
        return {}
    rows = await session.execute(
        update(deliveries)
        .where(
            deliveries.c.status == DeliveryState.SENDING.value,
            tuple_(deliveries.c.id, deliveries.c.attempts).in_([(c.id, c.attempts) for c in claims]),
        )
        .values(status=DeliveryState.SENT.value, sent_at=func.now(), last_error=None, updated_at=func.now())
        .returning(deliveries.c.id, deliveries.c.sent_at)
    )
    return {r.id: r.sent_at for r in rows}


def _current(claimed: Any) -> ColumnElement[bool]:
    """The claim still holds: a late worker whose lease was taken over changes nothing."""
    return and_(
        deliveries.c.id == claimed.id,
        deliveries.c.status == DeliveryState.SENDING.value,
        deliveries.c.attempts == claimed.attempts,
    )


async def record_retry(session: AsyncSession, claimed: Any, delay_s: float, error: str) -> None:
    await session.execute(
        update(deliveries)
        .where(_current(claimed))
        .values(
            status=DeliveryState.PENDING.value,
            next_attempt_at=func.now() + timedelta(seconds=delay_s),
            last_error=error,
            updated_at=func.now(),
        )
    )


async def record_failed(session: AsyncSession, claimed: Any, error: str) -> datetime | None:
    """Failed for good: when, or None when the claim no longer holds."""
    return await session.scalar(
        update(deliveries)
        .where(_current(claimed))
        .values(
            status=DeliveryState.FAILED.value, failed_at=func.now(), last_error=error, updated_at=func.now()
        )
        .returning(deliveries.c.failed_at)
    )


def _shown(row: Any) -> dict[str, Any]:
    return {k: row._mapping[k] for k in SHOWN}


async def get(session: AsyncSession, tenant_id: UUID, delivery_id: UUID) -> dict[str, Any]:
    return _shown(await get_or_404(session, deliveries, delivery_id, tenant_id, what="delivery"))


async def search(
    session: AsyncSession, tenant_id: UUID, *, filters: dict[str, Any], after: UUID | None, limit: int
) -> list[dict[str, Any]]:
    """The tenant's deliveries matching every non-null filter (column: value), newest first;
    ``after`` continues below that id."""
    conditions = [deliveries.c.tenant_id == tenant_id]
    conditions += [deliveries.c[column] == value for column, value in filters.items() if value is not None]
    if after is not None:
        conditions.append(deliveries.c.id < after)
    rows = await session.execute(
        select(*(deliveries.c[k] for k in SHOWN))
        .where(and_(*conditions))
        .order_by(deliveries.c.id.desc())
        .limit(limit)
    )
    return [dict(r._mapping) for r in rows]
