"""SQL for silences (``intake.silences``) and what they held back (``intake.silenced_alerts``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.rows import get_or_404
from contracts.events import Matcher
from intake.adapters.orm import silenced_alerts, silences
from intake.domain.silences import Silence


def to_domain(row: Row[Any]) -> Silence:
    return Silence(
        id=row.id,
        matchers=tuple(Matcher.model_validate(m) for m in row.matchers),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        client_id=row.client_id,
    )


async def in_force(session: AsyncSession, tenant_id: UUID, now: datetime) -> list[Silence]:
    """The tenant's silences in force now, oldest first."""
    rows = await session.execute(
        select(silences)
        .where(silences.c.tenant_id == tenant_id, silences.c.starts_at <= now, silences.c.ends_at > now)
        .order_by(silences.c.created_at, silences.c.id)
    )
    return [to_domain(r) for r in rows]


async def count_silenced(
    session: AsyncSession, tenant_id: UUID, counts: Mapping[tuple[UUID, str], int], now: datetime
) -> None:
    if not counts:
        return
    stmt = pg_insert(silenced_alerts).values(
        [
            {
                "silence_id": silence_id,
                "dedup_key": key,
                "tenant_id": tenant_id,
                "alert_count": n,
                "first_seen_at": now,
                "last_seen_at": now,
            }
            for (silence_id, key), n in sorted(counts.items(), key=lambda kv: (str(kv[0][0]), kv[0][1]))
        ]
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["silence_id", "dedup_key"],
            set_={
                "alert_count": silenced_alerts.c.alert_count + stmt.excluded.alert_count,
                "last_seen_at": stmt.excluded.last_seen_at,
            },
        )
    )


async def silenced_counts(session: AsyncSession, silence_ids: list[UUID]) -> dict[UUID, tuple[int, int]]:
    """Per silence: (alerts held back, distinct dedup keys)."""
    if not silence_ids:
        return {}
    rows = await session.execute(
        select(
            silenced_alerts.c.silence_id,
            func.sum(silenced_alerts.c.alert_count),
            func.count(),
        )
        .where(silenced_alerts.c.silence_id.in_(silence_ids))
        .group_by(silenced_alerts.c.silence_id)
    )
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


async def add(session: AsyncSession, values: dict[str, Any]) -> Row[Any]:
    return (await session.execute(silences.insert().values(**values).returning(*silences.c))).one()


async def get(
    session: AsyncSession, tenant_id: UUID, silence_id: UUID, *, for_update: bool = False
) -> Row[Any]:
    """The tenant's silence, else 404 (another tenant's reads like an unknown one)."""
    return await get_or_404(session, silences, silence_id, tenant_id, what="silence", for_update=for_update)


async def of_tenant(
    session: AsyncSession, tenant_id: UUID, state: str | None, now: datetime
) -> list[Row[Any]]:
    """The tenant's silences, newest first (at most 1000), only those in ``state`` if given."""
    query = select(silences).where(silences.c.tenant_id == tenant_id)
    if state == "pending":
        query = query.where(silences.c.starts_at > now)
    elif state == "active":
        query = query.where(silences.c.starts_at <= now, silences.c.ends_at > now)
    elif state == "expired":
        query = query.where(silences.c.ends_at <= now)
    return list((await session.execute(query.order_by(silences.c.created_at.desc()).limit(1000))).all())


async def end(session: AsyncSession, silence_id: UUID, starts_at: datetime, now: datetime) -> Row[Any]:
    """The silence ends now (and starts no later than now)."""
    return (
        await session.execute(
            update(silences)
            .where(silences.c.id == silence_id)
            .values(ends_at=now, starts_at=starts_at, updated_at=now)
            .returning(*silences.c)
        )
    ).one()
