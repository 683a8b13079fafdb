"""Set-based SQL of the alert hot path (``intake.dedup_keys`` and ``intake.alerts``): a request's
alerts take a handful of statements whatever their number. Rows are written in key order so
two replicas upserting overlapping keys lock them in the same order (no deadlock cycle)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import and_, case, exists, literal_column, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import new_id
from intake.adapters.orm import alerts, dedup_keys

# A literal, not a bound parameter: PostgreSQL must match the partial index's predicate, which it
# cannot do for a parameter once a prepared statement runs as a generic plan.
OPEN = text("status = 'open'")
# Open keys with repeats no event has told of yet (the predicate of ix_dedup_keys_unannounced).
UNANNOUNCED = text("status = 'open' AND alert_count > announced_count")


@dataclass(frozen=True)
class KeyRow:
    id: UUID
    dedup_key: str
    incident_id: UUID
    alert_count: int
    opened: bool
    announce: bool = False  # a repeat to announce (AlertRepeated): the last was long enough ago


async def lock_open(session: AsyncSession, tenant_id: UUID, keys: Sequence[str]) -> dict[str, KeyRow]:
    """The open rows of these keys, locked (in key order) until the transaction ends."""
    rows = await session.execute(
        select(dedup_keys.c.id, dedup_keys.c.dedup_key, dedup_keys.c.incident_id, dedup_keys.c.alert_count)
        .where(dedup_keys.c.tenant_id == tenant_id, dedup_keys.c.dedup_key.in_(sorted(keys)), OPEN)
        .order_by(dedup_keys.c.dedup_key)
        .with_for_update()
    )
    return {r.dedup_key: KeyRow(r.id, r.dedup_key, r.incident_id, r.alert_count, False) for r in rows}


def _upsert_keys(repeat_every_s: float) -> Any:
    """The statement of ``open_or_bump``, built once per setting so SQLAlchemy compiles it once
    and runs it as one multi-row statement (insertmanyvalues) however many keys a request has."""
    stmt = pg_insert(dedup_keys)
    now = stmt.excluded.last_seen_at
    # A literal (from a float): the same SQL for every row and every request.
    due = dedup_keys.c.announced_at <= now - literal_column(f"interval '{float(repeat_every_s)} seconds'")
    count = dedup_keys.c.alert_count + stmt.excluded.alert_count
    return stmt.on_conflict_do_update(
        index_elements=["tenant_id", "dedup_key"],
        index_where=OPEN,
        set_={
            "alert_count": count,
            "last_seen_at": now,
            "announced_at": case((due, now), else_=dedup_keys.c.announced_at),
            "announced_count": case((due, count), else_=dedup_keys.c.announced_count),
        },
    ).returning(
        dedup_keys.c.id,
        dedup_keys.c.dedup_key,
        dedup_keys.c.incident_id,
        dedup_keys.c.alert_count,
        dedup_keys.c.announced_at,
        # xmax is 0 on a freshly inserted row, non-zero on an updated one.
        (literal_column("xmax") == 0).label("inserted"),
    )


_UPSERT_KEYS: dict[float, Any] = {}


async def open_or_bump(
    session: AsyncSession,
    tenant_id: UUID,
    integration_id: UUID,
    counts: dict[str, int],
    now: datetime,
    repeat_every: timedelta,
) -> dict[str, KeyRow]:
    """Open a row (and pre-allocate an incident id) for each key without an open one, or add
    the key's count of firing alerts to the open one. One statement for all the keys. A repeat
    is to be announced when the key's last announcement is at least ``repeat_every`` old."""
    if not counts:
        return {}
    seconds = repeat_every.total_seconds()
    stmt = _UPSERT_KEYS.get(seconds)
    if stmt is None:
        stmt = _UPSERT_KEYS.setdefault(seconds, _upsert_keys(seconds))
    rows = await session.execute(
        stmt,
        [
            {
                "id": new_id(),
                "tenant_id": tenant_id,
                "dedup_key": key,
                "incident_id": new_id(),
                "integration_id": integration_id,
                "alert_count": counts[key],
                "first_seen_at": now,
                "last_seen_at": now,
                # The report tells of the first alert: repeats wait for the interval from now.
                "announced_at": now,
                "announced_count": counts[key],
            }
            for key in sorted(counts)
        ],
    )
    return {
        r.dedup_key: KeyRow(
            r.id,
            r.dedup_key,
            r.incident_id,
            r.alert_count,
            bool(r.inserted),
            announce=not r.inserted and r.announced_at == now,
        )
        for r in rows
    }


_ALERTS = pg_insert(alerts)
# Only a change of status writes: a storm of repeats of a firing alert rewrites nothing.
_UPSERT_ALERTS = _ALERTS.on_conflict_do_update(
    index_elements=["dedup_id", "fingerprint"],
    set_={
        "status": _ALERTS.excluded.status,
        "changed_at": _ALERTS.excluded.changed_at,
        "ends_at": _ALERTS.excluded.ends_at,
        "labels": _ALERTS.excluded.labels,
    },
    where=alerts.c.status != _ALERTS.excluded.status,
)


async def record_alerts(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Upsert one row per (dedup row, fingerprint) with its latest status."""
    if not rows:
        return
    await session.execute(_UPSERT_ALERTS, sorted(rows, key=lambda r: (str(r["dedup_id"]), r["fingerprint"])))


async def resolve_quiet(
    session: AsyncSession, ids: Sequence[UUID], now: datetime
) -> list[tuple[UUID, str, UUID]]:
    """Close the open rows among ``ids`` none of whose alerts is still firing; (id, key, incident)."""
    if not ids:
        return []
    firing = exists().where(and_(alerts.c.dedup_id == dedup_keys.c.id, alerts.c.status == "firing"))
    rows = await session.execute(
        update(dedup_keys)
        .where(dedup_keys.c.id.in_(ids), dedup_keys.c.status == "open", ~firing)
        .values(status="resolved", closed_at=now)
        .returning(dedup_keys.c.id, dedup_keys.c.dedup_key, dedup_keys.c.incident_id)
    )
    return [(r.id, r.dedup_key, r.incident_id) for r in rows]


async def acknowledge(session: AsyncSession, tenant_id: UUID, key: str, now: datetime) -> UUID | None:
    """Mark the key's open incident acknowledged, once; its incident id when it changed."""
    return await session.scalar(
        update(dedup_keys)
        .where(
            dedup_keys.c.tenant_id == tenant_id,
            dedup_keys.c.dedup_key == key,
            dedup_keys.c.status == "open",
            dedup_keys.c.acknowledged_at.is_(None),
        )
        .values(acknowledged_at=now)
        .returning(dedup_keys.c.incident_id)
    )


async def close_for_incidents(
    session: AsyncSession, incidents: Sequence[tuple[UUID, UUID]], now: datetime
) -> int:
    """Close the open rows of these (tenant, incident) pairs: the incident was resolved or
    closed in triage, so the next alert with the key opens a new one."""
    if not incidents:
        return 0

    result = await session.execute(
        update(dedup_keys)
        .where(
            tuple_(dedup_keys.c.tenant_id, dedup_keys.c.incident_id).in_(sorted(set(incidents))),
            dedup_keys.c.status == "open",
        )
        .values(status="closed", closed_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def unannounced(
    session: AsyncSession, now: datetime, repeat_every: timedelta, limit: int = 500
) -> list[Any]:
    """Open keys with repeats not yet announced whose last announcement is at least
    ``repeat_every`` old, locked (rows another replica holds are skipped), and marked announced."""
    rows = (
        await session.execute(
            select(
                dedup_keys.c.id,
                dedup_keys.c.tenant_id,
                dedup_keys.c.dedup_key,
                dedup_keys.c.incident_id,
                dedup_keys.c.alert_count,
                dedup_keys.c.last_seen_at,
            )
            .where(UNANNOUNCED, dedup_keys.c.announced_at <= now - repeat_every)
            .order_by(dedup_keys.c.announced_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if rows:
        await session.execute(
            update(dedup_keys)
            .where(dedup_keys.c.id.in_([r.id for r in rows]))
            .values(announced_at=now, announced_count=dedup_keys.c.alert_count)
        )
    return list(rows)
