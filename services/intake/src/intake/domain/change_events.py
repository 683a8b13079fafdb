"""PagerDuty Change Events, as intake accepts them on ``POST /v2/change/enqueue``.

Reference: https://developer.pagerduty.com/docs/events-api-v2/send-change-events/ . The routing
key is the token of an ``events_v2`` integration (PagerDuty's "the same integration key can be
used for both alert and change events"). A change event is not a problem: it opens nothing and
becomes a completed change record on the integration's component (docs/intake.md "Change
events"). Images are dropped, as PagerDuty's change events do not show them either.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.events.intake import ChangeLink, ChangeReceived
from intake.domain.events_v2 import Routed, validate
from intake.domain.integrations import Integration
from intake.domain.limits import MAX_DETAILS_JSON

MAX_LINKS = 20


class Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    summary: str = Field(min_length=1, max_length=1024)
    source: str | None = Field(default=None, max_length=255)
    timestamp: datetime | None = None
    custom_details: dict[str, Any] | None = None


class Link(BaseModel):
    model_config = ConfigDict(extra="ignore")

    href: str = Field(min_length=1, max_length=2000)
    text: str | None = Field(default=None, max_length=1024)


class ChangeEvent(Routed):
    payload: Payload
    links: list[Link] = Field(default=[], max_length=MAX_LINKS)


def parse(body: bytes) -> ChangeEvent:
    """The event, or events_v2.Invalid with one message per problem (PagerDuty's 400)."""
    return validate(ChangeEvent, body)


def received(event: ChangeEvent, integration: Integration, change_id: UUID, now: datetime) -> ChangeReceived:
    """The change as intake announces it: on the integration's client and default component, at
    the tool's time (else now), its details kept while they are small."""
    p = event.payload
    details = p.custom_details or {}
    if len(json.dumps(details, default=str)) > MAX_DETAILS_JSON:
        details = {"custom_details_truncated": True}
    occurred = p.timestamp or now
    return ChangeReceived(
        change_id=change_id,
        integration_id=integration.id,
        client_id=integration.client_id,
        component_id=integration.default_component_id,
        summary=p.summary,
        source=p.source,
        occurred_at=occurred if occurred.tzinfo else occurred.replace(tzinfo=UTC),
        custom_details=details,
        links=[ChangeLink(href=link.href, text=link.text) for link in event.links],
    )
