"""The pure rules of the changes service: who decides, which step each status allows, what a
window conflicts with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from backbone.problems import Conflict, Forbidden, Unprocessable
from changes.domain import (
    change_request,
    kb_article,
    post_incident_review,
    problem,
    rollback_request,
    root_cause_analysis,
    work_order,
)
from changes.domain.change_request import Window
from contracts.enums import Role

REQUESTER, OTHER = uuid4(), uuid4()


def change(**kw: object) -> dict:
    return {"status": "requested", "risk_level": "low", "requested_by_id": REQUESTER, **kw}


@pytest.mark.parametrize(
    "role",
    [
        Role.TECHNICAL_SUPPORT,
        Role.SYSTEM_ADMINISTRATOR,
        Role.ACCOUNT_MANAGER,
        Role.CLIENT_CONTACT,
        Role.VENDOR_CONTACT,
    ],
)
def test_only_incident_managers_and_executives_decide(role: Role) -> None:
    with pytest.raises(Forbidden):
        change_request.take_step(change(), "approve", role, OTHER)


def test_nobody_decides_on_their_own_request() -> None:
    for action in ("approve", "reject"):
        with pytest.raises(Forbidden, match="own"):
            change_request.take_step(change(), action, Role.EXECUTIVE, REQUESTER)


@pytest.mark.parametrize("risk", ["high", "critical"])
def test_major_risk_needs_an_executive(risk: str) -> None:
    with pytest.raises(Forbidden, match="executive"):
        change_request.take_step(change(risk_level=risk), "approve", Role.INCIDENT_MANAGER, OTHER)
    assert change_request.take_step(change(risk_level=risk), "approve", Role.EXECUTIVE, OTHER) == {
        "status": "approved",
        "approved_by_id": OTHER,
    }


def test_approving_an_approved_change_is_a_conflict() -> None:
    with pytest.raises(Conflict):
        change_request.take_step(change(status="approved"), "approve", Role.INCIDENT_MANAGER, OTHER)


@pytest.mark.parametrize(
    ("status", "action", "allowed"),
    [
        ("requested", "start", False),
        ("approved", "start", True),
        ("scheduled", "start", True),
        ("in_progress", "complete", True),
        ("completed", "cancel", False),
        ("requested", "schedule", False),
    ],
)
def test_steps_by_status(status: str, action: str, allowed: bool) -> None:
    if allowed:
        assert change_request.take_step(change(status=status), action, Role.TECHNICAL_SUPPORT, OTHER)[
            "status"
        ]
    else:
        with pytest.raises(Conflict):
            change_request.take_step(change(status=status), action, Role.TECHNICAL_SUPPORT, OTHER)


def test_windows_conflict_only_when_they_overlap() -> None:
    t = datetime(2030, 1, 1, tzinfo=UTC)
    h = timedelta(hours=1)
    others = [Window("a", t, t + h, "change"), Window("b", t + 2 * h, t + 3 * h, "blackout")]
    assert change_request.conflicts(t + h / 2, t + 2 * h + h / 2, others) == ["change a", "blackout b"]
    assert change_request.conflicts(t + h, t + 2 * h, others) == []  # touching ends do not overlap
    assert change_request.conflicts(None, t, others) == []
    with pytest.raises(Unprocessable):
        change_request.check_window(t + h, t)


def test_rollback_needs_a_change_that_ran_and_completes_with_a_time() -> None:
    with pytest.raises(Conflict):
        rollback_request.check_change("requested")
    rb = {"status": "in_progress", "requested_by_id": REQUESTER}
    now = datetime(2030, 1, 1, tzinfo=UTC)
    assert rollback_request.take_step(
        rb, "complete", Role.TECHNICAL_SUPPORT, REQUESTER, "completed", now
    ) == {
        "status": "completed",
        "completed_at": now,
    }
    with pytest.raises(Forbidden):
        rollback_request.take_step(
            {**rb, "status": "requested"}, "approve", Role.EXECUTIVE, REQUESTER, "completed", now
        )


def test_work_order_assignment_and_moves() -> None:
    assert work_order.initial_status(None) == "created" and work_order.initial_status(OTHER) == "assigned"
    assert work_order.patch({"status": "created"}, {"assigned_to_id": OTHER})["status"] == "assigned"
    with pytest.raises(Unprocessable):
        work_order.patch({"status": "created", "assigned_to_id": None}, {"status": "assigned"})
    with pytest.raises(Conflict):
        work_order.patch({"status": "created"}, {"status": "completed"})
    with pytest.raises(Conflict):
        work_order.patch({"status": "completed"}, {"title": "t"})


def test_problem_moves_forward_and_a_known_error_needs_a_workaround() -> None:
    with pytest.raises(Unprocessable):
        problem.patch({"status": "investigating"}, {"status": "known_error"})
    assert problem.patch({"status": "open"}, {"status": "resolved"})["status"] == "resolved"
    with pytest.raises(Conflict):
        problem.patch({"status": "resolved"}, {"status": "investigating"})
    with pytest.raises(Conflict):
        problem.check_link({"status": "open"}, {OTHER}, OTHER)


def test_only_the_reviewer_publishes_and_authors_do_not_review_themselves() -> None:
    article = {"status": "in_review", "created_by_id": REQUESTER, "reviewer_id": OTHER}
    with pytest.raises(Forbidden):
        kb_article.take_step(article, "publish", REQUESTER, None, None)
    assert kb_article.take_step(article, "publish", OTHER, None, "now")["status"] == "published"
    with pytest.raises(Unprocessable):
        kb_article.take_step({**article, "status": "draft"}, "submit", REQUESTER, REQUESTER, None)


def test_a_review_needs_a_closed_incident() -> None:
    with pytest.raises(Conflict):
        post_incident_review.check_incident("resolved")
    post_incident_review.check_incident("closed")
    with pytest.raises(Conflict):
        post_incident_review.take_step({"status": "completed"}, "complete", None)


def test_an_analysis_is_approved_once_completed_by_a_manager_not_its_conductor() -> None:
    done = {"status": "completed", "conducted_by_id": REQUESTER}
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert root_cause_analysis.approve(done, Role.EXECUTIVE, OTHER, now) == {
        "status": "approved",
        "approved_by_id": OTHER,
        "approved_at": now,
    }
    with pytest.raises(Forbidden):
        root_cause_analysis.approve(done, Role.INCIDENT_MANAGER, REQUESTER, now)
    with pytest.raises(Forbidden):
        root_cause_analysis.approve(done, Role.TECHNICAL_SUPPORT, OTHER, now)
    for status in ("in_progress", "approved"):
        with pytest.raises(Conflict):
            root_cause_analysis.approve({**done, "status": status}, Role.EXECUTIVE, OTHER, now)


@pytest.mark.parametrize(
    ("status", "allowed"), [("scheduled", True), ("in_progress", True), ("completed", False)]
)
def test_a_review_is_cancelled_only_before_it_is_completed(status: str, allowed: bool) -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    if allowed:
        assert post_incident_review.take_step({"status": status}, "cancel", now) == {"status": "cancelled"}
    else:
        with pytest.raises(Conflict):
            post_incident_review.take_step({"status": status}, "cancel", now)
