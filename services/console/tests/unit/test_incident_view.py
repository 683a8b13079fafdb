"""The incident pages' pure logic: SLA countdowns, the clock a row leads with, the actions each
role is shown, the list's filters and paging."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from console.domain.incident import Filters, actions, clock_view, next_page, row_clock, span
from console.domain.session import Me
from contracts.enums import Role
from contracts.permissions import Permission, allows

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
UID = "0190d0c0-0000-7000-8000-000000000001"


def me(role: Role, user_id: str = UID) -> Me:
    perms = frozenset(p.value for p in Permission if allows(role, p))
    return Me(user_id, "t", role.value, None, None, perms)


def clock(**kw: Any) -> dict[str, Any]:
    base = {
        "kind": "response",
        "state": "running",
        "at_risk": False,
        "due_at": "2026-11-28T12:30:00+00:00",
        "remaining_minutes": 30.0,
        "breached_at": None,
        "stopped_at": None,
    }
    return base | kw


@pytest.mark.parametrize(
    ("minutes", "text"),
    [(0.5, "30s"), (12, "12m"), (65, "1h 05m"), (47 * 60, "47h 00m"), (50 * 60, "2d 2h"), (-3, "3m")],
)
def test_span_reads_like_a_person_would(minutes: float, text: str) -> None:
    assert span(minutes) == text


def test_a_running_clock_counts_down_its_remaining_minutes() -> None:
    v = clock_view(clock(remaining_minutes=42.0), NOW)
    assert (v.tone, v.label) == ("ok", "response: 42m left")


def test_an_at_risk_clock_says_so_in_words_not_only_colour() -> None:
    v = clock_view(clock(at_risk=True, remaining_minutes=5.0), NOW)
    assert v.tone == "risk" and "AT RISK" in v.label and "5m left" in v.label


def test_a_clock_past_its_deadline_is_breached_before_slas_timer_marks_it() -> None:
    v = clock_view(clock(remaining_minutes=-2.0), NOW)
    assert v.tone == "breached" and v.label == "response: BREACHED 2m over"


def test_a_breached_clock_stays_breached_once_stopped() -> None:
    v = clock_view(clock(state="breached", breached_at="x", stopped_at="y", remaining_minutes=-10), NOW)
    assert v.tone == "breached" and "(stopped)" in v.label


@pytest.mark.parametrize(("state", "tone"), [("met", "done"), ("cancelled", "done"), ("paused", "paused")])
def test_stopped_and_paused_clocks(state: str, tone: str) -> None:
    assert clock_view(clock(state=state), NOW).tone == tone


def test_a_row_leads_with_a_breach_then_a_risk_then_the_first_open_clock() -> None:
    met = clock(state="met")
    running = clock(kind="resolution", remaining_minutes=300.0)
    risky = clock(kind="resolution", at_risk=True, remaining_minutes=3.0)
    late = clock(kind="resolution", remaining_minutes=-1.0)
    assert row_clock({"clocks": [met, running]}, NOW).kind == "resolution"  # type: ignore[union-attr]
    assert row_clock({"clocks": [clock(), risky]}, NOW).tone == "risk"  # type: ignore[union-attr]
    assert row_clock({"clocks": [clock(), late]}, NOW).tone == "breached"  # type: ignore[union-attr]
    assert row_clock({"clocks": [met, clock(kind="resolution", state="met")]}, NOW).tone == "done"  # type: ignore[union-attr]
    assert row_clock(None, NOW) is None and row_clock({"clocks": []}, NOW) is None


def names(role: Role, status: str, assignees: list[str] | None = None) -> list[str]:
    return [a.name for a in actions({"status": status, "assignees": assignees or []}, me(role))]


def test_an_incident_manager_is_shown_every_action_its_status_allows() -> None:
    assert names(Role.INCIDENT_MANAGER, "open", ["u"]) == [
        "acknowledge", "assign", "delegate", "escalate", "status", "resolve", "comment",
    ]  # fmt: skip
    assert names(Role.INCIDENT_MANAGER, "resolved") == ["close", "reopen", "comment"]
    assert names(Role.INCIDENT_MANAGER, "closed") == ["reopen", "comment"]


def test_delegation_needs_someone_to_delegate_from() -> None:
    assert "delegate" not in names(Role.TECHNICAL_SUPPORT, "open")


@pytest.mark.parametrize("role", list(Role))
def test_no_role_is_shown_an_action_its_permissions_refuse(role: Role) -> None:
    needs = {
        "acknowledge": Permission.INCIDENTS_UPDATE,
        "assign": Permission.INCIDENTS_ASSIGN,
        "delegate": Permission.INCIDENTS_DELEGATE,
        "escalate": Permission.INCIDENTS_ESCALATE,
        "status": Permission.INCIDENTS_UPDATE,
        "resolve": Permission.INCIDENTS_UPDATE,
        "close": Permission.INCIDENTS_UPDATE,
        "reopen": Permission.INCIDENTS_UPDATE,
        "comment": Permission.INCIDENTS_COMMENTS_MANAGE,
    }
    shown = set(names(role, "open", ["u"])) | set(names(role, "resolved"))
    assert shown == {a for a, p in needs.items() if allows(role, p)}


def test_a_client_contact_may_only_comment() -> None:
    assert names(Role.CLIENT_CONTACT, "open", ["u"]) == ["comment"]
    assert names(Role.EXECUTIVE, "open", ["u"]) == ["acknowledge", "escalate", "status", "resolve"]


def test_filters_keep_only_known_values_and_give_one_url_per_filter_set() -> None:
    f = Filters.of(
        {
            "status": ["open", "bogus", "acknowledged"],
            "severity": ["P1", "P9"],
            "client_id": ["not-a-uuid"],
            "assignee_id": [UID],
            "q": ["  disk  "],
            "sort": ["drop table"],
            "after": [UID],
        }
    )
    assert f.status == ("open", "acknowledged") and f.severity == ("P1",)
    assert f.client_id is None and f.assignee_id == UID and f.q == "disk" and f.sort == "-created"
    assert f.query() == [
        ("status", "open"), ("status", "acknowledged"), ("severity", "P1"),
        ("assignee_id", UID), ("q", "disk"), ("after", UID),
    ]  # fmt: skip
    assert ("after", UID) not in f.query(paging=False)
    assert Filters.of({"q": ["x" * 500]}).q == "x" * 200


def test_the_next_page_comes_from_trages_link_header() -> None:
    link = f'</v1/incidents?status=open&limit=25&after={UID}>; rel="next"'
    assert next_page(link) == [("after", UID)]
    assert next_page('</v1/incidents?sort=severity&cursor=abc>; rel="next"') == [("cursor", "abc")]
    assert next_page(None) is None and next_page("") is None
