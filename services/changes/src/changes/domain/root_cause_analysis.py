"""Root cause analyses (000/001/002 "Conducting Root Cause Analysis"): in progress until
completed with the root cause found, then approved by an incident manager or executive, who
"facilitate ... root cause analysis" (002), never by its conductor (docs/changes.md)."""

from __future__ import annotations

from typing import Any

from changes.domain.workflow import advance, check_approver, step
from contracts.enums import RcaStatus as S

STEPS = {"complete": step(S.COMPLETED, S.IN_PROGRESS), "approve": step(S.APPROVED, S.COMPLETED)}


def complete(rca: dict[str, Any], root_cause: str, findings: str, now: Any) -> dict[str, Any]:
    status = advance("the root cause analysis", rca["status"], "complete", STEPS)
    return {"status": status, "root_cause": root_cause, "findings": findings, "completed_at": now}


def approve(rca: dict[str, Any], role: Any, actor_id: Any, now: Any) -> dict[str, Any]:
    """Approved: who approved it and when are kept on the analysis (and in its event)."""
    check_approver(role, actor_id, rca["conducted_by_id"], "root cause analysis")
    status = advance("the root cause analysis", rca["status"], "approve", STEPS)
    return {"status": status, "approved_by_id": actor_id, "approved_at": now}
