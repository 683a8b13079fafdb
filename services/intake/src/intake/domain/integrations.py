"""Alert integrations as intake knows them: replicated from directory's integration events.

An alert carries the integration's token; intake keeps only the token's SHA-256 and finds the
integration by it, which also tells the tenant, the client and how alerts are grouped and rated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from contracts.enums import IntegrationKind
from contracts.events import ImpactFacts, LabelRule
from intake.domain.impact import impact_facts

# The kinds whose bearer token is accepted on POST /v1/alerts/alertmanager and /generic. An events_v2
# integration's token is the PagerDuty routing_key, for POST /v1/alerts/events.
ALERTMANAGER_KINDS = frozenset({IntegrationKind.ALERTMANAGER, IntegrationKind.GENERIC})


@dataclass(frozen=True)
class Integration:
    id: UUID
    tenant_id: UUID
    kind: IntegrationKind
    name: str
    client_id: UUID | None = None
    default_component_id: UUID | None = None
    impact_rules: tuple[LabelRule, ...] = ()
    default_impact: Mapping[str, Any] = field(default_factory=dict)
    grouping_labels: tuple[str, ...] = ()
    # Whether resolved alerts resolve the incident (default on).
    auto_resolve: bool = True
    # The integration's own rate limit (alerts/s and burst); None: intake's settings.
    rate_limit_per_s: float | None = None
    rate_limit_burst: int | None = None

    def refuses_bearer(self, endpoint: str) -> str | None:
        """Why this integration's token may not be used as a bearer token on ``endpoint``."""
        if self.kind in ALERTMANAGER_KINDS:
            return None
        return (
            f"integration {self.name!r} is of kind {self.kind.value}; its routing_key is for "
            f"POST /v1/alerts/events, not {endpoint}"
        )

    def impact(self, labels: Mapping[str, str]) -> ImpactFacts:
        return impact_facts(labels, self.default_impact, self.impact_rules)
