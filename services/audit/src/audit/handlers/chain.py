"""Append every event to its tenant's hash chain (one batch at a time)."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from audit.adapters.orm import audit_log, chain_heads
from audit.domain import chain
from audit.domain.chain import entry_content
from backbone.uow import UnitOfWork
from contracts.envelope import Envelope, EventData

PLATFORM = UUID(int=0)


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
            content = entry_content(
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
