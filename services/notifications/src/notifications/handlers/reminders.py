"""Incident reminders: schedule, cancel, and fire those due (from the timer loop, whose unit of
work commits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.problems import Conflict, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import (
    ReminderChannel,
    UserStatus,
)
from contracts.envelope import new_id
from contracts.events import (
    ReminderCancelled,
    ReminderDispatched,
    ReminderScheduled,
)
from notifications.adapters import communications as communication_store
from notifications.adapters import incidents as incident_replica
from notifications.adapters import reminders as reminder_store
from notifications.domain import reminders as reminder_rules
from notifications.domain.reminders import ReminderStatus

# --------------------------------------------------------------------------- reminders


async def schedule_reminder(
    uow: UnitOfWork,
    caller: Principal,
    *,
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
    if reminder_rules.incident_finished(incident.status, deleted=False):
        raise Conflict(f"incident {incident_id} is {incident.status}: no reminder can fire for it")
    try:
        reminder_rules.check_schedule(scheduled_for, uow.now)
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
    await reminder_store.add(uow.session, row)
    scheduled = ReminderScheduled.model_validate(row | {"reminder_id": reminder_id, "user_ids": recipients})
    uow.emit(scheduled, tenant_id=caller.tenant_id, actor=caller.actor)
    return row | {"user_ids": recipients, "sent_at": None, "fired_at": None, "cancelled_at": None}


async def cancel_reminder(uow: UnitOfWork, caller: Principal, reminder_id: UUID) -> None:
    """Cancel a reminder that has not fired (409 once it has, or if already cancelled)."""
    now = uow.now
    row = await reminder_store.lock_one(uow.session, caller.tenant_id, reminder_id)
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
