"""Work orders (002 "Work Orders"): created, or assigned when given an assignee, then in
progress, completed or cancelled (docs/changes.md)."""

from __future__ import annotations

from typing import Any

from backbone.problems import Conflict, Unprocessable
from contracts.enums import WorkOrderStatus as S

MOVES: dict[str, frozenset[str]] = {
    S.CREATED: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.CANCELLED}),
    S.ASSIGNED: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.COMPLETED, S.CANCELLED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
}


def initial_status(assigned_to_id: Any) -> str:
    return S.ASSIGNED if assigned_to_id is not None else S.CREATED


def patch(order: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The changed fields after applying ``changes`` (title, description, status,
    assigned_to_id). Giving an assignee to a created order assigns it; a finished order
    takes no change (409); assigned needs an assignee (422)."""
    status = order["status"]
    if not MOVES[status]:
        raise Conflict(f"the work order is {status}: it takes no more changes")
    result = dict(changes)
    target = changes.get("status")
    if target is None and changes.get("assigned_to_id") is not None and status == S.CREATED:
        target = S.ASSIGNED
    if target is not None and target != status:
        if target not in MOVES[status]:
            raise Conflict(f"the work order is {status}: it cannot move to {target}")
        result["status"] = target
    assignee = changes.get("assigned_to_id", order.get("assigned_to_id"))
    if result.get("status") == S.ASSIGNED and assignee is None:
        raise Unprocessable(
            "assigned_to_id: an assigned work order needs an assignee", field="assigned_to_id"
        )
    return result
