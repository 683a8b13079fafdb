"""Root cause analyses (000/001/002 "Conducting Root Cause Analysis"): in progress until
completed with the root cause found (docs/changes.md)."""

from __future__ import annotations

from typing import Any

from changes.domain.workflow import advance, step
from contracts.enums import RcaStatus as S

STEPS = {"complete": step(S.COMPLETED, S.IN_PROGRESS)}


def complete(rca: dict[str, Any], root_cause: str, findings: str, now: Any) -> dict[str, Any]:
    status = advance("the root cause analysis", rca["status"], "complete", STEPS)
    return {"status": status, "root_cause": root_cause, "findings": findings, "completed_at": now}
