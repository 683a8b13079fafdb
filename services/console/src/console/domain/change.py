"""What the change pages show: the steps a role may take on a change request in its status
(docs/changes.md "Roles"): approvers decide, requesters move the work along."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.domain.session import Me
from contracts.enums import ChangeRequestStatus, RiskLevel, Role
from contracts.permissions import Permission

S = ChangeRequestStatus
STATUSES = tuple(s.value for s in S)
# step: (label, statuses it starts from); mirrors changes' own table, which refuses anyway.
STEPS: dict[str, tuple[str, frozenset[str]]] = {
    "approve": ("Approve", frozenset({S.REQUESTED})),
    "reject": ("Reject", frozenset({S.REQUESTED})),
    "schedule": ("Schedule", frozenset({S.APPROVED})),
    "start": ("Start", frozenset({S.APPROVED, S.SCHEDULED})),
    "complete": ("Complete", frozenset({S.IN_PROGRESS})),
    "fail": ("Fail", frozenset({S.IN_PROGRESS})),
    "cancel": ("Cancel", frozenset({S.REQUESTED, S.APPROVED, S.SCHEDULED})),
}
DECISIONS = frozenset({"approve", "reject"})
APPROVERS = frozenset({Role.INCIDENT_MANAGER.value, Role.EXECUTIVE.value})
MAJOR = frozenset({RiskLevel.HIGH.value, RiskLevel.CRITICAL.value})
# The workflow as a line of stages, for the page's progress list.
WORKFLOW = ("requested", "approved", "scheduled", "in_progress", "completed")


def may_decide(change: Mapping[str, Any], me: Me) -> bool:
    """Approvers are incident managers and executives, an executive alone for high and critical
    risk, and never on their own request."""
    if me.role not in APPROVERS or str(change.get("requested_by_id")) == me.user_id:
        return False
    return not (change.get("risk_level") in MAJOR and me.role != Role.EXECUTIVE.value)


def steps(change: Mapping[str, Any], me: Me) -> list[tuple[str, str]]:
    """(step, label) the signed-in user may take now."""
    status = str(change.get("status"))
    out = []
    for step, (label, starts) in STEPS.items():
        if status not in starts:
            continue
        if step in DECISIONS:
            if may_decide(change, me):
                out.append((step, label))
        elif me.can(Permission.CHANGES_REQUEST):
            out.append((step, label))
    return out


def stages(status: str) -> list[tuple[str, str]]:
    """Each workflow stage with done / current / todo (or the end it left the line for)."""
    if status not in WORKFLOW:
        return [(s, "done" if s == "requested" else "todo") for s in WORKFLOW] + [(status, "current")]
    at = WORKFLOW.index(status)
    return [(s, "done" if i < at else "current" if i == at else "todo") for i, s in enumerate(WORKFLOW)]
