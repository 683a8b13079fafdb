"""What every record's state machine shares: a step is allowed from some statuses and leads
to one (docs/changes.md). Refusals are the caller's problem: a state that forbids the step is
409, a role that may not take it 403."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from backbone.problems import Conflict, Forbidden
from contracts.enums import Role

# Who decides on changes and rollbacks: 002 "Roles and Responsibilities" (incident managers
# oversee incidents, executives "authorize major changes").
APPROVERS = frozenset({Role.INCIDENT_MANAGER, Role.EXECUTIVE})


@dataclass(frozen=True)
class Step:
    to: str
    allowed_from: frozenset[str]


def step(to: str, *allowed_from: str) -> Step:
    return Step(to, frozenset(allowed_from))


def advance(what: str, status: str, action: str, steps: Mapping[str, Step]) -> str:
    """The status ``action`` leads to from ``status``; Conflict when ``status`` forbids it."""
    rule = steps[action]
    if status not in rule.allowed_from:
        allowed = ", ".join(sorted(rule.allowed_from))
        raise Conflict(f"{what} is {status}: {action} is allowed only when {allowed}")
    return rule.to


def check_approver(role: Role | str, actor_id: object, requested_by_id: object, what: str) -> None:
    """Approvers are incident managers and executives, never for their own request."""
    if Role(role) not in APPROVERS:
        raise Forbidden(f"only incident managers and executives decide on {what}")
    if actor_id == requested_by_id:
        raise Forbidden(f"nobody decides on their own {what}")


def forward_move(what: str, order: Iterable[str], status: str, target: str) -> str:
    """``target`` if it lies after ``status`` in ``order`` (a record never moves back)."""
    ranks = {s: i for i, s in enumerate(order)}
    if ranks[target] <= ranks[status]:
        raise Conflict(f"{what} is {status}: it cannot move to {target}")
    return target
