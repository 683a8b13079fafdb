from contracts.enums import Degradation, Scope, Workaround
from contracts.events import ImpactFacts, LabelRule
from intake.domain.impact import impact_facts, matches


def rule(label: str, values: list[str], fact: str, to: bool | int | str) -> LabelRule:
    return LabelRule(label=label, values=values, fact=fact, to=to)


def test_no_defaults_and_no_rules_give_no_facts() -> None:
    assert impact_facts({"severity": "critical"}, {}, []) == ImpactFacts()


def test_defaults_apply_when_no_rule_matches() -> None:
    facts = impact_facts({"env": "staging"}, {"business_critical": False, "scope": "localized"}, [])
    assert facts == ImpactFacts(business_critical=False, scope=Scope.LOCALIZED)


def test_a_matching_rule_overrides_the_default() -> None:
    rules = [rule("severity", ["critical", "page"], "degradation", "complete_outage")]
    defaults = {"degradation": "minor", "business_critical": True}
    assert impact_facts({"severity": "critical"}, defaults, rules) == ImpactFacts(
        degradation=Degradation.COMPLETE_OUTAGE, business_critical=True
    )
    # A value the rule does not list leaves the default.
    assert impact_facts({"severity": "warning"}, defaults, rules).degradation is Degradation.MINOR


def test_a_rule_without_values_matches_any_value_but_not_a_missing_label() -> None:
    r = rule("customer_facing", [], "sla_risk", True)
    assert impact_facts({"customer_facing": "anything"}, {}, [r]).sla_risk is True
    assert impact_facts({"other": "x"}, {}, [r]).sla_risk is None
    assert not matches(r, {"customer_facing": ""})  # empty is absent, as in Prometheus


def test_later_matching_rules_win() -> None:
    rules = [
        rule("tier", [], "affected_parties", 10),
        rule("tier", ["gold"], "affected_parties", 500),
        rule("tier", ["silver"], "affected_parties", 50),
    ]
    assert impact_facts({"tier": "gold"}, {}, rules).affected_parties == 500
    assert impact_facts({"tier": "bronze"}, {}, rules).affected_parties == 10


def test_a_false_fact_is_set_not_dropped() -> None:
    rules = [rule("env", ["dev"], "business_critical", False)]
    assert impact_facts({"env": "dev"}, {"business_critical": True}, rules).business_critical is False


def test_invalid_facts_are_skipped() -> None:
    rules = [
        rule("a", [], "degradation", "catastrophic"),  # not a Degradation
        rule("a", [], "no_such_fact", True),  # not an ImpactFacts field
        rule("a", [], "affected_parties", "many"),  # not an int
        rule("a", [], "workaround", "available"),  # valid: kept
    ]
    defaults = {"degradation": "major", "scope": "the whole world", "colour": "red"}
    facts = impact_facts({"a": "1"}, defaults, rules)
    assert facts == ImpactFacts(degradation=Degradation.MAJOR, workaround=Workaround.AVAILABLE)


def test_values_are_coerced_like_impact_facts_does() -> None:
    rules = [rule("n", [], "affected_parties", "25"), rule("n", [], "regulatory_safety_financial", "true")]
    facts = impact_facts({"n": "x"}, {}, rules)
    assert facts.affected_parties == 25 and facts.regulatory_safety_financial is True
