"""The subscription replica: directory's subscription.changed.v1, newest per client wins."""

from __future__ import annotations

from backbone.uow import UnitOfWork
from contracts.envelope import Envelope
from contracts.events import SubscriptionChanged
from sla.adapters import subscription as replica


async def replicate_subscriptions(uow: UnitOfWork, batch: list[tuple[Envelope, SubscriptionChanged]]) -> None:
    await replica.upsert(
        uow.session,
        ({"client_id": e.client_id, "tenant_id": e.tenant_id, "tier": e.tier.value} for _, e in batch),
    )
