"""Scheduling, cancelling and firing reminders, against the real database, on a ManualClock."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from sqlalchemy import select

from backbone.problems import Conflict, NotFound, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import ReminderChannel
from contracts.events import ReminderCancelled, ReminderDispatched
from notifications.adapters.reminders import reminders
from notifications.handlers.reminders import cancel_reminder, fire_due_reminders, schedule_reminder

from .support import caller, emitted, incident, user


async def _schedule(uow: UnitOfWork, who, incident_id, *, minutes: float):  # type: ignore[no-untyped-def]
    return await schedule_reminder(
        uow,
        who,
        incident_id=incident_id,
        reminder_type="follow_up",
        scheduled_for=uow.now + timedelta(minutes=minutes),
        channel=ReminderChannel.EMAIL,
        user_ids=None,
        metadata={},
    )


async def test_a_reminder_is_scheduled_in_the_future_and_cancelled_once(uow: UnitOfWork) -> None:
    tenant = uuid4()
    who = caller(tenant, user_id=await user(uow, tenant))
    incident_id = await incident(uow, tenant)
    with pytest.raises(Unprocessable):
        await _schedule(uow, who, incident_id, minutes=-5)
    row = await _schedule(uow, who, incident_id, minutes=10)
    assert row["user_ids"] == [who.user_id]  # none named: the one who scheduled it
    with pytest.raises(NotFound, match=f"no reminder {row['id']}"):
        await cancel_reminder(uow, caller(), row["id"])  # another tenant's
    await cancel_reminder(uow, who, row["id"])
    stored = (await uow.session.execute(select(reminders).where(reminders.c.id == row["id"]))).one()
    assert (stored.status, stored.cancelled_at, stored.cancelled_by) == ("cancelled", uow.now, who.user_id)
    with pytest.raises(Conflict, match="only a scheduled reminder can be cancelled"):
        await cancel_reminder(uow, who, row["id"])
    (event,) = emitted(uow, ReminderCancelled)
    assert (event.reminder_id, event.reason, event.cancelled_at) == (row["id"], "cancelled", uow.now)


async def test_due_reminders_fire_once_and_those_of_finished_incidents_are_skipped(uow: UnitOfWork) -> None:
    tenant = uuid4()
    who = caller(tenant, user_id=await user(uow, tenant))
    open_one = await _schedule(uow, who, await incident(uow, tenant), minutes=5)
    closing = await incident(uow, tenant)
    skipped = await _schedule(uow, who, closing, minutes=5)
    later = await _schedule(uow, who, closing, minutes=60)
    await incident(uow, tenant, incident_id=closing, status="closed")
    fired_at = uow.now + timedelta(minutes=6)
    assert await fire_due_reminders(uow, fired_at) == 2
    assert await fire_due_reminders(uow, fired_at) == 0  # each fires once
    statuses = dict(
        (
            await uow.session.execute(
                select(reminders.c.id, reminders.c.status).where(reminders.c.tenant_id == tenant)
            )
        ).all()
    )
    assert statuses == {open_one["id"]: "sent", skipped["id"]: "skipped", later["id"]: "scheduled"}
    (dispatched,) = emitted(uow, ReminderDispatched)
    assert (dispatched.reminder_id, dispatched.outcome, dispatched.dispatched_at) == (
        open_one["id"],
        "sent",
        fired_at,
    )
    assert [c.reason for c in emitted(uow, ReminderCancelled)] == ["incident_finished"]
