"""Append every event to its tenant's hash chain (one batch at a time)."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

from audit.adapters import chain as chain_repo
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
        previous = await chain_repo.lock_head(uow.session, tenant_id, chain.GENESIS)
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
        seqs = await chain_repo.append(uow.session, rows)
        await chain_repo.move_head(uow.session, tenant_id, seqs[-1], previous)
