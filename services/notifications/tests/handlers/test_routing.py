"""Routing events into deliveries, against the real database (no broker: the consumer's
handlers are called with the batch it would pass)."""

from __future__ import annotations

from uuid import uuid4

from sqlalchemy import func, select

from backbone.uow import UnitOfWork
from contracts.enums import CommunicationType, DeliveryMethod, DeliveryStatus, RecipientType
from contracts.envelope import Envelope
from contracts.events import CommunicationRecorded, NotificationFailed
from notifications.adapters.orm import deliveries
from notifications.adapters.templates import TemplateRunner
from notifications.handlers.routing import direct, router
from notifications.handlers.rules import create_rule

from .support import LINK, caller, emitted, incident, incident_event, webhook_channel, wrapped

RUNNER = TemplateRunner()  # the built-in templates render in-process; no tenant template here


async def _rows(uow: UnitOfWork, event_id):  # type: ignore[no-untyped-def]
    query = select(deliveries).where(deliveries.c.event_id == event_id)
    return list((await uow.session.execute(query)).all())


async def test_a_routable_event_becomes_one_delivery_per_rule_channel_once(uow: UnitOfWork) -> None:
    who = caller()
    channel_id = await webhook_channel(uow, who)
    values = {
        "name": "",
        "event_types": ["incident.created.v1"],
        "channel_ids": [channel_id],
        "user_ids": [],
        "roles": [],
        "event_targets": False,
        "enabled": True,
    }
    await create_rule(uow, who, values)
    envelope, created = incident_event(who.tenant_id)
    route = router(LINK, RUNNER).fn
    await route(uow, [(envelope, created)])
    await route(uow, [(envelope, created)])  # redelivered: nothing new
    (row,) = await _rows(uow, envelope.id)
    assert (row.channel_id, row.status, row.incident_id) == (channel_id, "pending", created.incident_id)
    assert Envelope.model_validate(row.message["envelope"]).id == envelope.id  # webhooks send the event
    assert row.next_attempt_at == await uow.session.scalar(select(func.now()))  # due at once
    other_tenant, _ = incident_event(uuid4())
    await route(uow, [(other_tenant, created)])  # a tenant without rules: no delivery
    assert await _rows(uow, other_tenant.id) == []


async def test_a_communication_no_channel_can_send_fails_at_once_and_says_why(uow: UnitOfWork, clock) -> None:  # type: ignore[no-untyped-def]
    who = caller()
    incident_id = await incident(uow, who.tenant_id)
    recorded = CommunicationRecorded(
        communication_id=uuid4(),
        incident_id=incident_id,
        sender_id=who.user_id,
        recipient_type=RecipientType.CLIENT,
        communication_type=CommunicationType.STATUS_UPDATE,
        delivery_method=DeliveryMethod.SMS,
        message="We are on it",
        sent_at=clock.now(),
        delivery_status=DeliveryStatus.PENDING,
    )
    envelope, _ = wrapped(recorded, who.tenant_id, source="notifications")
    await direct(LINK, RUNNER).fn(uow, [(envelope, recorded)])
    (row,) = await _rows(uow, envelope.id)
    assert (row.status, row.channel_kind, row.communication_id) == (
        "failed",
        "sms",
        recorded.communication_id,
    )
    (failed,) = emitted(uow, NotificationFailed)
    assert failed.channel_id is None and failed.method == DeliveryMethod.SMS
    assert failed.failed_at == clock.now()  # the service's clock, not the wall's
    assert "no channel of that kind" in failed.error
