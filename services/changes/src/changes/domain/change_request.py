"""Change requests (000/001/002 "Creating Change Requests"): requested, then approved or
rejected by an approver, scheduled, implemented, and completed, failed or cancelled; a
completed rollback marks it rolled back (docs/changes.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backbone.problems import Forbidden, Unprocessable
from changes.domain.workflow import APPROVERS, advance, check_approver, step
from contracts.enums import ChangeRequestStatus as S
from contracts.enums import ChangeType, RiskLevel, Role

STEPS = {
    "approve": step(S.APPROVED, S.REQUESTED),
    "reject": step(S.REJECTED, S.REQUESTED),
    "schedule": step(S.SCHEDULED, S.APPROVED),
    "start": step(S.IN_PROGRESS, S.APPROVED, S.SCHEDULED),
    "complete": step(S.COMPLETED, S.IN_PROGRESS),
    "fail": step(S.FAILED, S.IN_PROGRESS),
    "cancel": step(S.CANCELLED, S.REQUESTED, S.APPROVED, S.SCHEDULED),
}
DECISIONS = frozenset({"approve", "reject"})
# 002 Executive: "authorize major changes".
MAJOR = frozenset({RiskLevel.HIGH, RiskLevel.CRITICAL})
# Statuses a rollback may revert: the change ran, at least in part.
ROLLBACKABLE = frozenset({S.IN_PROGRESS, S.COMPLETED, S.FAILED})


def check_window(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and end <= start:
        raise Unprocessable("planned_end: must be after planned_start", field="planned_end")


def take_step(change: dict[str, Any], action: str, role: Role | str, actor_id: Any) -> dict[str, Any]:
    """The changed fields of ``change`` after ``action`` by the actor (403/409 on refusal).
    Approving and rejecting are decisions: by an approver, not the requester, and an
    executive's alone for high and critical risk."""
    if action in DECISIONS:
        check_approver(role, actor_id, change["requested_by_id"], "change requests")
        if change["risk_level"] in MAJOR and Role(role) is not Role.EXECUTIVE:
            raise Forbidden(f"a {change['risk_level']}-risk change needs an executive's decision")
    status = advance("the change request", change["status"], action, STEPS)
    changed: dict[str, Any] = {"status": status}
    if action in DECISIONS:
        changed["approved_by_id"] = actor_id
    return changed


def rolled_back(change: dict[str, Any]) -> dict[str, Any]:
    """What a completed rollback does to its change."""
    return {"status": S.ROLLED_BACK}


@dataclass(frozen=True)
class Window:
    """A planned change window or a blackout window: [start, end)."""

    id: Any
    start: datetime
    end: datetime
    kind: str  # "change" or "blackout"


def conflicts(start: datetime | None, end: datetime | None, others: Iterable[Window]) -> list[str]:
    """The windows overlapping [start, end), as "change <id>" / "blackout <id>"; a change
    without a complete window conflicts with nothing."""
    if start is None or end is None:
        return []
    return [f"{w.kind} {w.id}" for w in others if w.start < end and start < w.end]


def check_blackouts(role: Role | str, windows: Iterable[dict[str, Any]]) -> None:
    """Blackout windows are change policy: set by those who approve changes; each ends after it starts."""
    if Role(role) not in APPROVERS:
        raise Forbidden("only incident managers and executives set blackout windows")
    for i, w in enumerate(windows):
        if w["ends_at"] <= w["starts_at"]:
            raise Unprocessable(
                f"windows[{i}].ends_at: must be after starts_at", field=f"windows.{i}.ends_at"
            )


def reported(
    change_id: Any, summary: str, source: str | None, links: Iterable[tuple[str, str | None]], at: datetime
) -> dict[str, Any]:
    """A change a tool reports once it is done (a deploy, a config push; PagerDuty change
    events): recorded completed, standard and low risk, started and finished at its time, with
    no requester; the source and links go into the description."""
    lines = [f"Reported by {source}." if source else "Reported by a tool."]
    lines += [f"{text or href}: {href}" if text else href for href, text in links]
    return {
        "id": change_id,
        "status": S.COMPLETED,
        "title": summary[:300],
        "description": "\n".join(lines),
        "change_type": ChangeType.STANDARD,
        "risk_level": RiskLevel.LOW,
        "planned_start": at,
        "planned_end": at,
        "started_at": at,
        "finished_at": at,
        "requested_by_id": None,
    }
