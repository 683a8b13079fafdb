"""Triage's copies of directory's facts, against the real database without the broker."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

from sqlalchemy import select

from backbone.uow import UnitOfWork
from contracts.enums import SubscriptionTier
from contracts.events import ComponentRegistered, IncidentTriaged, SubscriptionChanged
from triage.adapters.orm import client_subscriptions, components
from triage.handlers.replica import replicate_components, replicate_subscriptions

from .support import emitted, opened, records, row, wrapped


def terms(client_id: object, tenant_id: object, contractual_p1: bool) -> SubscriptionChanged:
    return SubscriptionChanged(
        client_id=client_id,
        tenant_id=tenant_id,
        tier=SubscriptionTier.PREMIUM,
        contractual_p1=contractual_p1,
        valid_from=date(2026, 1, 1),
    )


async def test_new_contractual_p1_terms_reassess_the_clients_open_incidents(uow: UnitOfWork) -> None:
    tenant_id, client_id = uuid4(), uuid4()
    incident_id = await opened(uow, tenant_id, client_id=client_id)
    envelope, event = wrapped(terms(client_id, tenant_id, True), tenant_id, "directory")
    await replicate_subscriptions(uow, [(envelope, event)])

    saved = await row(uow, incident_id)
    assert (saved["contractual_p1"], saved["severity"], saved["priority"]) == (True, "P1", "critical")
    (triaged,) = emitted(uow, IncidentTriaged)
    assert triaged.severity_flags["p1_priority_customer_or_recurrent"] is True
    (caused,) = [e for e in uow.emitted if e.type == IncidentTriaged.event_type]
    assert caused.causationid == envelope.id
    assert {r["via"] for r in await records(uow, incident_id)} == {"system"}


async def test_another_tenants_event_never_takes_a_subscription_over(uow: UnitOfWork) -> None:
    tenant_id, client_id = uuid4(), uuid4()
    await replicate_subscriptions(uow, [wrapped(terms(client_id, tenant_id, False), tenant_id, "directory")])
    hostile = uuid4()
    await replicate_subscriptions(uow, [wrapped(terms(client_id, hostile, True), hostile, "directory")])
    kept = (
        (
            await uow.session.execute(
                select(client_subscriptions).where(client_subscriptions.c.client_id == client_id)
            )
        )
        .mappings()
        .one()
    )
    assert (kept["tenant_id"], kept["contractual_p1"]) == (tenant_id, False)


async def test_a_component_known_late_links_the_incidents_opened_on_it(uow: UnitOfWork) -> None:
    tenant_id, client_id, vendor_id, component_id = uuid4(), uuid4(), uuid4(), uuid4()
    incident_id = await opened(uow, tenant_id, component_id=component_id)
    assert (await row(uow, incident_id))["vendor_id"] is None
    older = ComponentRegistered(
        component_id=component_id,
        tenant_id=tenant_id,
        client_id=client_id,
        name="db",
        business_critical=False,
    )
    newer = older.model_copy(update={"vendor_id": vendor_id, "business_critical": True})
    await replicate_components(
        uow, [wrapped(older, tenant_id, "directory"), wrapped(newer, tenant_id, "directory")]
    )

    saved = await row(uow, incident_id)
    assert (saved["client_id"], saved["vendor_id"]) == (client_id, vendor_id)
    kept = (
        (await uow.session.execute(select(components).where(components.c.id == component_id)))
        .mappings()
        .one()
    )
    assert (kept["vendor_id"], kept["business_critical"]) == (vendor_id, True)  # the newest wins
