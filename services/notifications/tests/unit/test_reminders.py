"""The pure rules of incident reminders (004): when one may be scheduled and what firing does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from contracts.enums import ReminderChannel
from notifications.domain.reminders import (
    ReminderRefused,
    ReminderStatus,
    check_schedule,
    firing_outcome,
    incident_finished,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_future_and_slightly_past_times_are_accepted() -> None:
    check_schedule(NOW + timedelta(days=3), NOW)
    check_schedule(NOW - timedelta(seconds=30), NOW)  # clock skew: fires at the next poll
    check_schedule(datetime(2026, 3, 2, 11, 0, tzinfo=timezone(timedelta(hours=2))), NOW)  # 09:00 UTC


@pytest.mark.parametrize(
    "when",
    [NOW - timedelta(minutes=5), datetime(2030, 1, 1, 9, 0)],  # past; no time zone
)
def test_past_and_naive_times_are_refused(when: datetime) -> None:
    with pytest.raises(ReminderRefused) as refused:
        check_schedule(when, NOW)
    assert refused.value.field == "scheduled_for"


def test_finished_incidents() -> None:
    assert incident_finished("resolved", False) and incident_finished("closed", False)
    assert incident_finished("open", True)  # deleted
    assert not incident_finished("open", False) and not incident_finished("waiting_on_client", False)
    assert not incident_finished(None, False)  # not replicated yet: fire rather than lose it


@pytest.mark.parametrize(
    ("channel", "status", "deleted", "outcome"),
    [
        (ReminderChannel.EMAIL, "open", False, ReminderStatus.SENT),
        (ReminderChannel.SLACK, "in_progress", False, ReminderStatus.SENT),
        (ReminderChannel.SMS, "open", False, ReminderStatus.UNSUPPORTED),
        (ReminderChannel.EMAIL, "resolved", False, ReminderStatus.SKIPPED),
        (ReminderChannel.SMS, "closed", False, ReminderStatus.SKIPPED),
        (ReminderChannel.SLACK, "open", True, ReminderStatus.SKIPPED),
    ],
)
def test_firing_outcome(
    channel: ReminderChannel, status: str, deleted: bool, outcome: ReminderStatus
) -> None:
    assert firing_outcome(channel, incident_status=status, incident_deleted=deleted) is outcome
