"""Set-based SQL of the alert hot path (``intake.dedup_keys`` and ``intake.alerts``): a request's
alerts take a handful of statements whatever their number. Rows are written in key order so
two replicas upserting overlapping keys lock them in the same order (no deadlock cycle)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from uuid import UUID

from pydantic_core import to_json
from sqlalchemy import TextClause, and_, exists, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.timers import claim_due
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


@lru_cache(maxsize=8)
def _upsert_keys(repeat_every_s: float) -> TextClause:
    """The statement of ``open_or_bump``, built once per setting. The keys come as arrays
    (unnest), so it is one prepared statement whatever the number of keys: a multi-row VALUES
    has another text (another parse and plan) for every count of rows."""
    # A literal (from a float): the same SQL for every request.
    due = f"d.announced_at <= excluded.last_seen_at - interval '{float(repeat_every_s)} seconds'"
    return text(
        f"""
        INSERT INTO {dedup_keys.fullname} AS d (id, tenant_id, dedup_key, incident_id, integration_id,
            alert_count, first_seen_at, last_seen_at, announced_at, announced_count)
        SELECT u.id, CAST(:tenant_id AS uuid), u.dedup_key, u.incident_id, CAST(:integration_id AS uuid),
            u.alert_count, CAST(:now AS timestamptz), CAST(:now AS timestamptz), CAST(:now AS timestamptz),
            u.alert_count
        FROM unnest(CAST(:ids AS uuid[]), CAST(:keys AS text[]), CAST(:incident_ids AS uuid[]),
            CAST(:counts AS integer[])) WITH ORDINALITY AS u(id, dedup_key, incident_id, alert_count, n)
        ORDER BY u.n
        ON CONFLICT (tenant_id, dedup_key) WHERE status = 'open' DO UPDATE SET
            alert_count = d.alert_count + excluded.alert_count,
            last_seen_at = excluded.last_seen_at,
            announced_at = CASE WHEN {due} THEN excluded.last_seen_at ELSE d.announced_at END,
            announced_count = CASE WHEN {due} THEN d.alert_count + excluded.alert_count
                ELSE d.announced_count END
        RETURNING d.id, d.dedup_key, d.incident_id, d.alert_count, d.announced_count, (d.xmax = 0) AS inserted
        """
    )


async def open_or_bump(
    session: AsyncSession,
    tenant_id: UUID,
    integration_id: UUID,
    counts: dict[str, int],
    now: datetime,
    repeat_every: timedelta,
) -> dict[str, KeyRow]:
    """Open a row (and pre-allocate an incident id) for each key without an open one, or add
    the key's count of firing alerts to the open one. One statement for all the keys, written
    in key order. A repeat is to be announced when the key's last announcement is at least
    ``repeat_every`` old."""
    if not counts:
        return {}
    keys = sorted(counts)
    rows = await session.execute(
        _upsert_keys(repeat_every.total_seconds()),
        {
            "tenant_id": tenant_id,
            "integration_id": integration_id,
            # The report tells of the first alert: repeats wait for the interval from now.
            "now": now,
            "ids": [new_id() for _ in keys],
            "keys": keys,
            "incident_ids": [new_id() for _ in keys],
            "counts": [counts[key] for key in keys],
        },
    )
    return {
        r.dedup_key: KeyRow(
            r.id,
            r.dedup_key,
            r.incident_id,
            r.alert_count,
            bool(r.inserted),
            # Announced by this statement: the count told caught up with the count seen (a
            # repeat not yet due leaves it behind). Not by comparing times: two requests of one
            # instant (a clock tests hold still) would both look announced.
            announce=not r.inserted and r.announced_count == r.alert_count,
        )
        for r in rows
    }


# Only a change of status writes: a storm of repeats of a firing alert rewrites nothing. Arrays
# (unnest) for one prepared statement whatever the number of rows, as above.
_UPSERT_ALERTS = text(
    f"""
    INSERT INTO {alerts.fullname} AS a (id, tenant_id, incident_id, dedup_id, source, fingerprint, status,
        labels, starts_at, ends_at, changed_at)
    SELECT u.id, CAST(:tenant_id AS uuid), u.incident_id, u.dedup_id, u.source, u.fingerprint, u.status,
        CAST(u.labels AS jsonb), u.starts_at, u.ends_at, CAST(:now AS timestamptz)
    FROM unnest(CAST(:ids AS uuid[]), CAST(:incident_ids AS uuid[]), CAST(:dedup_ids AS uuid[]),
        CAST(:sources AS text[]), CAST(:fingerprints AS text[]), CAST(:statuses AS text[]),
        CAST(:labels AS text[]), CAST(:starts_at AS timestamptz[]), CAST(:ends_at AS timestamptz[]))
        WITH ORDINALITY AS u(id, incident_id, dedup_id, source, fingerprint, status, labels, starts_at,
            ends_at, n)
    ORDER BY u.n
    ON CONFLICT (dedup_id, fingerprint) DO UPDATE SET
        status = excluded.status,
        changed_at = excluded.changed_at,
        ends_at = excluded.ends_at,
        labels = excluded.labels
    WHERE a.status <> excluded.status
    """
)


async def record_alerts(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Upsert one row per (dedup row, fingerprint) with its latest status (in that order). Every
    row is of one tenant and one time (``tenant_id``, ``changed_at``)."""
    if not rows:
        return
    ordered = sorted(rows, key=lambda r: (str(r["dedup_id"]), r["fingerprint"]))
    first = ordered[0]
    if any(r["tenant_id"] != first["tenant_id"] or r["changed_at"] != first["changed_at"] for r in ordered):
        raise ValueError("record_alerts takes the rows of one tenant and one time")
    await session.execute(
        _UPSERT_ALERTS,
        {
            "tenant_id": first["tenant_id"],
            "now": first["changed_at"],
            "ids": [r["id"] for r in ordered],
            "incident_ids": [r["incident_id"] for r in ordered],
            "dedup_ids": [r["dedup_id"] for r in ordered],
            "sources": [r["source"] for r in ordered],
            "fingerprints": [r["fingerprint"] for r in ordered],
            "statuses": [r["status"] for r in ordered],
            # pydantic-core's encoder: a tenth of json.dumps's time per label set.
            "labels": [to_json(r["labels"]).decode() for r in ordered],
            "starts_at": [r["starts_at"] for r in ordered],
            "ends_at": [r["ends_at"] for r in ordered],
        },
    )


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
) -> None:
    """Close the open rows of these (tenant, incident) pairs: the incident was resolved or
    closed in triage, so the next alert with the key opens a new one."""
    if not incidents:
        return
    await session.execute(
        update(dedup_keys)
        .where(
            tuple_(dedup_keys.c.tenant_id, dedup_keys.c.incident_id).in_(sorted(set(incidents))),
            dedup_keys.c.status == "open",
        )
        .values(status="closed", closed_at=now)
    )


async def unannounced(
    session: AsyncSession, now: datetime, repeat_every: timedelta, limit: int = 500
) -> list[Any]:
    """Open keys with repeats not yet announced whose last announcement is at least
    ``repeat_every`` old, locked (rows another replica holds are skipped), and marked announced."""
    rows = await claim_due(
        session,
        dedup_keys,
        now=now - repeat_every,
        due=dedup_keys.c.announced_at,
        pending=[and_(UNANNOUNCED)],
        limit=limit,
    )
    if rows:
        await session.execute(
            update(dedup_keys)
            .where(dedup_keys.c.id.in_([r.id for r in rows]))
            .values(announced_at=now, announced_count=dedup_keys.c.alert_count)
        )
    return list(rows)
