"""Alert integrations: their tokens and their label → impact-fact rules."""

import secrets
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from backbone.problems import Unprocessable
from contracts.enums import IntegrationKind
from contracts.events import ImpactFacts, LabelRule, token_sha256


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once
    prefix: str
    sha256: str


def issue_token(kind: IntegrationKind) -> IssuedToken:
    # PagerDuty's routing keys are 32 hex characters; senders of Events v2 may validate that.
    token = secrets.token_hex(16) if kind is IntegrationKind.EVENTS_V2 else f"iit_{secrets.token_urlsafe(32)}"
    return IssuedToken(token, token[:8], token_sha256(token))


def check_rules(rules: list[LabelRule], default_impact: dict[str, Any]) -> None:
    """Every rule must name an impact fact and set it to a value that fact accepts."""
    try:
        ImpactFacts.model_validate(default_impact)
    except ValidationError as exc:
        raise Unprocessable(f"default_impact: {exc.errors()[0]['msg']}", field="default_impact") from exc
    for i, rule in enumerate(rules):
        if rule.fact not in ImpactFacts.model_fields:
            known = ", ".join(ImpactFacts.model_fields)
            raise Unprocessable(
                f"impact_rules[{i}].fact: {rule.fact!r} is not an impact fact ({known})", field="impact_rules"
            )
        try:
            ImpactFacts.model_validate({rule.fact: rule.to})
        except ValidationError as exc:
            raise Unprocessable(
                f"impact_rules[{i}].to: {exc.errors()[0]['msg']}", field="impact_rules"
            ) from exc
