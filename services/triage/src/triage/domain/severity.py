"""Severity classification (docs/architecture.md, from 001 "Severity Classification Process").

Every condition is evaluated and kept as a flag, true or false; severity is P1 if any p1_* flag
holds, else P2 if any p2_*, else P3 if any p3_*, else P4. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.enums import Degradation, Scope, Severity, SeverityFlag, Workaround
from contracts.events.intake import ImpactFacts

WIDE_IMPACT_PARTIES = 5
MULTI_SCOPES = {Scope.MULTIPLE_DEPARTMENTS, Scope.MULTIPLE_SITES, Scope.CRITICAL_FUNCTION}
LOCAL_SCOPES = {Scope.SINGLE_DEPARTMENT, Scope.LOCALIZED, Scope.NON_CRITICAL_FUNCTION}


@dataclass(frozen=True)
class Classification:
    severity: Severity
    flags: dict[str, bool]


def evaluate_flags(facts: ImpactFacts, *, contractual_p1: bool, recurrent: bool) -> dict[str, bool]:
    critical = facts.business_critical is True
    workaround = facts.workaround
    flags = {
        SeverityFlag.P1_COMPLETE_OUTAGE: critical
        and facts.degradation is Degradation.COMPLETE_OUTAGE
        and workaround in (None, Workaround.NONE),
        SeverityFlag.P1_WIDE_IMPACT: facts.scope is Scope.ENTERPRISE
        or (facts.affected_parties or 0) >= WIDE_IMPACT_PARTIES,
        SeverityFlag.P1_REGULATORY_SAFETY_FINANCIAL: facts.regulatory_safety_financial is True,
        SeverityFlag.P1_PRIORITY_CUSTOMER_OR_RECURRENT: contractual_p1 or recurrent,
        SeverityFlag.P2_MAJOR_DEGRADATION: critical
        and facts.degradation is Degradation.MAJOR
        and workaround is Workaround.AVAILABLE,
        SeverityFlag.P2_MULTI_DEPARTMENT: facts.scope in MULTI_SCOPES,
        SeverityFlag.P2_SLA_RISK: facts.sla_risk is True,
        SeverityFlag.P3_LOCALIZED: facts.scope in LOCAL_SCOPES,
        SeverityFlag.P3_MODERATE_DEGRADATION: facts.degradation is Degradation.MODERATE
        and workaround in (Workaround.MINIMAL, Workaround.AVAILABLE),
    }
    return {flag.value: bool(value) for flag, value in flags.items()}


def classify(facts: ImpactFacts, *, contractual_p1: bool = False, recurrent: bool = False) -> Classification:
    flags = evaluate_flags(facts, contractual_p1=contractual_p1, recurrent=recurrent)
    for severity, prefix in ((Severity.P1, "p1_"), (Severity.P2, "p2_"), (Severity.P3, "p3_")):
        if any(value for name, value in flags.items() if name.startswith(prefix)):
            return Classification(severity, flags)
    return Classification(Severity.P4, flags)


def effective(computed: Severity, override: Severity | None) -> Severity:
    """The severity an incident carries: a person's override when there is one, else the
    computed one (both are kept)."""
    return override or computed
