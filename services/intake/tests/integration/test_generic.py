"""Generic alerts on POST /v1/alerts/generic, and the limits every alert endpoint enforces
(body size 413, label counts and lengths 422), over the real broker and database."""

from __future__ import annotations

from typing import Any

import pytest

from backbone.testing import unique
from contracts.enums import IncidentSource, IntegrationKind
from contracts.events import AlertsResolved, IncidentReported, LabelRule
from intake.domain.limits import MAX_BODY_BYTES, MAX_LABEL_VALUE, MAX_LABELS

from .conftest import Alerting

pytestmark = pytest.mark.integration

URL = "/v1/alerts/generic"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_one_alert_or_an_array_opens_and_resolves_incidents(alerting: Alerting) -> None:
    token, integration = await alerting.integration(
        IntegrationKind.GENERIC,
        impact_rules=[LabelRule(label="severity", values=["critical"], fact="business_critical", to=True)],
    )
    tenant = integration.tenant_id
    one = {
        "title": "Backup failed on db1",
        "dedup_key": "backup-db1",
        "severity": "critical",
        "labels": {"host": "db1"},
        "details": {"job": "nightly", "attempts": 3},
        "occurred_at": "2025-01-01T02:00:00Z",
        "unknown_field": "dropped",
    }
    r = await alerting.sent(URL, one, bearer(token))
    # The answer tells the dedup key; what became of the alert is decided after it.
    (a,) = r.json()["alerts"]
    assert a == {"dedup_key": a["dedup_key"], "incident_id": None, "opened": None, "outcome": "accepted"}
    assert a["dedup_key"].endswith(":backup-db1")

    (envelope,) = await alerting.events(IncidentReported.event_type, tenant)
    reported = envelope.payload()
    assert isinstance(reported, IncidentReported)
    assert reported.source is IncidentSource.GENERIC and reported.title == "Backup failed on db1"
    assert reported.labels == {"host": "db1", "severity": "critical"}
    assert reported.details == {"job": "nightly", "attempts": 3}
    assert reported.alert_severity == "critical" and reported.impact.business_critical is True

    # An array: a repeat of the first, and one without a key (keyed by title and labels).
    many: list[dict[str, Any]] = [
        {"title": "Backup failed on db1", "dedup_key": "backup-db1"},
        {"title": "Queue backlog", "labels": {"queue": "mail"}},
        {"title": "Queue backlog", "labels": {"queue": "mail"}},
    ]
    r = await alerting.sent(URL, many, bearer(token))
    backup, queue, again = (x["dedup_key"] for x in r.json()["alerts"])
    assert backup == a["dedup_key"] and queue == again != backup
    assert (await alerting.key(tenant, backup)).alert_count == 2  # attached
    assert (await alerting.key(tenant, queue)).alert_count == 2  # opened, then attached
    assert len(await alerting.events(IncidentReported.event_type, tenant)) == 2

    resolve = {"title": "Backup failed on db1", "dedup_key": "backup-db1", "status": "resolved"}
    await alerting.sent(URL, resolve, bearer(token))
    assert (await alerting.key(tenant, backup)).status == "resolved"
    (resolved,) = await alerting.events(AlertsResolved.event_type, tenant)
    assert resolved.subject == envelope.subject


async def test_grouping_labels_group_generic_alerts(alerting: Alerting) -> None:
    token, integration = await alerting.integration(IntegrationKind.GENERIC, grouping_labels=["service"])
    tenant = integration.tenant_id
    r = await alerting.sent(
        URL,
        [
            {"title": "5xx on web-1", "labels": {"service": "shop", "pod": "web-1"}},
            {"title": "5xx on web-2", "labels": {"service": "shop", "pod": "web-2"}},
        ],
        bearer(token),
    )
    a, b = r.json()["alerts"]
    assert a["dedup_key"] == b["dedup_key"]
    assert len(await alerting.events(IncidentReported.event_type, tenant)) == 1  # one incident for both
    assert (await alerting.key(tenant, a["dedup_key"])).alert_count == 2
    # Resolving one pod's alert leaves the incident open; the other's resolves it.
    resolve = {"title": "5xx on web-1", "status": "resolved", "labels": {"service": "shop", "pod": "web-1"}}
    await alerting.sent(URL, resolve, bearer(token))
    assert (await alerting.key(tenant, a["dedup_key"])).status == "open"
    resolve["labels"]["pod"] = "web-2"  # type: ignore[index]
    await alerting.sent(URL, resolve, bearer(token))
    assert (await alerting.key(tenant, a["dedup_key"])).status == "resolved"
    assert len(await alerting.events(AlertsResolved.event_type, tenant)) == 1


async def test_an_events_v2_routing_key_is_not_a_bearer_token(alerting: Alerting) -> None:
    token, _ = await alerting.integration(IntegrationKind.EVENTS_V2)
    r = await alerting.client.post(URL, json={"title": "x"}, headers=bearer(token))
    assert r.status_code == 401 and "/v1/alerts/events" in r.json()["detail"]


@pytest.mark.parametrize(
    ("alert", "where"),
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "x", "status": "exploded"}, "status"),
        ({"title": "x", "labels": {f"l{i}": "v" for i in range(MAX_LABELS + 1)}}, "labels"),
        ({"title": "x", "labels": {"l": "v" * (MAX_LABEL_VALUE + 1)}}, "labels.l"),
        ({"title": "x", "labels": {"l" * 129: "v"}}, "labels"),
        # jsonb cannot hold a NUL: refused now, not dead-lettered after the answer.
        ({"title": "x", "labels": {"l": "a\x00b"}}, "labels.l"),
    ],
)
async def test_invalid_generic_alerts_are_422_and_write_nothing(
    alerting: Alerting, alert: dict[str, Any], where: str
) -> None:
    token, integration = await alerting.integration(IntegrationKind.GENERIC)
    r = await alerting.client.post(URL, json=alert, headers=bearer(token))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert where in r.json()["detail"], r.json()
    await alerting.settled()  # nothing was appended for the consumer to write either
    assert await alerting.count_keys(integration.tenant_id) == 0


@pytest.mark.parametrize("url", ["/v1/alerts/generic", "/v1/alerts/alertmanager", "/v1/alerts/events"])
async def test_a_body_over_512_kb_is_413_and_writes_nothing(alerting: Alerting, url: str) -> None:
    token, integration = await alerting.integration(IntegrationKind.GENERIC)
    big = b'{"title": "' + b"x" * MAX_BODY_BYTES + b'"}'
    r = await alerting.client.post(
        url, content=big, headers={**bearer(token), "content-type": "application/json"}
    )
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert str(MAX_BODY_BYTES) in r.json()["detail"]

    # Streamed without a Content-Length: refused as it comes in.
    async def chunks() -> Any:
        yield b'{"title": "'
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"y" * 65536
        yield b'"}'

    r = await alerting.client.post(
        url, content=chunks(), headers={**bearer(token), "content-type": "application/json"}
    )
    assert r.status_code == 413, r.text
    await alerting.settled()
    assert await alerting.count_keys(integration.tenant_id) == 0
    # An ordinary body goes through.
    ok = {"title": unique("t"), "description": "d" * 3000}
    assert (await alerting.client.post(URL, json=ok, headers=bearer(token))).status_code == 202
