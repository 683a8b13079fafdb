"""Access control and tenant isolation of the audit API (docs/architecture.md "Security"), over
the real Kafka broker and PostgreSQL: events of two tenants arrive on intake.events and directory.events; each
tenant's reviewers read, and verify, only their own tenant's log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import update

from audit.adapters.orm import entries
from audit.config import Settings as AuditSettings
from audit.main import create as create_audit
from backbone.db import Database
from backbone.testing import Stack, assert_problem, eventually, publish, serving
from contracts.enums import IncidentSource, VendorType
from contracts.envelope import EventData, new_id
from contracts.events import IncidentReported, VendorRegistered

pytestmark = pytest.mark.integration

PROBLEM_JSON = "application/problem+json"


@dataclass
class Env:
    stack: Stack
    client: httpx.AsyncClient
    producer: AIOKafkaProducer
    db: Database
    tenant_a: UUID = field(default_factory=uuid4)
    tenant_b: UUID = field(default_factory=uuid4)
    # Event ids published per tenant, and incident ids per tenant.
    events: dict[UUID, set[UUID]] = field(default_factory=dict)
    incidents: dict[UUID, list[UUID]] = field(default_factory=dict)
    vendor_event: UUID | None = None

    async def publish(self, data: EventData, tenant_id: UUID) -> UUID:
        envelope = await publish(self.producer, self.stack.topic_prefix, data, tenant_id=tenant_id)
        self.events.setdefault(tenant_id, set()).add(envelope.id)
        return envelope.id

    def auth(self, tenant_id: UUID, role: str = "system_administrator") -> dict[str, str]:
        return self.stack.auth(tenant_id=tenant_id, role=role)

    async def entries(self, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
        response = await self.client.get("/v1/audit", headers=headers, params={"limit": 1000, **params})
        assert response.status_code == 200, response.text
        body: list[dict[str, Any]] = response.json()
        return body


def report(incident_id: UUID) -> IncidentReported:
    return IncidentReported(
        incident_id=incident_id,
        source=IncidentSource.MANUAL,
        title=f"incident {incident_id}",
        detected_at=datetime.now(UTC),
    )


@pytest.fixture(scope="module")
async def env(stack: Stack) -> AsyncIterator[Env]:
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers, enable_idempotence=True)
    await producer.start()
    db = Database.connect(stack.database_url, "audit", pool_size=1)
    try:
        async with serving(create_audit(stack.settings(AuditSettings))) as client:
            e = Env(stack, client, producer, db)
            for tenant_id, count in ((e.tenant_a, 3), (e.tenant_b, 2)):
                e.incidents[tenant_id] = [new_id() for _ in range(count)]
                for incident_id in e.incidents[tenant_id]:
                    await e.publish(report(incident_id), tenant_id)
            e.vendor_event = await e.publish(
                VendorRegistered(
                    vendor_id=uuid4(),
                    tenant_id=e.tenant_a,
                    vendor_name="Acme Hosting",
                    vendor_email="support@acme.example",
                    vendor_phone="+1 555 010 9988",
                    vendor_type=VendorType.CLOUD_PROVIDER,
                ),
                e.tenant_a,
            )
            for tenant_id in (e.tenant_a, e.tenant_b):

                async def recorded(t: UUID = tenant_id) -> bool:
                    got = {UUID(x["event_id"]) for x in await e.entries(e.auth(t))}
                    return got == e.events[t]

                await eventually(recorded, what=f"audit to record tenant {tenant_id}'s events")
            yield e
    finally:
        await producer.stop()
        await db.dispose()


def paths(env: Env) -> list[str]:
    return ["/v1/audit", "/v1/audit/verify", f"/v1/incidents/{env.incidents[env.tenant_a][0]}/timeline"]


async def test_no_or_bad_token_is_401(env: Env) -> None:
    expired = env.stack.token(tenant_id=env.tenant_a, ttl_s=-10)
    for path in paths(env):
        assert_problem(await env.client.get(path), 401)
        assert_problem(await env.client.get(path, headers={"Authorization": f"Bearer {expired}"}), 401)


@pytest.mark.parametrize("role", ["technical_support", "account_manager", "client_contact", "vendor_contact"])
async def test_roles_without_audit_view_are_403(env: Env, role: str) -> None:
    for path in paths(env):
        response = await env.client.get(path, headers=env.auth(env.tenant_a, role))
        assert_problem(response, 403)
        assert "audit.view" in response.json()["detail"]


@pytest.mark.parametrize("role", ["system_administrator", "incident_manager", "executive"])
async def test_reviewers_read_their_tenants_log(env: Env, role: str) -> None:
    entries = await env.entries(env.auth(env.tenant_a, role))
    assert {UUID(e["event_id"]) for e in entries} == env.events[env.tenant_a]


async def test_each_tenant_sees_only_its_own_entries(env: Env) -> None:
    a = await env.entries(env.auth(env.tenant_a))
    b = await env.entries(env.auth(env.tenant_b))
    assert {UUID(e["event_id"]) for e in a} == env.events[env.tenant_a]
    assert {UUID(e["event_id"]) for e in b} == env.events[env.tenant_b]
    assert not {e["subject"] for e in a} & {str(i) for i in env.incidents[env.tenant_b]}
    # The old tenant_id parameter no longer chooses the log: the caller's tenant does.
    assert await env.entries(env.auth(env.tenant_a), tenant_id=str(env.tenant_b)) == a
    # Another tenant's incident is not found, not an empty timeline of it.
    foreign = env.incidents[env.tenant_b][0]
    response = await env.client.get(f"/v1/incidents/{foreign}/timeline", headers=env.auth(env.tenant_a))
    assert_problem(response, 404)
    own = await env.client.get(f"/v1/incidents/{foreign}/timeline", headers=env.auth(env.tenant_b))
    assert own.status_code == 200
    assert [e["event_type"] for e in own.json()] == ["intake.incident_reported.v1"]
    # Filters stay within the tenant too.
    by_subject = await env.entries(env.auth(env.tenant_a), subject=str(foreign))
    assert by_subject == []


async def test_contact_data_is_masked_in_the_log(env: Env) -> None:
    entries = await env.entries(env.auth(env.tenant_a), event_type="vendor.registered.v1")
    assert [UUID(e["event_id"]) for e in entries] == [env.vendor_event]
    data = entries[0]["data"]
    assert data["vendor_email"] == "s***@acme.example"
    assert data["vendor_phone"] == "***88"
    assert data["vendor_name"] == "Acme Hosting"


async def test_verify_checks_the_callers_log_only(env: Env) -> None:
    async def verification(tenant_id: UUID) -> dict[str, Any]:
        response = await env.client.get("/v1/audit/verify", headers=env.auth(tenant_id))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    a, b = await verification(env.tenant_a), await verification(env.tenant_b)
    assert a == {
        "ok": True,
        "checked": len(env.events[env.tenant_a]),
        "first_bad_index": None,
        "reason": None,
    }
    assert b["ok"] is True and b["checked"] == len(env.events[env.tenant_b])

    # Tamper with tenant B's log: B's verification names the entry, A's is untouched.
    tampered = (await env.entries(env.auth(env.tenant_b)))[0]
    async with env.db.sessions() as session:
        await session.execute(
            update(entries)
            .where(entries.c.tenant_id == env.tenant_b, entries.c.leaf_index == tampered["index"])
            .values(data={**tampered["data"], "title": "rewritten"})
        )
        await session.commit()
    broken = await verification(env.tenant_b)
    assert broken["ok"] is False and broken["first_bad_index"] == tampered["index"]
    assert await verification(env.tenant_a) == a
