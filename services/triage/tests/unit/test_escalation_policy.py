"""Escalation policy choice and step computation (pure domain)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from contracts.enums import Severity
from contracts.envelope import new_id
from triage.domain.escalation import (
    FIRST,
    Level,
    Policy,
    Step,
    choose_policy,
    following,
    jump,
    moved_to,
    page,
    validate,
)

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
L1 = Level((uuid4(),), (), 5)
L2 = Level((), ("incident_manager",), 10)
L3 = Level((uuid4(),), ("executive",), 15)


def policy(*, client_id: UUID | None = None, min_severity: Severity | None = None, name: str = "p") -> Policy:
    return Policy(new_id(), name, (L1, L2), client_id=client_id, min_severity=min_severity)


def test_level_by_level_then_loops_then_stops() -> None:
    levels, loops = (L1, L2, L3), 1
    steps = [FIRST]
    while (nxt := following(levels, loops, steps[-1])) is not None:
        steps.append(nxt)
    assert steps == [Step(1, 0), Step(2, 0), Step(3, 0), Step(1, 1), Step(2, 1), Step(3, 1)]


def test_no_loops_stops_after_last_level() -> None:
    assert following((L1,), 0, FIRST) is None
    assert following((L1, L2), 0, Step(2, 0)) is None


def test_page_schedules_next_after_the_level_delay() -> None:
    plan = page((L1, L2), 0, FIRST, NOW)
    assert plan.next_due_at == NOW + timedelta(minutes=5)
    assert not plan.done
    # The last level of the last loop: nothing follows.
    assert page((L1, L2), 0, Step(2, 0), NOW).done
    # The last level with a loop left waits its own delay before level 1 again.
    assert page((L1, L2), 1, Step(2, 0), NOW).next_due_at == NOW + timedelta(minutes=10)


def test_jump_goes_to_the_next_level_or_level_one_or_stays_at_the_top() -> None:
    assert jump((L1, L2), 0, None) == FIRST
    assert jump((L1, L2), 0, FIRST) == Step(2, 0)
    assert jump((L1, L2), 1, Step(2, 0)) == Step(1, 1)
    assert jump((L1, L2), 0, Step(2, 0)) == Step(2, 0)  # run out: the most senior level again


def test_manual_level_is_clamped_and_keeps_the_loop() -> None:
    assert moved_to((L1, L2, L3), Step(1, 1), 3) == Step(3, 1)
    assert moved_to((L1, L2), Step(1, 0), 9) == Step(2, 0)
    assert moved_to((L1, L2), Step(2, 0), 0) == Step(1, 0)


def test_client_policy_beats_tenant_default() -> None:
    client = uuid4()
    default = policy(name="default")
    own = policy(client_id=client, name="own")
    other = policy(client_id=uuid4(), name="other")
    assert choose_policy([default, own, other], client, Severity.P3) == own
    assert choose_policy([default, own, other], uuid4(), Severity.P3) == default
    assert choose_policy([default, own, other], None, Severity.P1) == default
    assert choose_policy([own, other], None, Severity.P1) is None


def test_min_severity_filters_and_the_stricter_limit_wins() -> None:
    any_severity = policy(name="any")
    p2_up = policy(min_severity=Severity.P2, name="p2")
    p1_only = policy(min_severity=Severity.P1, name="p1")
    policies = [any_severity, p2_up, p1_only]
    assert choose_policy(policies, None, Severity.P1) == p1_only
    assert choose_policy(policies, None, Severity.P2) == p2_up
    assert choose_policy(policies, None, Severity.P4) == any_severity
    assert choose_policy([p2_up], None, Severity.P3) is None


def test_client_scope_outranks_severity_limit() -> None:
    client = uuid4()
    tenant_p1 = policy(min_severity=Severity.P1)
    client_any = policy(client_id=client)
    assert choose_policy([tenant_p1, client_any], client, Severity.P1) == client_any


def test_equal_policies_pick_the_newest() -> None:
    older, newer = policy(name="a"), policy(name="b")
    assert choose_policy([newer, older], None, Severity.P2) == newer


def test_validation() -> None:
    assert validate((L1,), 0) == []
    assert validate((), 0) == ["a policy needs at least one level"]
    assert validate((Level((), (), 0),), -1) == [
        "level 1: delay_minutes must be at least 1",
        "level 1: page at least one user or role",
        "loops must not be negative",
    ]
