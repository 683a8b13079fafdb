"""Incident reminders (004 ``incident_reminders``): the pure rules.

A reminder is a timer row: due at ``scheduled_for``, fired once by whichever replica claims it.
At its time it is dispatched to its channel (``sent``), or recorded as ``unsupported`` when its
channel cannot send (sms: the platform has no SMS provider). A reminder of an incident that is
resolved, closed or deleted by then is ``skipped``: reminding people of finished work is noise,
and a reopened incident's reminders still fire (the check happens at firing time, not when the
incident resolves). A scheduled reminder can be cancelled until it fires.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from contracts.enums import IncidentStatus, ReminderChannel

# A reminder may be scheduled slightly in the past (clock skew between the caller and us); it
# then fires at the next poll. Further back is a mistake worth refusing.
PAST_TOLERANCE = timedelta(minutes=1)

# Statuses after which no reminder fires (004's default catalog; a tenant's own statuses are
# treated as open).
FINISHED = frozenset({IncidentStatus.RESOLVED.value, IncidentStatus.CLOSED.value})

# Channels with a provider behind them; sms has none.
SUPPORTED = frozenset({ReminderChannel.EMAIL, ReminderChannel.SLACK})


class ReminderStatus(StrEnum):
    SCHEDULED = "scheduled"
    SENT = "sent"
    UNSUPPORTED = "unsupported"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class ReminderRefused(ValueError):
    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


def check_schedule(scheduled_for: datetime, now: datetime) -> None:
    if scheduled_for.tzinfo is None or scheduled_for.utcoffset() is None:
        raise ReminderRefused(
            "scheduled_for needs a time zone offset, e.g. 2026-01-05T09:00:00Z", "scheduled_for"
        )
    if scheduled_for < now - PAST_TOLERANCE:
        raise ReminderRefused(f"scheduled_for {scheduled_for.isoformat()} is in the past", "scheduled_for")


def incident_finished(status: str | None, deleted: bool) -> bool:
    return deleted or status in FINISHED


def firing_outcome(
    channel: ReminderChannel, *, incident_status: str | None, incident_deleted: bool
) -> ReminderStatus:
    """What firing a due reminder does: send it, record its channel as unsupported, or skip it."""
    if incident_finished(incident_status, incident_deleted):
        return ReminderStatus.SKIPPED
    if channel not in SUPPORTED:
        return ReminderStatus.UNSUPPORTED
    return ReminderStatus.SENT
