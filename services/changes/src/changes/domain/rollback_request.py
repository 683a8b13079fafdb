"""Rollback requests (000/001/002 "Managing Rollback Requests"): a justified request to revert
a change that ran; approved by an approver other than the requester, then carried out; its
completion marks the change rolled back (docs/changes.md)."""

from __future__ import annotations

from typing import Any

from backbone.problems import Conflict
from changes.domain.change_request import ROLLBACKABLE
from changes.domain.workflow import advance, check_approver, step
from contracts.enums import Role
from contracts.enums import RollbackRequestStatus as S

STEPS = {
    "approve": step(S.APPROVED, S.REQUESTED),
    "reject": step(S.REJECTED, S.REQUESTED),
    "start": step(S.IN_PROGRESS, S.APPROVED),
    "complete": step(S.COMPLETED, S.IN_PROGRESS),
    "fail": step(S.FAILED, S.IN_PROGRESS),
}
DECISIONS = frozenset({"approve", "reject"})


def check_change(change_status: str) -> None:
    """Only a change that ran can be rolled back."""
    if change_status not in ROLLBACKABLE:
        allowed = ", ".join(sorted(ROLLBACKABLE))
        raise Conflict(f"the change is {change_status}: only a change that is {allowed} can be rolled back")


def take_step(
    rollback: dict[str, Any], action: str, role: Role | str, actor_id: Any, change_status: str, now: Any
) -> dict[str, Any]:
    if action in DECISIONS:
        check_approver(role, actor_id, rollback["requested_by_id"], "rollback requests")
    status = advance("the rollback request", rollback["status"], action, STEPS)
    changed: dict[str, Any] = {"status": status}
    if action in DECISIONS:
        changed |= {"approved_by_id": actor_id, "approved_at": now}
    if action == "complete":
        check_change(change_status)
        changed["completed_at"] = now
    return changed
