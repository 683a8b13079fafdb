import hashlib
from uuid import uuid4

import pytest

from contracts.enums import IntegrationKind
from contracts.events import LabelRule, token_sha256
from intake.domain.integrations import Integration


def integration(kind: IntegrationKind) -> Integration:
    return Integration(
        id=uuid4(),
        tenant_id=uuid4(),
        kind=kind,
        name="prod-am",
        impact_rules=(LabelRule(label="severity", values=["critical"], fact="sla_risk", to=True),),
        default_impact={"business_critical": True},
    )


def test_token_hash_is_hex_sha256_like_directory_stores_it() -> None:
    assert token_sha256("s3cret") == hashlib.sha256(b"s3cret").hexdigest()
    assert len(token_sha256("x")) == 64


@pytest.mark.parametrize("kind", [IntegrationKind.ALERTMANAGER, IntegrationKind.GENERIC])
def test_alertmanager_and_generic_integrations_may_post_alertmanager_webhooks(kind: IntegrationKind) -> None:
    assert integration(kind).refuses_bearer("/v1/alerts/alertmanager") is None


def test_an_events_v2_integration_is_refused_with_the_reason() -> None:
    why = integration(IntegrationKind.EVENTS_V2).refuses_bearer("/v1/alerts/alertmanager")
    assert why is not None and "events_v2" in why and "/v1/alerts/events" in why


def test_impact_uses_the_integration_defaults_and_rules() -> None:
    facts = integration(IntegrationKind.ALERTMANAGER).impact({"severity": "critical"})
    assert facts.business_critical is True and facts.sla_risk is True
