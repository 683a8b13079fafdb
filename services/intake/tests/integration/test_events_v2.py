"""PagerDuty Events v2 on POST /v1/alerts/events over the real broker and database: trigger,
acknowledge and resolve, dedup keys generated and reused, dedup after resolve, 202/400/429."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from backbone.testing import Stack, eventually, serving, unique
from contracts.enums import IncidentSource, IntegrationKind, Severity
from contracts.events import (
    AlertAcknowledged,
    AlertRepeated,
    AlertsResolved,
    IncidentReported,
    IncidentResolved,
    LabelRule,
)
from intake.config import Settings
from intake.main import create

from .conftest import Alerting

pytestmark = pytest.mark.integration

URL = "/v1/alerts/events"


def trigger(routing_key: str, dedup_key: str | None = None, **payload: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "payload": {
            "summary": "Disk full on db1",
            "source": "db1.example.com",
            "severity": "critical",
            **payload,
        },
        "images": [{"src": "https://example.com/graph.png"}],  # dropped: not kept
    }
    if dedup_key is not None:
        body["dedup_key"] = dedup_key
    return body


def action(routing_key: str, event_action: str, dedup_key: str) -> dict[str, Any]:
    return {"routing_key": routing_key, "event_action": event_action, "dedup_key": dedup_key}


async def test_trigger_opens_an_incident_with_the_alert_facts(alerting: Alerting) -> None:
    token, integration = await alerting.integration(
        IntegrationKind.EVENTS_V2,
        impact_rules=[
            LabelRule(label="severity", values=["critical"], fact="degradation", to="complete_outage")
        ],
    )
    r = await alerting.posted(
        URL,
        json=trigger(
            token,
            "disk-db1",
            component="postgres",
            group="prod-db",
            custom_details={"free_bytes": 0, "mount": "/var"},
            timestamp="2025-01-01T10:00:00Z",
            **{"class": "disk"},
        ),
    )
    assert r.status_code == 202, r.text
    assert r.json() == {"status": "success", "message": "Event processed", "dedup_key": "disk-db1"}

    (envelope,) = await alerting.events(IncidentReported.event_type, integration.tenant_id)
    reported = envelope.payload()
    assert isinstance(reported, IncidentReported)
    assert reported.source is IncidentSource.EVENTS_V2
    assert reported.title == "Disk full on db1" and reported.alert_severity == "critical"
    assert reported.integration_id == integration.integration_id
    assert reported.impact.degradation == "complete_outage"
    assert reported.detected_at == datetime(2025, 1, 1, 10, tzinfo=UTC)
    assert reported.details == {
        "source": "db1.example.com",
        "component": "postgres",
        "group": "prod-db",
        "class": "disk",
        "custom_details": {"free_bytes": 0, "mount": "/var"},
    }
    assert reported.labels["severity"] == "critical" and reported.labels["mount"] == "/var"
    assert reported.dedup_key == f"ev2:{integration.integration_id}:disk-db1"


async def test_trigger_without_dedup_key_gets_one_and_repeats_attach(alerting: Alerting) -> None:
    token, integration = await alerting.integration(IntegrationKind.EVENTS_V2)
    first = await alerting.posted(URL, json=trigger(token))
    assert first.status_code == 202, first.text
    key = first.json()["dedup_key"]
    assert key
    for _ in range(3):
        again = await alerting.posted(URL, json=trigger(token, key))
        assert again.status_code == 202 and again.json()["dedup_key"] == key
    other = await alerting.posted(URL, json=trigger(token))
    assert other.json()["dedup_key"] != key

    reported = await alerting.events(IncidentReported.event_type, integration.tenant_id)
    assert len(reported) == 2
    repeats = [e.payload() for e in await alerting.events(AlertRepeated.event_type, integration.tenant_id)]
    assert [r.alert_count for r in repeats if isinstance(r, AlertRepeated)] == [2, 3, 4]
    (row,) = [k for k in await alerting.keys(integration.tenant_id) if k.dedup_key.endswith(key)]
    assert row.alert_count == 4 and row.status == "open"


async def test_acknowledge_then_resolve_then_a_new_trigger_opens_a_new_incident(alerting: Alerting) -> None:
    token, integration = await alerting.integration(IntegrationKind.EVENTS_V2)
    tenant = integration.tenant_id
    assert (await alerting.posted(URL, json=trigger(token, "k1"))).status_code == 202
    (opened,) = await alerting.events(IncidentReported.event_type, tenant)

    for _ in range(2):  # a second acknowledge changes nothing
        r = await alerting.posted(URL, json=action(token, "acknowledge", "k1"))
        assert r.status_code == 202 and r.json()["dedup_key"] == "k1", r.text
    (acked,) = await alerting.events(AlertAcknowledged.event_type, tenant)
    assert acked.subject == opened.subject
    # Still attached while acknowledged.
    assert (await alerting.posted(URL, json=trigger(token, "k1"))).status_code == 202
    assert len(await alerting.events(IncidentReported.event_type, tenant)) == 1

    r = await alerting.posted(URL, json=action(token, "resolve", "k1"))
    assert r.status_code == 202, r.text
    (resolved,) = await alerting.events(AlertsResolved.event_type, tenant)
    assert resolved.subject == opened.subject
    assert await alerting.count_keys(tenant, "resolved") == 1
    # A second resolve, and an acknowledge of what is resolved: accepted, nothing happens.
    assert (await alerting.posted(URL, json=action(token, "resolve", "k1"))).status_code == 202
    assert (await alerting.posted(URL, json=action(token, "acknowledge", "k1"))).status_code == 202
    assert len(await alerting.events(AlertsResolved.event_type, tenant)) == 1
    assert len(await alerting.events(AlertAcknowledged.event_type, tenant)) == 1

    # The same key after the resolve: a new incident.
    assert (await alerting.posted(URL, json=trigger(token, "k1"))).status_code == 202
    first, second = await alerting.events(IncidentReported.event_type, tenant)
    assert first.subject == opened.subject != second.subject
    # Acknowledge and resolve of a key never triggered: accepted, nothing written.
    assert (await alerting.posted(URL, json=action(token, "resolve", "never"))).status_code == 202
    assert await alerting.count_keys(tenant) == 2


async def test_an_incident_resolved_in_triage_closes_its_key(alerting: Alerting) -> None:
    token, integration = await alerting.integration(IntegrationKind.EVENTS_V2)
    tenant = integration.tenant_id
    assert (await alerting.posted(URL, json=trigger(token, "k"))).status_code == 202
    (opened,) = await alerting.events(IncidentReported.event_type, tenant)
    reported = opened.payload()
    assert isinstance(reported, IncidentReported)
    await alerting.publish(
        IncidentResolved(
            incident_id=reported.incident_id,
            reference_code="INC-1",
            title=reported.title,
            severity=Severity.P2,
            status="resolved",
            resolved_at=datetime.now(UTC),
            dedup_key=reported.dedup_key,
        ),
        tenant,
    )
    await eventually(lambda: alerting.count_keys(tenant, "closed"), what="the key to close")
    assert (await alerting.posted(URL, json=trigger(token, "k"))).status_code == 202
    assert len(await alerting.events(IncidentReported.event_type, tenant)) == 2
    # Triage's resolve was not the alert's: intake announces no AlertsResolved for it.
    assert await alerting.events(AlertsResolved.event_type, tenant) == []


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "JSON object"),
        ({"event_action": "trigger"}, "routing_key"),
        ({"event_action": "explode"}, "event_action"),
        ({"event_action": "trigger"}, "payload"),
        ({"event_action": "acknowledge"}, "dedup_key"),
        (
            {"event_action": "trigger", "payload": {"summary": "x", "source": "y", "severity": "fatal"}},
            "severity",
        ),
        (
            {"event_action": "trigger", "payload": {"summary": "", "source": "y", "severity": "info"}},
            "summary",
        ),
        (
            {
                "event_action": "trigger",
                "dedup_key": "k" * 256,
                "payload": {"summary": "x", "source": "y", "severity": "info"},
            },
            "dedup_key",
        ),
    ],
)
async def test_an_invalid_event_is_a_400_like_pagerduty_and_writes_nothing(
    alerting: Alerting, body: Any, error: str
) -> None:
    token, integration = await alerting.integration(IntegrationKind.EVENTS_V2)
    if isinstance(body, dict) and error != "routing_key":
        body = {"routing_key": token, **body}
    if isinstance(body, bytes):
        r = await alerting.posted(URL, content=body, headers={"content-type": "application/json"})
    else:
        r = await alerting.posted(URL, json=body)
    assert r.status_code == 400, r.text
    answer = r.json()
    assert answer["status"] == "invalid event" and answer["message"] == "Event object is invalid"
    assert any(error in e for e in answer["errors"]), answer
    assert await alerting.count_keys(integration.tenant_id) == 0


async def test_a_routing_key_that_is_not_an_events_v2_integration_is_refused(alerting: Alerting) -> None:
    am_token, _ = await alerting.integration(IntegrationKind.ALERTMANAGER)
    for key in (am_token, unique("nobody-")):
        r = await alerting.posted(URL, json=trigger(key))
        assert r.status_code == 400 and "routing_key" in r.json()["errors"][0], r.text


async def test_over_the_rate_limit_is_a_429_with_retry_after(alerting: Alerting, stack: Stack) -> None:
    token, integration = await alerting.integration(IntegrationKind.EVENTS_V2)
    # A replica configured with a small bucket (3 at once, refilled at 1 per minute).
    app = create(stack.settings(Settings, log_level="WARNING", alert_rate_per_s=1 / 60, alert_rate_burst=3))
    async with serving(app) as small:
        codes = [(await small.post(URL, json=trigger(token, f"k{i}"))).status_code for i in range(3)]
        assert codes == [202, 202, 202]
        r = await small.post(URL, json=trigger(token, "k3"))
    assert r.status_code == 429, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert 50 <= int(r.headers["retry-after"]) <= 60
    await alerting.settled()
    assert await alerting.count_keys(integration.tenant_id) == 3
    # Another integration has its own bucket.
    other, _ = await alerting.integration(IntegrationKind.EVENTS_V2)
    assert (await alerting.posted(URL, json=trigger(other))).status_code == 202


async def test_an_integration_s_own_rate_limit_wins_over_the_default(alerting: Alerting) -> None:
    """Directory's `rate_limit_per_s`/`rate_limit_burst` of the integration, not intake's
    defaults (100/s, bursts of 1,000), decide when it gets a 429."""
    token, integration = await alerting.integration(
        IntegrationKind.EVENTS_V2, rate_limit_per_s=1 / 60, rate_limit_burst=2
    )
    codes = [(await alerting.posted(URL, json=trigger(token, f"k{i}"))).status_code for i in range(3)]
    assert codes == [202, 202, 429]
    assert await alerting.count_keys(integration.tenant_id) == 2


async def test_a_replayed_idempotency_key_gives_the_same_answer(alerting: Alerting) -> None:
    token, integration = await alerting.integration(IntegrationKind.EVENTS_V2)
    headers = {"Idempotency-Key": unique("idem-")}
    first = await alerting.posted(URL, json=trigger(token), headers=headers)
    again = await alerting.posted(URL, json=trigger(token), headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json() and again.headers.get("idempotent-replayed") == "true"
    await alerting.settled()
    assert len(await alerting.events(IncidentReported.event_type, integration.tenant_id)) == 1
    assert isinstance(first.json()["dedup_key"], str) and UUID(first.json()["dedup_key"])
