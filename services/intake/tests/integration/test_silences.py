"""Silences (maintenance windows) over the real broker and database: created, listed and expired
by people with silences.manage, tenant-scoped; matching firing alerts are counted, open nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from contracts.enums import IntegrationKind
from contracts.events import IncidentReported, SilenceChanged

from .conftest import Alerting

pytestmark = pytest.mark.integration

URL = "/v1/silences"


def later(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def am_alert(fingerprint: str, **labels: str) -> dict[str, Any]:
    return {
        "status": "firing",
        "fingerprint": fingerprint,
        "labels": labels,
        "startsAt": "2025-01-01T00:00:00Z",
    }


async def post_alerts(alerting: Alerting, token: str, *alerts: dict[str, Any]) -> list[bool]:
    """Send the alerts and wait until intake has handled them; per alert, whether its key is
    open (a silenced alert opens nothing)."""
    r = await alerting.sent(
        "/v1/alerts/alertmanager",
        {"version": "4", "status": "firing", "alerts": list(alerts)},
        {"Authorization": f"Bearer {token}"},
    )
    tenant = await alerting.tenant_of(token)
    return [await alerting.key(tenant, a["dedup_key"]) is not None for a in r.json()["alerts"]]


async def test_a_silence_holds_back_matching_alerts_until_it_is_expired(alerting: Alerting) -> None:
    token, integration = await alerting.integration(IntegrationKind.ALERTMANAGER)
    tenant = integration.tenant_id
    manager = alerting.stack.auth(tenant_id=tenant, role="incident_manager")
    body = {
        "matchers": [
            {"name": "env", "value": "staging"},
            {"name": "alertname", "op": "=~", "value": "Disk.*"},
        ],
        "ends_at": later(hours=1),
        "comment": "storage migration",
    }
    r = await alerting.client.post(URL, json=body, headers=manager)
    assert r.status_code == 201, r.text
    silence = r.json()
    assert silence["state"] == "active" and silence["silenced_alerts"] == 0
    (changed,) = await alerting.events(SilenceChanged.event_type, tenant)
    assert changed.subject == silence["id"] and changed.actor.role == "incident_manager"

    opened = await post_alerts(
        alerting,
        token,
        am_alert("a", env="staging", alertname="DiskFull"),
        am_alert("a", env="staging", alertname="DiskFull"),
        am_alert("b", env="staging", alertname="HighLoad"),  # regex does not match
        am_alert("c", env="prod", alertname="DiskFull"),  # env does not match
        am_alert("d", alertname="DiskFull"),  # no env: "" != "staging"
    )
    assert opened == [False, False, True, True, True]
    assert len(await alerting.events(IncidentReported.event_type, tenant)) == 3

    got = (await alerting.client.get(f"{URL}/{silence['id']}", headers=manager)).json()
    assert (got["silenced_alerts"], got["silenced_keys"]) == (2, 1)
    listed = (await alerting.client.get(URL, params={"state": "active"}, headers=manager)).json()["items"]
    assert [s["id"] for s in listed] == [silence["id"]]

    r = await alerting.client.delete(f"{URL}/{silence['id']}", headers=manager)
    assert r.status_code == 200 and r.json()["state"] == "expired", r.text
    expired = (await alerting.events(SilenceChanged.event_type, tenant))[-1].payload()
    assert isinstance(expired, SilenceChanged) and expired.expired
    # Expiring again changes nothing and announces nothing.
    assert (await alerting.client.delete(f"{URL}/{silence['id']}", headers=manager)).status_code == 200
    assert len(await alerting.events(SilenceChanged.event_type, tenant)) == 2

    assert await post_alerts(alerting, token, am_alert("a", env="staging", alertname="DiskFull")) == [True]
    assert len(await alerting.events(IncidentReported.event_type, tenant)) == 4
    assert (await alerting.client.get(URL, params={"state": "active"}, headers=manager)).json()["items"] == []


async def test_a_pending_or_another_clients_silence_silences_nothing(alerting: Alerting) -> None:
    client_id = uuid4()
    token, integration = await alerting.integration(IntegrationKind.ALERTMANAGER, client_id=client_id)
    tenant = integration.tenant_id
    manager = alerting.stack.auth(tenant_id=tenant, role="technical_support")
    matchers = [{"name": "team", "value": "db"}]
    for extra in (
        {"starts_at": later(hours=1), "ends_at": later(hours=2)},
        {"ends_at": later(hours=1), "client_id": str(uuid4())},
    ):
        r = await alerting.client.post(URL, json={"matchers": matchers, **extra}, headers=manager)
        assert r.status_code == 201, r.text
    states = sorted(s["state"] for s in (await alerting.client.get(URL, headers=manager)).json()["items"])
    assert states == ["active", "pending"]
    assert await post_alerts(alerting, token, am_alert("x", team="db")) == [True]
    # The client's own silence does.
    r = await alerting.client.post(
        URL,
        json={"matchers": matchers, "ends_at": later(hours=1), "client_id": str(client_id)},
        headers=manager,
    )
    assert await post_alerts(alerting, token, am_alert("y", team="db")) == [False]


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"matchers": [{"name": "a", "op": "=~", "value": "("}]}, "regular expression"),
        ({"matchers": [{"name": "a", "op": "=~", "value": ".*"}]}, "empty string"),
        ({"matchers": [{"name": "a", "op": "!=", "value": "x"}]}, "empty string"),
        ({"matchers": []}, "matchers"),
        ({"matchers": [{"name": "a", "op": "~", "value": "x"}]}, "op"),
        ({"matchers": [{"name": "a", "value": "x"}], "starts_at": later(hours=2)}, "ends_at"),
        ({"matchers": [{"name": "a", "value": "x"}], "ends_at": "2025-01-01T00:00:00"}, "ends_at"),
    ],
)
async def test_invalid_silences_are_422(alerting: Alerting, body: dict[str, Any], why: str) -> None:
    tenant = uuid4()
    manager = alerting.stack.auth(tenant_id=tenant, role="system_administrator")
    r = await alerting.client.post(URL, json={"ends_at": later(hours=1), **body}, headers=manager)
    assert r.status_code == 422, r.text
    assert why in r.json()["detail"], r.json()
    assert (await alerting.client.get(URL, headers=manager)).json()["items"] == []


async def test_silences_need_the_permission_and_stay_in_their_tenant(alerting: Alerting) -> None:
    tenant = uuid4()
    manager = alerting.stack.auth(tenant_id=tenant, role="incident_manager")
    body = {"matchers": [{"name": "a", "value": "x"}], "ends_at": later(hours=1)}
    created = (await alerting.client.post(URL, json=body, headers=manager)).json()
    for role in ("client_contact", "executive", "account_manager", "vendor_contact"):
        denied = alerting.stack.auth(tenant_id=tenant, role=role, client_id=uuid4(), vendor_id=uuid4())
        assert (await alerting.client.post(URL, json=body, headers=denied)).status_code == 403, role
        assert (await alerting.client.get(URL, headers=denied)).status_code == 403, role
        assert (await alerting.client.delete(f"{URL}/{created['id']}", headers=denied)).status_code == 403
    assert (await alerting.client.get(URL)).status_code == 401
    stranger = alerting.stack.auth(tenant_id=uuid4(), role="incident_manager")
    assert (await alerting.client.get(f"{URL}/{created['id']}", headers=stranger)).status_code == 404
    assert (await alerting.client.delete(f"{URL}/{created['id']}", headers=stranger)).status_code == 404
    assert (await alerting.client.get(URL, headers=stranger)).json()["items"] == []
    still = (await alerting.client.get(f"{URL}/{created['id']}", headers=manager)).json()
    assert still["state"] == "active" and UUID(still["id"])
