"""Recorded communications: record one (and queue its delivery), and move its status with the
delivery's outcome. The caller's unit of work commits."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.problems import Forbidden, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import (
    CommunicationType,
    DeliveryMethod,
    DeliveryStatus,
    RecipientType,
    Role,
    UserStatus,
)
from contracts.envelope import Envelope, new_id
from contracts.events import (
    CommunicationRecorded,
    CommunicationStatusChanged,
    NotificationFailed,
    NotificationSent,
)
from notifications.adapters import communications as communication_store
from notifications.adapters import incidents as incident_replica
from notifications.domain import communications as rules

# --------------------------------------------------------------------------- communications


def _user(row: Any) -> rules.User | None:
    if row is None:
        return None
    return rules.User(
        user_id=row.user_id,
        tenant_id=row.tenant_id,
        role=Role(row.role),
        status=UserStatus(row.status),
        client_id=row.client_id,
        vendor_id=row.vendor_id,
    )


async def record_communication(
    uow: UnitOfWork,
    caller: Principal,
    *,
    incident_id: UUID,
    recipient_user_id: UUID | None,
    recipient_type: RecipientType | None,
    communication_type: CommunicationType,
    delivery_method: DeliveryMethod,
    title: str,
    message: str,
) -> dict[str, Any]:
    """000 "Recording Communications": pre-checks (incident, sender, recipient), then the record
    with status pending and communication.recorded.v1, which the delivery router sends on."""
    incident = await incident_replica.visible(uow.session, caller, incident_id)
    try:
        rules.check_sender(
            _user(await communication_store.user(uow.session, caller.user_id)),
            user_id=caller.user_id,
            tenant_id=caller.tenant_id,
        )
    except rules.CommunicationRefused as refused:
        raise Forbidden(refused.detail) from refused
    recipient = (
        _user(await communication_store.user(uow.session, recipient_user_id)) if recipient_user_id else None
    )
    try:
        kind = rules.resolve_recipient(
            tenant_id=caller.tenant_id,
            incident=rules.IncidentLinks(incident.client_id, incident.vendor_id),
            recipient_user_id=recipient_user_id,
            recipient=recipient,
            recipient_type=recipient_type,
        )
    except rules.CommunicationRefused as refused:
        raise Unprocessable(refused.detail, field=refused.field) from refused
    communication_id = new_id()
    # The source's step 'Set sent timestamp to "2025-10-01T00:00:00"' is a placeholder literal
    # of the document; the record takes the real time it was recorded (and handed on to send).
    sent_at = uow.now
    status = DeliveryStatus.PENDING
    row = {
        "id": communication_id,
        "tenant_id": caller.tenant_id,
        "incident_id": incident_id,
        "sender_id": caller.user_id,
        "recipient_user_id": recipient_user_id,
        "recipient_type": kind.value,
        "communication_type": communication_type.value,
        "delivery_method": delivery_method.value,
        "title": title,
        "message": message,
        "sent_at": sent_at,
        "delivery_status": status.value,
    }
    await communication_store.add(uow.session, row)
    recorded = CommunicationRecorded.model_validate(row | {"communication_id": communication_id})
    uow.emit(recorded, tenant_id=caller.tenant_id, actor=caller.actor)
    return {"communication_id": communication_id, "delivery_status": status, "sent_at": sent_at}


async def apply_delivery_outcomes(
    uow: UnitOfWork, batch: list[tuple[Envelope, NotificationSent | NotificationFailed]]
) -> None:
    """The router's outcome of a communication's delivery moves its status forward (pending →
    sent or delivered, or failed with the error); communication.status_changed.v1 per move.
    Outcomes of other deliveries (rules, reminders) are not ours and are ignored."""
    wanted: dict[UUID, list[UUID]] = defaultdict(list)
    for envelope, e in batch:
        if e.communication_id is not None and envelope.tenantid is not None:
            wanted[envelope.tenantid].append(e.communication_id)
    current: dict[UUID, Any] = {}
    for tenant_id, ids in wanted.items():
        current |= await communication_store.lock(uow.session, tenant_id, ids)
    status: dict[UUID, DeliveryStatus] = {k: DeliveryStatus(v.delivery_status) for k, v in current.items()}
    for envelope, e in batch:
        row = current.get(e.communication_id) if e.communication_id else None
        if row is None or row.tenant_id != envelope.tenantid:
            continue
        if isinstance(e, NotificationSent):
            new, error, at = rules.status_after_sent(e.channel_kind), None, e.sent_at
        else:
            new, error, at = DeliveryStatus.FAILED, e.error, e.failed_at
        old = status[row.id]
        if not rules.moves_forward(old, new):
            continue
        status[row.id] = new
        await communication_store.set_status(
            uow.session,
            row.id,
            {"delivery_status": new.value, "delivery_error": error, "status_changed_at": at},
        )
        uow.emit(
            CommunicationStatusChanged(
                communication_id=row.id,
                incident_id=row.incident_id,
                from_status=old,
                to_status=new,
                error=error,
            ),
            tenant_id=row.tenant_id,
            caused_by=envelope,
        )
