"""Append every event to its tenant's log (one batch at a time), and sign checkpoints of the
logs that grew (docs/audit.md)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from audit.adapters import log as log_repo
from audit.domain import log, tlog
from audit.domain.checkpoint import Signer
from backbone.uow import UnitOfWork
from contracts.envelope import Envelope

PLATFORM = UUID(int=0)  # the log of events that belong to no tenant


async def record(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
    """Append events to their tenants' logs in the order received: per tenant per batch one
    head lock, one read of the tree's frontier, one insert of entries and one of hashes. An
    event the tenant's log holds already adds nothing."""
    by_tenant: dict[UUID, list[Envelope]] = defaultdict(list)
    for envelope, _ in events:
        by_tenant[envelope.tenantid or PLATFORM].append(envelope)
    sizes = await log_repo.lock_heads(uow.session, by_tenant, uow.now)
    for tenant_id in sorted(by_tenant):
        envelopes = by_tenant[tenant_id]
        seen = await log_repo.recorded(uow.session, tenant_id, [e.id for e in envelopes])
        fresh: list[Envelope] = []
        for envelope in envelopes:
            if envelope.id not in seen:
                seen.add(envelope.id)
                fresh.append(envelope)
        if not fresh:
            continue
        size = sizes[tenant_id]
        tree = await log_repo.frontier(uow.session, tenant_id, size)
        leaves = log.event_leaves(fresh, uow.now)
        stored = tree.extend(leaves)
        await log_repo.append(uow.session, tenant_id, size, leaves, stored, uow.now)


async def record_dead_letters(uow: UnitOfWork, letters: list[Envelope]) -> None:
    """Messages some service dead-lettered, appended like events (domain/log.py
    ``dead_letter``): a DLQ message read twice adds nothing, its id being its place in the DLQ."""
    await record(uow, [(letter, letter.data) for letter in letters])


async def sign_checkpoints(
    uow: UnitOfWork, now: datetime, signer: Signer, *, limit: int = 100, gap: timedelta = timedelta(0)
) -> int:
    """A new checkpoint for each log that grew since its latest one (or whose latest one an
    older key signed) and was not signed in the last ``gap``; how many were signed. Signs the
    committed heads without locking them: an append in flight is covered by the next round."""
    await log_repo.register_key(uow.session, signer.key_id, signer.public, now)
    due = await log_repo.due_heads(uow.session, signer.key_id, now, now - gap, limit)
    for head in due:
        hashes = await log_repo.hashes_at(uow.session, head.tenant_id, tlog.root_indexes(head.size))
        root = tlog.root(head.size, hashes)
        note = signer.sign(head.tenant_id, head.size, root)
        await log_repo.add_checkpoint(uow.session, head.tenant_id, head.size, root, note, signer.key_id, now)
    return len(due)
