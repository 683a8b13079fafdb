"""The first end-to-end path over the real broker and database:
Alertmanager webhook → intake → intake.incident_reported.v1 → triage opens the incident →
incident.created.v1 → audit records both in the tenant's hash chain."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from audit.config import Settings as AuditSettings
from audit.main import create as create_audit
from backbone.testing import Stack, created, eventually, incident_for, new_tenant, serving, sign_in
from directory.config import Settings as DirectorySettings
from directory.main import create as create_directory
from intake.config import Settings as IntakeSettings
from intake.main import create as create_intake
from triage.config import Settings as TriageSettings
from triage.main import create as create_triage

pytestmark = pytest.mark.integration


def webhook(*alerts: dict[str, Any], status: str = "firing") -> dict[str, Any]:
    return {
        "version": "4",
        "status": status,
        "receiver": "incident-platform",
        "groupKey": '{}:{alertname="DiskFull"}',
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "truncatedAlerts": 0,
        "alerts": list(alerts),
    }


def alert(fingerprint: str, instance: str, status: str = "firing") -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "DiskFull", "instance": instance, "severity": "critical"},
        "annotations": {"summary": f"Disk full on {instance}"},
        "startsAt": "2026-11-23T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus/graph",
        "fingerprint": fingerprint,
    }


@pytest.fixture
async def platform(stack: Stack) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    apps = {
        "directory": create_directory(stack.settings(DirectorySettings)),
        "intake": create_intake(stack.settings(IntakeSettings)),
        "triage": create_triage(stack.settings(TriageSettings)),
        "audit": create_audit(stack.settings(AuditSettings)),
    }
    async with (
        serving(apps["directory"]) as directory,
        serving(apps["intake"]) as intake,
        serving(apps["triage"]) as triage,
        serving(apps["audit"]) as audit,
    ):
        yield {"directory": directory, "intake": intake, "triage": triage, "audit": audit}


async def test_alert_becomes_incident_and_is_audited(
    platform: dict[str, httpx.AsyncClient], operator_key: str
) -> None:
    directory, intake, triage, audit = (platform[k] for k in ("directory", "intake", "triage", "audit"))

    tenant = await new_tenant(directory, operator_key)
    admin = await sign_in(directory, tenant.api_key)
    acme = {"client_name": "Acme", "registration_number": "ACME-1", "contact_email": "noc@acme.example"}
    client = await created(directory, "/v1/clients", {**acme, "client_type": "enterprise"}, admin)
    prometheus = {"kind": "alertmanager", "name": "prometheus", "client_id": client["id"]}
    token = (await created(directory, "/v1/integrations", prometheus, admin))["token"]

    # A wrong token is refused with problem+json and writes nothing.
    refused = await intake.post(
        "/v1/alerts/alertmanager",
        json=webhook(alert("fp-a", "db-1")),
        headers={"Authorization": "Bearer wrong"},
    )
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"

    body = webhook(alert("fp-a", "db-1"), alert("fp-b", "db-2"))
    auth = {"Authorization": f"Bearer {token}"}

    async def post_until_integration_known() -> httpx.Response | None:
        # 401 until intake has replicated the integration from directory.events.
        response = await intake.post("/v1/alerts/alertmanager", json=body, headers=auth)
        return response if response.status_code == 202 else None

    accepted = await eventually(post_until_integration_known, what="intake to accept the alerts")
    # The answer names each alert's dedup key; the incidents follow (docs/adr/0013-durable-fast-ingest.md).
    key_a, key_b = (a["dedup_key"] for a in accepted.json()["alerts"])
    assert key_a != key_b

    # The same firing alert again attaches to the open incident instead of opening another.
    again = await intake.post("/v1/alerts/alertmanager", json=webhook(alert("fp-a", "db-1")), headers=auth)
    assert again.status_code == 202
    assert [a["dedup_key"] for a in again.json()["alerts"]] == [key_a]

    a = await eventually(
        lambda: incident_for(triage, admin, key_a, alert_count=2),
        what="triage to open incident A with 2 alerts",
    )
    b = await eventually(lambda: incident_for(triage, admin, key_b), what="triage to open incident B")
    incident_a, incident_b = a["id"], b["id"]
    assert incident_a != incident_b and a["alert_count"] == 2 and b["alert_count"] == 1
    listed = (await triage.get("/v1/incidents", headers=admin)).json()
    assert len(listed) == 2  # the repeat opened no third incident
    assert a["status"] == "open" and a["tenant_id"] == tenant.tenant_id
    assert a["client_id"] == client["id"]
    assert a["title"] == "Disk full on db-1"
    assert {a["reference_code"], b["reference_code"]} == {"INC-000001", "INC-000002"}
    assert a["severity"] == "P4" and set(a["severity_flags"]) >= {"p1_complete_outage", "p3_localized"}
    assert not any(a["severity_flags"].values())

    async def timeline() -> list[str] | None:
        response = await audit.get(f"/v1/incidents/{incident_a}/timeline", headers=admin)
        if response.status_code != 200:
            return None
        types = [e["event_type"] for e in response.json()]
        return types if "incident.created.v1" in types and "intake.alert_repeated.v1" in types else None

    types = await eventually(timeline, what="audit to record incident A's events")
    assert types.count("intake.incident_reported.v1") == 1
    assert types.count("incident.created.v1") == 1

    # tenant, admin user, key, client, integration, 2 reported, 1 repeated, 2 created at least,
    # covered by a signed checkpoint (signed within seconds of the writes).
    async def verified() -> dict[str, Any] | None:
        answer: dict[str, Any] = (await audit.get("/v1/audit/verify", headers=admin)).json()
        return answer if answer["checked"] >= 10 else None

    result = await eventually(verified, what="a checkpoint over the tenant's first entries")
    assert result["ok"] is True and result["first_bad_index"] is None

    # The audit keeps no secrets or full PII: the integration's token hash and the client's
    # contact email are masked in the stored entries.
    entries = (await audit.get("/v1/audit", params={"limit": 1000}, headers=admin)).json()
    by_type = {e["event_type"]: e["data"] for e in entries}
    assert by_type["integration.created.v1"]["token_sha256"] == "***"
    assert by_type["client.onboarded.v1"]["contact_email"] != "noc@acme.example"
    assert "@acme.example" in by_type["client.onboarded.v1"]["contact_email"]
