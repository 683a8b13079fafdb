"""Recording communications and moving their status, against the real database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import select

from backbone.problems import NotFound
from backbone.uow import UnitOfWork
from contracts.enums import ChannelKind, CommunicationType, DeliveryMethod, DeliveryStatus, RecipientType
from contracts.events import CommunicationRecorded, CommunicationStatusChanged, NotificationSent
from notifications.adapters.communications import communications
from notifications.handlers.communications import apply_delivery_outcomes, record_communication

from .support import caller, emitted, incident, user, wrapped

MESSAGE: dict[str, Any] = {
    "recipient_user_id": None,
    "recipient_type": RecipientType.INTERNAL,
    "communication_type": CommunicationType.STATUS_UPDATE,
    "delivery_method": DeliveryMethod.EMAIL,
    "title": "Update",
    "message": "Disk replaced",
}


async def test_a_communication_is_recorded_at_the_services_time(uow: UnitOfWork, clock) -> None:  # type: ignore[no-untyped-def]
    tenant = uuid4()
    who = caller(tenant, user_id=await user(uow, tenant))
    with pytest.raises(NotFound, match="no incident"):
        await record_communication(uow, who, incident_id=uuid4(), **MESSAGE)
    elsewhere = await incident(uow, uuid4())
    with pytest.raises(NotFound, match=f"no incident {elsewhere}"):
        await record_communication(uow, who, incident_id=elsewhere, **MESSAGE)
    incident_id = await incident(uow, tenant)
    clock.advance(minutes=7)  # read when the unit of work began: the record keeps that instant
    result = await record_communication(uow, who, incident_id=incident_id, **MESSAGE)
    assert result["sent_at"] == uow.now != clock.now()
    row = (
        await uow.session.execute(
            select(communications).where(communications.c.id == result["communication_id"])
        )
    ).one()
    assert (row.sent_at, row.delivery_status, row.sender_id) == (uow.now, "pending", who.user_id)
    (event,) = emitted(uow, CommunicationRecorded)
    assert (event.communication_id, event.sent_at) == (result["communication_id"], uow.now)


async def test_a_delivery_outcome_moves_its_own_tenants_communication_forward_once(uow: UnitOfWork) -> None:
    tenant = uuid4()
    who = caller(tenant, user_id=await user(uow, tenant))
    recorded = await record_communication(uow, who, incident_id=await incident(uow, tenant), **MESSAGE)
    sent = NotificationSent(
        delivery_id=uuid4(),
        channel_id=uuid4(),
        channel_kind=ChannelKind.EMAIL,
        source_event_id=uuid4(),
        source_event_type=CommunicationRecorded.event_type,
        communication_id=recorded["communication_id"],
        attempts=1,
        sent_at=uow.now + timedelta(seconds=3),
    )
    forged = wrapped(sent, uuid4(), source="notifications")  # another tenant's outcome
    await apply_delivery_outcomes(uow, [forged])
    assert emitted(uow, CommunicationStatusChanged) == []
    ours = wrapped(sent, tenant, source="notifications")
    await apply_delivery_outcomes(uow, [ours, ours])
    (moved,) = emitted(uow, CommunicationStatusChanged)
    assert (moved.from_status, moved.to_status) == (DeliveryStatus.PENDING, DeliveryStatus.SENT)
    status = await uow.session.scalar(
        select(communications.c.delivery_status).where(communications.c.id == recorded["communication_id"])
    )
    assert status == "sent"
