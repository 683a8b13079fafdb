"""Impact facts of an alert, from its integration's settings (severity is derived from them:
docs/architecture.md "Severity policy").

An integration has a ``default_impact`` (an ImpactFacts dict) and ``impact_rules``: each rule sets
one fact when an alert label has one of the rule's values (any value when the rule lists none).
Rules apply in order over the defaults, so a later matching rule wins over an earlier one. A fact
that ImpactFacts would refuse (an unknown name, a value of the wrong kind) is skipped, never an
error: a misconfigured rule must not stop an alert from opening an incident.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from contracts.events import ImpactFacts, LabelRule


def _valid(fact: str, value: Any) -> Any | None:
    """The value as ImpactFacts holds it, or None when the fact or the value is not valid."""
    if fact not in ImpactFacts.model_fields:
        return None
    try:
        return getattr(ImpactFacts.model_validate({fact: value}), fact)
    except ValidationError:
        return None


def matches(rule: LabelRule, labels: Mapping[str, str]) -> bool:
    """The label is present (an empty value counts as absent, as in Prometheus) and, when the rule
    lists values, has one of them."""
    value = labels.get(rule.label)
    if not value:
        return False
    return not rule.values or value in rule.values


def impact_facts(
    labels: Mapping[str, str], default_impact: Mapping[str, Any], rules: Sequence[LabelRule]
) -> ImpactFacts:
    """The integration's default facts overlaid by every rule the alert's labels match."""
    facts: dict[str, Any] = {}
    for fact, value in default_impact.items():
        if (valid := _valid(fact, value)) is not None:
            facts[fact] = valid
    for rule in rules:
        if matches(rule, labels) and (valid := _valid(rule.fact, rule.to)) is not None:
            facts[rule.fact] = valid
    return ImpactFacts(**facts)
