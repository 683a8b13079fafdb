"""Triage's copies of directory's facts: components and the clients' contractual P1 terms."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from backbone.uow import UnitOfWork
from contracts.envelope import Envelope
from contracts.events import (
    ComponentRegistered,
    SubscriptionChanged,
)
from triage.adapters import components as component_replica
from triage.adapters.orm import (
    client_subscriptions,
    incidents,
)
from triage.domain.incident import Component
from triage.domain.lifecycle import CLOSED, RESOLVED
from triage.handlers.edits import (
    Edit,
    Who,
    _emit_triaged,
    _reclassify,
    _save,
)


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
    await component_replica.upsert(uow.session, rows)
    await component_replica.link_open_incidents(uow.session, rows)


async def replicate_subscriptions(uow: UnitOfWork, batch: list[tuple[Envelope, SubscriptionChanged]]) -> None:
    """Keep the clients' contractual P1 terms (newest event per client wins), and re-evaluate
    the not yet resolved incidents of a client whose terms changed."""
    latest: dict[UUID, tuple[Envelope, SubscriptionChanged]] = {}
    for envelope, event in batch:
        latest[event.client_id] = (envelope, event)
    stmt = insert(client_subscriptions).values(
        [
            {
                "client_id": e.client_id,
                "tenant_id": e.tenant_id,
                "tier": e.tier.value,
                "contractual_p1": e.contractual_p1,
            }
            for _, e in latest.values()
        ]
    )
    await uow.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["client_id"],
            set_={
                "tier": stmt.excluded.tier,
                "contractual_p1": stmt.excluded.contractual_p1,
                "updated_at": func.now(),
            },
            where=client_subscriptions.c.tenant_id == stmt.excluded.tenant_id,
        )
    )
    for envelope, event in latest.values():
        rows = (
            await uow.session.execute(
                select(incidents)
                .where(
                    incidents.c.tenant_id == event.tenant_id,
                    incidents.c.client_id == event.client_id,
                    incidents.c.contractual_p1.is_not(event.contractual_p1),
                    incidents.c.status.not_in([RESOLVED, CLOSED]),
                    incidents.c.deleted_at.is_(None),
                )
                .with_for_update()
            )
        ).mappings()
        who = Who(via="system", caused_by=envelope)
        for row in rows.all():
            edit = Edit(dict(row))
            edit.set("contractual_p1", event.contractual_p1)
            _reclassify(edit)
            changes = await _save(uow, edit, who, note="the client's contractual P1 terms changed")
            _emit_triaged(uow, edit, changes, who)
