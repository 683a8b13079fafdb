"""Handlers of recorded communications (000) and incident reminders (004): one function per
command, event and timer; the caller's unit of work commits (the TimerLoop's for timers)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.consumer import Batched, Handler, batched
from backbone.problems import Conflict, Forbidden, NotFound, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import (
    CommunicationType,
    DeliveryMethod,
    DeliveryStatus,
    RecipientType,
    ReminderChannel,
    Role,
    UserStatus,
)
from contracts.envelope import Envelope, known_event_types, new_id
from contracts.events import (
    CommunicationRecorded,
    CommunicationStatusChanged,
    IncidentDeleted,
    NotificationFailed,
    NotificationSent,
    ReminderCancelled,
    ReminderDispatched,
    ReminderScheduled,
)
from contracts.events.incident import IncidentEvent
from notifications.adapters import communications as communication_store
from notifications.adapters import incidents as incident_replica
from notifications.adapters import reminders as reminder_store
from notifications.domain import communications as rules
from notifications.domain import reminders as reminder_rules
from notifications.domain.reminders import ReminderStatus

# --------------------------------------------------------------------------- incident replica

# Every incident event carries the headline, so each keeps the replica fresh.
INCIDENT_EVENT_TYPES = sorted(t for t, cls in known_event_types().items() if issubclass(cls, IncidentEvent))


async def replicate_incidents(uow: UnitOfWork, batch: list[tuple[Envelope, IncidentEvent]]) -> None:
    """Keep the headline of each incident (the batch is in partition order: the last wins)."""
    latest: dict[UUID, dict[str, Any]] = {}
    for envelope, e in batch:
        if envelope.tenantid is None:
            continue  # incident events always carry a tenant; nothing to key a row on otherwise
        latest[e.incident_id] = {
            "id": e.incident_id,
            "tenant_id": envelope.tenantid,
            "reference_code": e.reference_code,
            "title": e.title[:300],
            "severity": e.severity.value,
            "status": e.status,
            "client_id": e.client_id,
            "vendor_id": e.vendor_id,
            "deleted_at": e.deleted_at if isinstance(e, IncidentDeleted) else None,
        }
    await incident_replica.upsert(uow.session, latest.values())


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
    now: datetime,
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
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
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
    sent_at = now
    status = DeliveryStatus.PENDING
    await communication_store.insert(
        uow.session,
        {
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
        },
    )
    uow.emit(
        CommunicationRecorded(
            communication_id=communication_id,
            incident_id=incident_id,
            sender_id=caller.user_id,
            recipient_user_id=recipient_user_id,
            recipient_type=kind,
            communication_type=communication_type,
            delivery_method=delivery_method,
            title=title,
            message=message,
            sent_at=sent_at,
            delivery_status=status,
        ),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )
    return {"communication_id": communication_id, "delivery_status": status, "sent_at": sent_at}


async def get_communication(uow: UnitOfWork, caller: Principal, communication_id: UUID) -> dict[str, Any]:
    row = await communication_store.get(uow.session, caller, communication_id)
    if row is None:
        raise NotFound(f"no communication {communication_id}")
    return row


async def list_communications(
    uow: UnitOfWork, caller: Principal, *, incident_id: UUID | None, after: UUID | None, limit: int
) -> list[dict[str, Any]]:
    return await communication_store.search(
        uow.session, caller, incident_id=incident_id, after=after, limit=limit
    )


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


# --------------------------------------------------------------------------- reminders


async def schedule_reminder(
    uow: UnitOfWork,
    caller: Principal,
    *,
    now: datetime,
    incident_id: UUID,
    reminder_type: str,
    scheduled_for: datetime,
    channel: ReminderChannel,
    user_ids: list[UUID] | None,
    metadata: dict[str, Any],
) -> dict[str, Any]:
    """004 incident_reminders: a timer row due at ``scheduled_for``, for the named users (the
    caller when none are named)."""
    incident = await incident_replica.visible(uow.session, caller, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    if reminder_rules.incident_finished(incident.status, deleted=False):
        raise Conflict(f"incident {incident_id} is {incident.status}: no reminder can fire for it")
    try:
        reminder_rules.check_schedule(scheduled_for, now)
    except reminder_rules.ReminderRefused as refused:
        raise Unprocessable(refused.detail, field=refused.field) from refused
    recipients = list(dict.fromkeys(user_ids)) if user_ids else [caller.user_id]
    known = await communication_store.users(uow.session, recipients)
    for user_id in recipients:
        row = known.get(user_id)
        if row is None or row.tenant_id != caller.tenant_id:
            raise Unprocessable(f"user_ids: no user {user_id} in this tenant", field="user_ids")
        if row.status != UserStatus.ACTIVE.value:
            raise Unprocessable(f"user_ids: the user {user_id} is {row.status}", field="user_ids")
    reminder_id = new_id()
    row = {
        "id": reminder_id,
        "tenant_id": caller.tenant_id,
        "incident_id": incident_id,
        "reminder_type": reminder_type,
        "scheduled_for": scheduled_for,
        "channel": channel.value,
        "user_ids": [str(u) for u in recipients],
        "metadata": metadata,
        "status": ReminderStatus.SCHEDULED.value,
        "created_by": caller.user_id,
    }
    await reminder_store.insert(uow.session, row)
    uow.emit(
        ReminderScheduled(
            reminder_id=reminder_id,
            incident_id=incident_id,
            reminder_type=reminder_type,
            scheduled_for=scheduled_for,
            channel=channel,
            user_ids=recipients,
            metadata=metadata,
        ),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )
    return row | {"user_ids": recipients, "sent_at": None, "fired_at": None, "cancelled_at": None}


async def list_reminders(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> list[dict[str, Any]]:
    if await incident_replica.visible(uow.session, caller, incident_id) is None:
        raise NotFound(f"no incident {incident_id}")
    return await reminder_store.of_incident(uow.session, caller.tenant_id, incident_id)


async def cancel_reminder(uow: UnitOfWork, caller: Principal, reminder_id: UUID, *, now: datetime) -> None:
    """Cancel a reminder that has not fired (409 once it has, or if already cancelled)."""
    row = await reminder_store.lock_one(uow.session, caller.tenant_id, reminder_id)
    if row is None:
        raise NotFound(f"no reminder {reminder_id}")
    if row.status != ReminderStatus.SCHEDULED.value:
        raise Conflict(f"reminder {reminder_id} is {row.status}; only a scheduled reminder can be cancelled")
    await reminder_store.mark(
        uow.session,
        reminder_id,
        {"status": ReminderStatus.CANCELLED.value, "cancelled_at": now, "cancelled_by": caller.user_id},
    )
    uow.emit(
        ReminderCancelled(
            reminder_id=reminder_id,
            incident_id=row.incident_id,
            reminder_type=row.reminder_type,
            reason="cancelled",
            cancelled_at=now,
            cancelled_by=caller.user_id,
        ),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )


async def fire_due_reminders(uow: UnitOfWork, now: datetime) -> int:
    """The reminder timer: claim due reminders (FOR UPDATE SKIP LOCKED, so replicas never take
    the same one) and fire each: dispatched (sent or unsupported) or skipped, marked in the same
    transaction as its event. Returns how many fired; the TimerLoop commits."""
    due = await reminder_store.claim(uow.session, now)
    if not due:
        return 0
    incidents = await incident_replica.states(uow.session, (r.incident_id for r in due))
    for r in due:
        incident = incidents.get(r.incident_id)
        outcome = reminder_rules.firing_outcome(
            ReminderChannel(r.channel),
            incident_status=incident.status if incident else None,
            incident_deleted=incident is not None and incident.deleted_at is not None,
        )
        if outcome is ReminderStatus.SKIPPED:
            await reminder_store.mark(
                uow.session, r.id, {"status": outcome.value, "fired_at": now, "cancelled_at": now}
            )
            uow.emit(
                ReminderCancelled(
                    reminder_id=r.id,
                    incident_id=r.incident_id,
                    reminder_type=r.reminder_type,
                    reason="incident_finished",
                    cancelled_at=now,
                ),
                tenant_id=r.tenant_id,
            )
            continue
        sent = outcome is ReminderStatus.SENT
        await reminder_store.mark(
            uow.session, r.id, {"status": outcome.value, "fired_at": now, "sent_at": now if sent else None}
        )
        uow.emit(
            ReminderDispatched(
                reminder_id=r.id,
                incident_id=r.incident_id,
                reminder_type=r.reminder_type,
                channel=ReminderChannel(r.channel),
                outcome="sent" if sent else "unsupported",
                dispatched_at=now,
                user_ids=[UUID(u) for u in r.user_ids],
            ),
            tenant_id=r.tenant_id,
        )
    return len(due)


# --------------------------------------------------------------------------- wiring


def _both(first: Batched, then: Handler) -> Batched:
    async def run(uow: UnitOfWork, batch: list[tuple[Envelope, Any]]) -> None:
        await first.fn(uow, batch)
        if isinstance(then, Batched):
            await then.fn(uow, batch)
        else:
            for envelope, payload in batch:
                await then(uow, envelope, payload)

    return batched(run)


def with_communication_handlers(handlers: Mapping[str, Handler]) -> dict[str, Handler]:
    """The service's handlers plus ours: the incident replica on every incident event, and
    delivery outcomes on notification.sent/failed. Where another handler takes the same type,
    ours runs first in the same transaction, then it."""
    combined = dict(handlers)
    replica = batched(replicate_incidents)  # one object, so a run of incident events batches together
    outcomes = batched(apply_delivery_outcomes)
    ours = {t: replica for t in INCIDENT_EVENT_TYPES} | {
        NotificationSent.event_type: outcomes,
        NotificationFailed.event_type: outcomes,
    }
    wrapped: dict[tuple[int, int], Batched] = {}
    for event_type, mine in ours.items():
        theirs = combined.get(event_type)
        combined[event_type] = (
            mine if theirs is None else wrapped.setdefault((id(mine), id(theirs)), _both(mine, theirs))
        )
    return combined
