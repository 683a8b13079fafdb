"""SQL of automatic escalation: policies, one running escalation per incident (which is also
its timer row), and the history of pages (tables in adapters/orm.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.timers import claim_due
from contracts.enums import Severity
from contracts.events import IncidentEscalated
from triage.adapters.orm import escalation_policies, escalation_steps, escalations, incidents, principals
from triage.domain.escalation import Level, Policy, Run
from triage.domain.incident import Incident

RUNNING, STOPPED, COMPLETED = "running", "stopped", "completed"

# --------------------------------------------------------------------------- mapping


def levels_json(levels: Iterable[Level]) -> list[dict[str, Any]]:
    return [
        {
            "user_ids": [str(u) for u in lv.user_ids],
            "roles": list(lv.roles),
            "delay_minutes": lv.delay_minutes,
        }
        for lv in levels
    ]


def levels_of(value: Sequence[dict[str, Any]]) -> tuple[Level, ...]:
    return tuple(
        Level(tuple(UUID(u) for u in lv.get("user_ids", ())), tuple(lv.get("roles", ())), lv["delay_minutes"])
        for lv in value
    )


def policy_of(row: Row[Any]) -> Policy:
    return Policy(
        id=row.id,
        name=row.name,
        levels=levels_of(row.levels),
        loops=row.loops,
        client_id=row.client_id,
        min_severity=Severity(row.min_severity) if row.min_severity else None,
    )


def run_of_row(row: Row[Any]) -> Run:
    values = {f.name: row._mapping[f.name] for f in fields(Run) if f.name != "levels"}
    return Run(**values, levels=levels_of(row.levels))


# --------------------------------------------------------------------------- queries


async def started(session: AsyncSession, incident_ids: Iterable[UUID]) -> set[UUID]:
    """Those of the incidents whose escalation has started."""
    found = await session.scalars(
        select(escalations.c.incident_id).where(escalations.c.incident_id.in_(list(incident_ids)))
    )
    return set(found.all())


async def claim_due_runs(session: AsyncSession, now: datetime, limit: int) -> list[Run]:
    """Running escalations whose next step is due, claimed (SKIP LOCKED) for this transaction."""
    rows = await claim_due(
        session,
        escalations,
        now=now,
        due=escalations.c.next_due_at,
        pending=[escalations.c.status == RUNNING],
        limit=limit,
    )
    return [run_of_row(r) for r in rows]


async def insert_runs(session: AsyncSession, runs: list[dict[str, Any]]) -> None:
    await session.execute(insert(escalations), runs)


async def update_run(session: AsyncSession, incident_id: UUID, values: dict[str, Any]) -> None:
    await session.execute(
        update(escalations)
        .where(escalations.c.incident_id == incident_id)
        .values(**values, updated_at=func.now())
    )


async def stop(session: AsyncSession, incident_ids: set[UUID], reason: str) -> None:
    """Stop the incidents' running escalations."""
    await session.execute(
        update(escalations)
        .where(escalations.c.incident_id.in_(incident_ids), escalations.c.status == RUNNING)
        .values(status=STOPPED, stop_reason=reason, next_due_at=None, updated_at=func.now())
    )


async def stop_reopened(session: AsyncSession, incident_id: UUID, status: str) -> None:
    """Stop the incident's escalation started by a reopen once its status is no longer the one
    the reopen left."""
    await session.execute(
        update(escalations)
        .where(
            escalations.c.incident_id == incident_id,
            escalations.c.status == RUNNING,
            escalations.c.reopened_status.is_not(None),
            escalations.c.reopened_status != status,
        )
        .values(status=STOPPED, stop_reason="acknowledged", next_due_at=None, updated_at=func.now())
    )


async def policies_of(session: AsyncSession, tenant_ids: Iterable[UUID]) -> dict[UUID, list[Policy]]:
    wanted = set(tenant_ids)
    found: dict[UUID, list[Policy]] = {t: [] for t in wanted}
    if wanted:
        rows = await session.execute(
            select(escalation_policies).where(escalation_policies.c.tenant_id.in_(wanted))
        )
        for row in rows:
            found[row.tenant_id].append(policy_of(row))
    return found


async def incident_rows(session: AsyncSession, ids: Iterable[UUID]) -> dict[UUID, Incident]:
    """The incidents' current state: headline fields and what stops an escalation."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.execute(select(incidents).where(incidents.c.id.in_(wanted)))
    return {r["id"]: Incident.of(r) for r in rows.mappings()}


async def locked_run(session: AsyncSession, incident_id: UUID) -> Run | None:
    """The incident's escalation, locked until the transaction ends: the timer loop skips it
    meanwhile, so a step is never fired and changed at once."""
    row = (
        await session.execute(
            select(escalations).where(escalations.c.incident_id == incident_id).with_for_update()
        )
    ).first()
    return run_of_row(row) if row else None


async def record_steps(session: AsyncSession, rows: list[dict[str, Any]]) -> set[UUID]:
    """Write pages to the history; the ids of those written. A page already written (a
    redelivered event, a second replica) is left out: nothing must be emitted for it."""
    if not rows:
        return set()
    inserted = await session.scalars(
        insert(escalation_steps)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["incident_id", "dedupe_key"])
        .returning(escalation_steps.c.id)
    )
    return set(inserted.all())


async def unknown_users(session: AsyncSession, tenant_id: UUID, user_ids: Iterable[UUID]) -> list[UUID]:
    """Those of ``user_ids`` that are not users of the tenant (in the users replica)."""
    wanted = set(user_ids)
    if not wanted:
        return []
    known = set(
        (
            await session.scalars(
                select(principals.c.user_id).where(
                    principals.c.tenant_id == tenant_id, principals.c.user_id.in_(wanted)
                )
            )
        ).all()
    )
    return sorted(wanted - known, key=str)


async def history(session: AsyncSession, tenant_id: UUID, incident_id: UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(escalation_steps)
        .where(escalation_steps.c.tenant_id == tenant_id, escalation_steps.c.incident_id == incident_id)
        .order_by(escalation_steps.c.fired_at, escalation_steps.c.id)
    )
    return [dict(r) for r in rows.mappings()]


async def run_of(session: AsyncSession, tenant_id: UUID, incident_id: UUID) -> dict[str, Any] | None:
    row = (
        (
            await session.execute(
                select(escalations).where(
                    escalations.c.tenant_id == tenant_id, escalations.c.incident_id == incident_id
                )
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def record_manual(session: AsyncSession, tenant_id: UUID, event: IncidentEscalated) -> None:
    """Keep a person's escalation (an IncidentEscalated with trigger manual) in the history."""
    await session.execute(
        insert(escalation_steps)
        .values(
            id=event.escalation_id,
            tenant_id=tenant_id,
            incident_id=event.incident_id,
            dedupe_key=f"manual:{event.escalation_id}",
            trigger=event.trigger.value,
            cause=event.cause,
            policy_id=event.policy_id,
            level=event.level,
            loop=event.loop,
            target_user_ids=[str(u) for u in event.target_user_ids],
            target_roles=list(event.target_roles),
            reason=event.reason,
            fired_at=event.escalated_at,
        )
        .on_conflict_do_nothing()
    )
