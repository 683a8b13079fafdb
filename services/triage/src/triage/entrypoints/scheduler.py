"""Timers of the triage service (docs/architecture.md): the escalation loop, a background task of every
replica. Due escalations are claimed with SKIP LOCKED, so replicas share them and none fires
twice."""

from backbone.timers import TimerLoop
from triage.config import Settings
from triage.handlers.escalation import Escalations


def escalation_loop(settings: Settings, escalations: Escalations) -> TimerLoop:
    return TimerLoop(
        "escalations",
        escalations.fire_due,
        clock=escalations.clock,
        interval_s=settings.escalation_poll_interval_s,
    )
