"""Severity per docs/architecture.md "Severity policy" / 001 "Severity Classification Process",
table-driven: every flag alone (and its near misses), combinations and the P1 > P2 > P3 > P4
precedence, contractual P1 and recurrence, and the manager's override (the computed severity and
the flags are kept)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from contracts.enums import Degradation, Scope, Severity, SeverityFlag, Workaround
from contracts.events.intake import ImpactFacts
from triage.domain.incident import Prior, is_recurrent
from triage.domain.severity import classify, effective

F = SeverityFlag
CRITICAL_OUTAGE = {"business_critical": True, "degradation": Degradation.COMPLETE_OUTAGE}

# Each flag alone: facts (and context) that make exactly that flag true.
ALONE: dict[SeverityFlag, list[tuple[dict[str, Any], dict[str, bool]]]] = {
    F.P1_COMPLETE_OUTAGE: [
        ({**CRITICAL_OUTAGE, "workaround": Workaround.NONE}, {}),
        (CRITICAL_OUTAGE, {}),  # workaround unknown: none known
    ],
    F.P1_WIDE_IMPACT: [
        ({"scope": Scope.ENTERPRISE}, {}),
        ({"affected_parties": 5}, {}),
        ({"affected_parties": 40}, {}),
    ],
    F.P1_REGULATORY_SAFETY_FINANCIAL: [({"regulatory_safety_financial": True}, {})],
    F.P1_PRIORITY_CUSTOMER_OR_RECURRENT: [({}, {"contractual_p1": True}), ({}, {"recurrent": True})],
    F.P2_MAJOR_DEGRADATION: [
        (
            {"business_critical": True, "degradation": Degradation.MAJOR, "workaround": Workaround.AVAILABLE},
            {},
        )
    ],
    F.P2_MULTI_DEPARTMENT: [
        ({"scope": Scope.MULTIPLE_DEPARTMENTS}, {}),
        ({"scope": Scope.MULTIPLE_SITES}, {}),
        ({"scope": Scope.CRITICAL_FUNCTION}, {}),
    ],
    F.P2_SLA_RISK: [({"sla_risk": True}, {})],
    F.P3_LOCALIZED: [
        ({"scope": Scope.SINGLE_DEPARTMENT}, {}),
        ({"scope": Scope.LOCALIZED}, {}),
        ({"scope": Scope.NON_CRITICAL_FUNCTION}, {}),
    ],
    F.P3_MODERATE_DEGRADATION: [
        ({"degradation": Degradation.MODERATE, "workaround": Workaround.MINIMAL}, {}),
        ({"degradation": Degradation.MODERATE, "workaround": Workaround.AVAILABLE}, {}),
    ],
}

# Near misses: facts close to a condition that do not meet it (no flag true: P4).
NEAR_MISSES: list[dict[str, Any]] = [
    {},
    {"degradation": Degradation.COMPLETE_OUTAGE, "workaround": Workaround.NONE},  # not business-critical
    {**CRITICAL_OUTAGE, "workaround": Workaround.AVAILABLE},  # a workaround exists
    {"business_critical": False, "degradation": Degradation.COMPLETE_OUTAGE},
    {"affected_parties": 4},
    {"affected_parties": 0},
    {"regulatory_safety_financial": False},
    {"business_critical": True, "degradation": Degradation.MAJOR, "workaround": Workaround.NONE},
    {"business_critical": True, "degradation": Degradation.MAJOR},  # workaround unknown
    {"degradation": Degradation.MAJOR, "workaround": Workaround.AVAILABLE},  # not business-critical
    {"sla_risk": False},
    {"degradation": Degradation.MODERATE, "workaround": Workaround.NONE},
    {"degradation": Degradation.MODERATE},
    {"degradation": Degradation.MINOR, "workaround": Workaround.MINIMAL},
    {"degradation": Degradation.NONE, "business_critical": True},
]

ALONE_CASES = [
    pytest.param(flag, facts, context, id=f"{flag.value}-{i}")
    for flag, cases in ALONE.items()
    for i, (facts, context) in enumerate(cases)
]


def true_flags(flags: dict[str, bool]) -> set[str]:
    return {name for name, value in flags.items() if value}


@pytest.mark.parametrize(("flag", "facts", "context"), ALONE_CASES)
def test_each_flag_alone(flag: SeverityFlag, facts: dict[str, Any], context: dict[str, bool]) -> None:
    result = classify(ImpactFacts(**facts), **context)
    assert true_flags(result.flags) == {flag.value}
    assert result.severity is flag.severity
    # Every flag is stored, true or false, under its fixed name.
    assert set(result.flags) == {f.value for f in SeverityFlag}


@pytest.mark.parametrize(
    "facts", NEAR_MISSES, ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()) or "none"
)
def test_near_misses_are_p4(facts: dict[str, Any]) -> None:
    result = classify(ImpactFacts(**facts))
    assert true_flags(result.flags) == set()
    assert result.severity is Severity.P4


def _merge(
    cases: tuple[tuple[dict[str, Any], dict[str, bool]], ...],
) -> tuple[dict[str, Any], dict[str, bool]] | None:
    facts: dict[str, Any] = {}
    context: dict[str, bool] = {}
    for f, c in cases:
        for key, value in f.items():
            if key in facts and facts[key] != value:
                return None  # the two conditions contradict each other (one degradation, one scope)
            facts[key] = value
        context.update(c)
    return facts, context


COMBINATIONS = [
    pytest.param(flags, merged, id="+".join(f.value for f in flags))
    for size in (2, 3)
    for flags in itertools.combinations(ALONE, size)
    if (merged := _merge(tuple(ALONE[f][0] for f in flags))) is not None
]


@pytest.mark.parametrize(("flags", "merged"), COMBINATIONS)
def test_combinations_keep_every_flag_and_the_most_severe_wins(
    flags: tuple[SeverityFlag, ...], merged: tuple[dict[str, Any], dict[str, bool]]
) -> None:
    facts, context = merged
    result = classify(ImpactFacts(**facts), **context)
    assert {f.value for f in flags} <= true_flags(result.flags)
    # P1 if any p1_*, else P2 if any p2_*, else P3 if any p3_*.
    assert result.severity is min((f.severity for f in flags), key=lambda s: s.rank)
    assert result.severity is min(
        (SeverityFlag(n).severity for n in true_flags(result.flags)), key=lambda s: s.rank
    )


def test_there_are_combinations_across_all_levels() -> None:
    levels = {tuple(sorted({f.severity.value for f in p.values[0]})) for p in COMBINATIONS}  # type: ignore[attr-defined]
    assert {("P1", "P2"), ("P1", "P3"), ("P2", "P3"), ("P1", "P2", "P3")} <= levels


PRECEDENCE = [
    # (facts, context, severity, true flags)
    (
        {"regulatory_safety_financial": True, "sla_risk": True, "scope": Scope.LOCALIZED},
        {},
        Severity.P1,
        {F.P1_REGULATORY_SAFETY_FINANCIAL, F.P2_SLA_RISK, F.P3_LOCALIZED},
    ),
    (
        {"sla_risk": True, "degradation": Degradation.MODERATE, "workaround": Workaround.MINIMAL},
        {},
        Severity.P2,
        {F.P2_SLA_RISK, F.P3_MODERATE_DEGRADATION},
    ),
    (
        {"scope": Scope.MULTIPLE_SITES},
        {"recurrent": True},
        Severity.P1,
        {F.P2_MULTI_DEPARTMENT, F.P1_PRIORITY_CUSTOMER_OR_RECURRENT},
    ),
    (
        {"scope": Scope.ENTERPRISE, **CRITICAL_OUTAGE, "regulatory_safety_financial": True},
        {"contractual_p1": True, "recurrent": True},
        Severity.P1,
        {
            F.P1_WIDE_IMPACT,
            F.P1_COMPLETE_OUTAGE,
            F.P1_REGULATORY_SAFETY_FINANCIAL,
            F.P1_PRIORITY_CUSTOMER_OR_RECURRENT,
        },
    ),
    # Many parties in one department: the P1 count wins over the local scope.
    (
        {"scope": Scope.SINGLE_DEPARTMENT, "affected_parties": 7},
        {},
        Severity.P1,
        {F.P1_WIDE_IMPACT, F.P3_LOCALIZED},
    ),
    (
        {
            "business_critical": True,
            "degradation": Degradation.MAJOR,
            "workaround": Workaround.AVAILABLE,
            "scope": Scope.LOCALIZED,
        },
        {},
        Severity.P2,
        {F.P2_MAJOR_DEGRADATION, F.P3_LOCALIZED},
    ),
    (
        {"degradation": Degradation.MODERATE, "workaround": Workaround.AVAILABLE, "scope": Scope.LOCALIZED},
        {},
        Severity.P3,
        {F.P3_LOCALIZED, F.P3_MODERATE_DEGRADATION},
    ),
    ({"degradation": Degradation.MINOR, "affected_parties": 2}, {}, Severity.P4, set()),
]


@pytest.mark.parametrize(("facts", "context", "severity", "flags"), PRECEDENCE)
def test_precedence(
    facts: dict[str, Any], context: dict[str, bool], severity: Severity, flags: set[SeverityFlag]
) -> None:
    result = classify(ImpactFacts(**facts), **context)
    assert result.severity is severity
    assert true_flags(result.flags) == {f.value for f in flags}


@pytest.mark.parametrize(("contractual_p1", "recurrent"), [(True, False), (False, True), (True, True)])
def test_contractual_p1_or_recurrence_makes_any_incident_p1(contractual_p1: bool, recurrent: bool) -> None:
    for facts in NEAR_MISSES + [f for cases in ALONE.values() for f, _ in cases]:
        result = classify(ImpactFacts(**facts), contractual_p1=contractual_p1, recurrent=recurrent)
        assert result.severity is Severity.P1
        assert result.flags[F.P1_PRIORITY_CUSTOMER_OR_RECURRENT.value] is True


NOW = datetime(2026, 5, 4, 12, tzinfo=UTC)
TENANT, OTHER = uuid4(), uuid4()
COMPONENT = uuid4()
WEEK = timedelta(days=7)

RECURRENCE = [
    # (history, dedup key, component, expected)
    ([Prior(TENANT, "fp-1", None, NOW - timedelta(days=6))], "fp-1", None, True),
    ([Prior(TENANT, "fp-1", None, NOW - timedelta(days=8))], "fp-1", None, False),  # outside the window
    ([Prior(TENANT, "fp-1", None, NOW - WEEK)], "fp-1", None, True),  # the window's edge counts
    ([Prior(TENANT, "fp-2", None, NOW - timedelta(hours=1))], "fp-1", None, False),
    ([Prior(TENANT, None, COMPONENT, NOW - timedelta(days=2))], None, COMPONENT, True),  # same component
    ([Prior(TENANT, "fp-9", COMPONENT, NOW - timedelta(days=2))], "fp-1", COMPONENT, True),
    ([Prior(OTHER, "fp-1", COMPONENT, NOW - timedelta(days=1))], "fp-1", COMPONENT, False),  # another tenant
    ([Prior(TENANT, "fp-1", None, NOW + timedelta(minutes=1))], "fp-1", None, False),  # a later one
    ([Prior(TENANT, None, None, NOW - timedelta(days=1))], None, None, False),  # nothing to match on
    ([], "fp-1", COMPONENT, False),
]


@pytest.mark.parametrize(("history", "dedup_key", "component_id", "expected"), RECURRENCE)
def test_recurrence(history: list[Prior], dedup_key: str | None, component_id: Any, expected: bool) -> None:
    found = is_recurrent(
        history,
        tenant_id=TENANT,
        dedup_key=dedup_key,
        component_id=component_id,
        detected_at=NOW,
        window=WEEK,
    )
    assert found is expected


@pytest.mark.parametrize(
    ("computed", "override", "expected"),
    [
        (Severity.P1, None, Severity.P1),
        (Severity.P1, Severity.P3, Severity.P3),  # lowered by a person
        (Severity.P4, Severity.P2, Severity.P2),  # raised by a person
        (Severity.P2, Severity.P2, Severity.P2),
    ],
)
def test_override_wins_and_the_computed_value_stays(
    computed: Severity, override: Severity | None, expected: Severity
) -> None:
    assert effective(computed, override) is expected


def test_an_override_leaves_the_flags_and_the_computed_severity() -> None:
    result = classify(ImpactFacts(scope=Scope.ENTERPRISE))
    assert effective(result.severity, Severity.P4) is Severity.P4
    assert result.severity is Severity.P1 and result.flags[F.P1_WIDE_IMPACT.value] is True
