"""Post-incident reviews (002 "Managing Post-Incident Reviews"): scheduled for a closed
incident, collecting action items with owners, then completed, or cancelled before it is
(docs/changes.md)."""

from __future__ import annotations

from typing import Any

from backbone.problems import Conflict
from changes.domain.workflow import advance, step
from contracts.enums import IncidentStatus
from contracts.enums import PostIncidentReviewStatus as S

STEPS = {
    "complete": step(S.COMPLETED, S.SCHEDULED, S.IN_PROGRESS),
    "add_action_item": step(S.IN_PROGRESS, S.SCHEDULED, S.IN_PROGRESS),
    "cancel": step(S.CANCELLED, S.SCHEDULED, S.IN_PROGRESS),
}


def check_incident(incident_status: str) -> None:
    """A review looks back on an incident that is over (002: "Verify incident exists and is closed")."""
    if incident_status != IncidentStatus.CLOSED:
        raise Conflict(f"the incident is {incident_status}: a review needs a closed incident")


def take_step(review: dict[str, Any], action: str, now: Any, summary: str | None = None) -> dict[str, Any]:
    status = advance("the review", review["status"], action, STEPS)
    changed: dict[str, Any] = {"status": status}
    if action == "complete":
        changed["completed_at"] = now
        if summary is not None:
            changed["summary"] = summary
    return changed
