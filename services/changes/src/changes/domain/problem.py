"""Problem tickets (002 "Problem Tickets"): open → investigating → known_error → resolved →
closed, forward only; a known error carries its workaround (docs/changes.md)."""

from __future__ import annotations

from typing import Any

from backbone.problems import Conflict, Unprocessable
from changes.domain.workflow import forward_move
from contracts.enums import ProblemTicketStatus as S

ORDER = (S.OPEN, S.INVESTIGATING, S.KNOWN_ERROR, S.RESOLVED, S.CLOSED)


def patch(problem: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The changed fields: status moves forward only; a closed problem takes no change (409);
    a known error needs a workaround (422)."""
    status = problem["status"]
    if status == S.CLOSED:
        raise Conflict("the problem is closed: it takes no more changes")
    result = dict(changes)
    target = changes.get("status")
    if target is not None and target != status:
        result["status"] = forward_move("the problem", ORDER, status, target)
    workaround = changes.get("workaround_id", problem.get("workaround_id"))
    if result.get("status") == S.KNOWN_ERROR and workaround is None:
        raise Unprocessable("workaround_id: a known error needs its workaround", field="workaround_id")
    return result


def check_link(problem: dict[str, Any], linked: set[Any], incident_id: Any) -> None:
    if problem["status"] == S.CLOSED:
        raise Conflict("the problem is closed: no incident can be linked to it")
    if incident_id in linked:
        raise Conflict(f"incident {incident_id} is linked to the problem already")
