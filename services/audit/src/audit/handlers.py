"""Audit: append every event to its tenant's chain; query and verify the chain."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from audit.adapters.orm import audit_log, chain_heads
from audit.domain import chain
from backbone.uow import UnitOfWork
from contracts.envelope import Envelope, EventData

PLATFORM = UUID(int=0)


def _content(
    *,
    event_id: UUID,
    event_type: str,
    source: str,
    subject: str,
    actor: Any,
    occurred_at: datetime,
    data: Any,
) -> dict[str, Any]:
    """What the hash covers: the event's identity, who, when (in UTC), and its masked data."""
    return {
        "event_id": str(event_id),
        "event_type": event_type,
        "source": source,
        "subject": subject,
        "actor": actor,
        "occurred_at": occurred_at.astimezone(UTC).isoformat(),
        "data": data,
    }


async def record(uow: UnitOfWork, events: list[tuple[Envelope, EventData]]) -> None:
    """Append events to their tenants' chains, in the order received (set-based: one lock,
    one insert and one head update per tenant per batch)."""
    by_tenant: dict[UUID, list[Envelope]] = defaultdict(list)
    for envelope, _ in events:
        by_tenant[envelope.tenantid or PLATFORM].append(envelope)
    for tenant_id, envelopes in by_tenant.items():
        # Create the head if missing, then lock it: appends to one chain are serialized across
        # batches and replicas, and two first events can never both start from genesis.
        await uow.session.execute(
            pg_insert(chain_heads)
            .values(tenant_id=tenant_id, seq=0, hash=chain.GENESIS)
            .on_conflict_do_nothing(index_elements=["tenant_id"])
        )
        previous = (
            await uow.session.execute(
                select(chain_heads.c.hash).where(chain_heads.c.tenant_id == tenant_id).with_for_update()
            )
        ).scalar_one()
        rows = []
        for envelope in envelopes:
            data = chain.mask(envelope.data)
            actor = envelope.actor.model_dump(mode="json")
            content = _content(
                event_id=envelope.id,
                event_type=envelope.type,
                source=envelope.source,
                subject=envelope.subject,
                actor=actor,
                occurred_at=envelope.time,
                data=data,
            )
            digest = chain.entry_hash(previous, content)
            rows.append(
                {
                    "tenant_id": tenant_id,
                    "event_id": envelope.id,
                    "event_type": envelope.type,
                    "source": envelope.source,
                    "subject": envelope.subject,
                    "actor": actor,
                    "occurred_at": envelope.time,
                    "data": data,
                    "prev_hash": previous,
                    "hash": digest,
                }
            )
            previous = digest
        seqs = (
            await uow.session.scalars(
                insert(audit_log).returning(audit_log.c.seq, sort_by_parameter_order=True), rows
            )
        ).all()
        await uow.session.execute(
            update(chain_heads)
            .where(chain_heads.c.tenant_id == tenant_id)
            .values(seq=seqs[-1], hash=previous)
        )


def _public(row: Any) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "event_id": row.event_id,
        "event_type": row.event_type,
        "source": row.source,
        "subject": row.subject,
        "actor": row.actor,
        "occurred_at": row.occurred_at,
        "recorded_at": row.recorded_at,
        "data": row.data,
        "hash": row.hash,
    }


async def search(
    uow: UnitOfWork, *, tenant_id: UUID, subject: str | None, event_type: str | None, after: int, limit: int
) -> list[dict[str, Any]]:
    query = select(audit_log).where(audit_log.c.tenant_id == tenant_id, audit_log.c.seq > after)
    if subject:
        query = query.where(audit_log.c.subject == subject)
    if event_type:
        query = query.where(audit_log.c.event_type == event_type)
    rows = await uow.session.execute(query.order_by(audit_log.c.seq).limit(limit))
    return [_public(r) for r in rows]


async def verify(uow: UnitOfWork, *, tenant_id: UUID) -> dict[str, Any]:
    rows = await uow.session.execute(
        select(audit_log).where(audit_log.c.tenant_id == tenant_id).order_by(audit_log.c.seq)
    )
    entries = [
        (
            r.seq,
            r.prev_hash,
            r.hash,
            _content(
                event_id=r.event_id,
                event_type=r.event_type,
                source=r.source,
                subject=r.subject,
                actor=r.actor,
                occurred_at=r.occurred_at,
                data=r.data,
            ),
        )
        for r in rows
    ]
    broken = chain.verify(entries)
    return {
        "valid": broken is None,
        "entries": len(entries),
        "first_broken_seq": broken.seq if broken else None,
        "reason": broken.reason if broken else None,
    }
