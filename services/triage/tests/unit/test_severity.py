"""Severity per docs/architecture.md "Severity policy": each flag, precedence, contractual P1 and
recurrence. (The full table is in test_severity_table.py; these pin the first classifier.)"""

import pytest

from contracts.enums import Degradation, Scope, Severity, Workaround
from contracts.events.intake import ImpactFacts
from triage.domain.severity import classify

CASES = [
    (ImpactFacts(), {}, Severity.P4, set()),
    (
        ImpactFacts(
            business_critical=True, degradation=Degradation.COMPLETE_OUTAGE, workaround=Workaround.NONE
        ),
        {},
        Severity.P1,
        {"p1_complete_outage"},
    ),
    (ImpactFacts(affected_parties=5), {}, Severity.P1, {"p1_wide_impact"}),
    (ImpactFacts(affected_parties=4), {}, Severity.P4, set()),
    (ImpactFacts(scope=Scope.ENTERPRISE), {}, Severity.P1, {"p1_wide_impact"}),
    (ImpactFacts(regulatory_safety_financial=True), {}, Severity.P1, {"p1_regulatory_safety_financial"}),
    (ImpactFacts(), {"contractual_p1": True}, Severity.P1, {"p1_priority_customer_or_recurrent"}),
    (ImpactFacts(), {"recurrent": True}, Severity.P1, {"p1_priority_customer_or_recurrent"}),
    (
        ImpactFacts(business_critical=True, degradation=Degradation.MAJOR, workaround=Workaround.AVAILABLE),
        {},
        Severity.P2,
        {"p2_major_degradation"},
    ),
    (ImpactFacts(scope=Scope.MULTIPLE_SITES), {}, Severity.P2, {"p2_multi_department"}),
    (ImpactFacts(sla_risk=True), {}, Severity.P2, {"p2_sla_risk"}),
    (ImpactFacts(scope=Scope.LOCALIZED), {}, Severity.P3, {"p3_localized"}),
    (
        ImpactFacts(degradation=Degradation.MODERATE, workaround=Workaround.MINIMAL),
        {},
        Severity.P3,
        {"p3_moderate_degradation"},
    ),
    # Precedence: a P1 condition wins over P2 and P3 ones.
    (
        ImpactFacts(sla_risk=True, scope=Scope.LOCALIZED, regulatory_safety_financial=True),
        {},
        Severity.P1,
        {"p1_regulatory_safety_financial", "p2_sla_risk", "p3_localized"},
    ),
]


@pytest.mark.parametrize(("facts", "context", "severity", "true_flags"), CASES)
def test_classify(
    facts: ImpactFacts, context: dict[str, bool], severity: Severity, true_flags: set[str]
) -> None:
    result = classify(facts, **context)
    assert result.severity is severity
    assert {name for name, value in result.flags.items() if value} == true_flags
    assert len(result.flags) == 9  # every flag is stored, true or false
