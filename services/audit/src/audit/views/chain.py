"""Reads of the audit log: search it, and verify a tenant's chain."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select

from audit.adapters.orm import audit_log
from audit.domain import chain
from audit.domain.chain import entry_content
from backbone.uow import UnitOfWork


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
            entry_content(
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
