"""Automatic escalation (PagerDuty semantics), pure: which policy applies to an incident, and
which step comes after the one that fired.

A policy is an ordered list of levels; each level pages users and/or roles and waits its
``delay_minutes`` for an acknowledgement before the next level is paged. After the last level
the policy starts again from level 1, ``loops`` times (0: no repeat), and then stops.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from contracts.enums import Severity
from triage.domain.incident import Incident


@dataclass(frozen=True)
class Level:
    user_ids: tuple[UUID, ...]
    roles: tuple[str, ...]
    delay_minutes: int


@dataclass(frozen=True)
class Policy:
    id: UUID
    name: str
    levels: tuple[Level, ...]
    loops: int = 0
    client_id: UUID | None = None
    min_severity: Severity | None = None

    def applies_to(self, client_id: UUID | None, severity: Severity) -> bool:
        if self.client_id is not None and self.client_id != client_id:
            return False
        return self.min_severity is None or severity.is_at_least(self.min_severity)


def _specificity(policy: Policy) -> tuple[int, int, int]:
    # A client's own policy beats the tenant default; then one limited to a severity beats
    # one that is not, the stricter limit first (P1-only is narrower than P3-and-up).
    return (
        policy.client_id is not None,
        policy.min_severity is not None,
        -policy.min_severity.rank if policy.min_severity else 0,
    )


def choose_policy(policies: Iterable[Policy], client_id: UUID | None, severity: Severity) -> Policy | None:
    """The most specific policy matching the incident; among equals the newest (policy ids are
    UUIDv7, so time-ordered), which makes the choice deterministic."""
    matching = [p for p in policies if p.applies_to(client_id, severity)]
    if not matching:
        return None
    return max(matching, key=lambda p: (_specificity(p), p.id.int))


@dataclass(frozen=True, order=True)
class Step:
    """A position in a policy: ``level`` is 1-based, ``loop`` 0 for the first pass."""

    level: int
    loop: int = 0


FIRST = Step(1, 0)


def following(levels: Sequence[Level], loops: int, step: Step) -> Step | None:
    """The step paged after ``step`` when nobody acknowledges; None when the policy is done."""
    if step.level < len(levels):
        return Step(step.level + 1, step.loop)
    if step.loop < loops:
        return Step(1, step.loop + 1)
    return None


def level_of(levels: Sequence[Level], step: Step) -> Level:
    return levels[step.level - 1]


@dataclass(frozen=True)
class Plan:
    """What to do when ``paged`` is paged at ``now``: when (if ever) the next step is due."""

    paged: Step
    next_due_at: datetime | None

    @property
    def done(self) -> bool:
        return self.next_due_at is None


def page(levels: Sequence[Level], loops: int, step: Step, now: datetime) -> Plan:
    """Page ``step`` now; the next step is due once its level's acknowledgement window passes,
    unless it was the last step of the last loop."""
    if following(levels, loops, step) is None:
        return Plan(step, None)
    return Plan(step, now + timedelta(minutes=level_of(levels, step).delay_minutes))


def jump(levels: Sequence[Level], loops: int, last: Step | None) -> Step:
    """The step an escalation from outside the timer (an SLA warning or breach) pages at once:
    the one after the last paged, level 1 when none was, and the last level again when the
    policy has run out (a warning must still reach someone, the most senior level)."""
    if last is None:
        return FIRST
    return following(levels, loops, last) or Step(len(levels), last.loop)


def moved_to(levels: Sequence[Level], last: Step, level: int) -> Step:
    """A manual escalation named a level: the running policy continues from there (clamped to
    the policy's levels), in the current loop."""
    return Step(min(max(level, 1), len(levels)), last.loop)


def validate(levels: Sequence[Level], loops: int) -> list[str]:
    """Problems with a policy's shape (the API turns them into a 422); empty when valid."""
    problems = []
    if not levels:
        problems.append("a policy needs at least one level")
    for n, level in enumerate(levels, start=1):
        if level.delay_minutes < 1:
            problems.append(f"level {n}: delay_minutes must be at least 1")
        if not level.user_ids and not level.roles:
            problems.append(f"level {n}: page at least one user or role")
    if loops < 0:
        problems.append("loops must not be negative")
    return problems


@dataclass(frozen=True)
class Run:
    """Where an incident's automatic escalation stands (its levels a snapshot of the policy's
    when it started): the step paged last, and what stops it."""

    incident_id: UUID
    policy_id: UUID
    levels: tuple[Level, ...]
    loops: int
    run: int
    seq: int
    level: int
    loop: int
    status: str
    ack_after: datetime | None = None
    reopened_status: str | None = None

    @property
    def last_step(self) -> Step:
        return Step(self.level, self.loop)


def stopped_by(
    incident: Incident | None, ack_after: datetime | None = None, reopened_status: str | None = None
) -> str | None:
    """Why the incident's escalation must not page any more (None: keep going). Read at fire
    time from the incident row, so an acknowledgement committed a moment before the timer
    fires stops it even though its event has not been consumed yet."""
    if incident is None or incident.deleted_at is not None:
        return "deleted"
    if incident.status == "closed" or incident.closed_at is not None:
        return "closed"
    if incident.status == "resolved" or incident.resolved_at is not None:
        return "resolved"
    acknowledged = incident.acknowledged_at
    if acknowledged is not None and (ack_after is None or acknowledged >= ack_after):
        return "acknowledged"
    if reopened_status is not None and incident.status != reopened_status:
        return "acknowledged"  # someone took the reopened incident on (acknowledged, in progress …)
    return None


def ended(incident: Incident | None) -> bool:
    """Resolved, closed or deleted: nothing to escalate any more, not even on an SLA event."""
    return stopped_by(incident) not in (None, "acknowledged")
