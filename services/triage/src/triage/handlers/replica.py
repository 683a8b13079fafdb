"""Triage's copies of directory's facts: components and the clients' contractual P1 terms."""

from __future__ import annotations

from uuid import UUID

from backbone.uow import UnitOfWork
from contracts.envelope import Envelope
from contracts.events import (
    ComponentRegistered,
    SubscriptionChanged,
)
from triage.adapters import incident as incident_store
from triage.adapters import replica
from triage.domain.incident import Component, Who
from triage.domain.severity import reassess
from triage.handlers.incident import apply


async def replicate_components(uow: UnitOfWork, batch: list[tuple[Envelope, ComponentRegistered]]) -> None:
    """Keep triage's copy of directory's components (newest event per component wins) and link
    incidents that were opened on one before it was known here."""
    latest: dict[UUID, Component] = {}
    for _, event in batch:  # in partition order, so the last one is the newest
        latest[event.component_id] = Component(
            id=event.component_id,
            tenant_id=event.tenant_id,
            client_id=event.client_id,
            vendor_id=event.vendor_id,
            business_critical=event.business_critical,
        )
    rows = list(latest.values())
    await replica.upsert_components(uow.session, rows)
    await replica.link_open_incidents(uow.session, rows)


async def replicate_subscriptions(uow: UnitOfWork, batch: list[tuple[Envelope, SubscriptionChanged]]) -> None:
    """Keep the clients' contractual P1 terms (newest event per client wins), and re-evaluate
    the not yet resolved incidents of a client whose terms changed."""
    latest: dict[UUID, tuple[Envelope, SubscriptionChanged]] = {}
    for envelope, event in batch:
        latest[event.client_id] = (envelope, event)
    await replica.upsert_subscriptions(
        uow.session,
        (
            {
                "client_id": e.client_id,
                "tenant_id": e.tenant_id,
                "tier": e.tier.value,
                "contractual_p1": e.contractual_p1,
            }
            for _, e in latest.values()
        ),
    )
    for envelope, event in latest.values():
        who = Who(via="system", caused_by=envelope)
        for found in await incident_store.lock_to_reassess(
            uow.session, event.tenant_id, event.client_id, event.contractual_p1
        ):
            outcome = reassess(
                found,
                uow.now,
                "the client's contractual P1 terms changed",
                contractual_p1=event.contractual_p1,
            )
            await apply(uow, outcome, who)
