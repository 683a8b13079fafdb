"""Timers of the notifications service (docs/architecture.md): reminders, as rows claimed with FOR UPDATE
SKIP LOCKED by whichever replica polls first, and the service's clock (injectable for tests)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from backbone.timers import SYSTEM_CLOCK, Clock, TimerLoop
from notifications.config import Settings
from notifications.handlers import reminders


def reminder_loop(settings: Settings, clock: Clock = SYSTEM_CLOCK) -> TimerLoop:
    """The background task firing due reminders (``Service.background``)."""
    return TimerLoop(
        "reminders",
        reminders.fire_due_reminders,
        clock=clock,
        interval_s=settings.reminder_poll_s,
    )


def service_clock(request: Request) -> Clock:
    clock: Clock = getattr(request.app.state, "clock", SYSTEM_CLOCK)
    return clock


ClockDep = Annotated[Clock, Depends(service_clock)]
