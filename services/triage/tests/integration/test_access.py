"""Access control and tenant isolation of triage's incident queries (docs/architecture.md
"Security"), over the real Kafka broker and PostgreSQL: incidents arrive as
intake.incident_reported.v1 envelopes, the component replica from component.registered.v1 on
directory.events, users' status from user.updated.v1."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import jwt
import pytest
from aiokafka import AIOKafkaProducer
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from backbone.auth import ALGORITHM, AUDIENCE, ISSUER, TokenSigner, generate_keypair
from backbone.db import Database
from backbone.testing import Stack, assert_problem, eventually, producer_and_db, publish, serving
from contracts.enums import Degradation, IncidentSource, Role, UserStatus
from contracts.envelope import EventData, new_id
from contracts.events import ComponentRegistered, IncidentReported, UserRegistered, UserUpdated
from contracts.events.intake import ImpactFacts
from triage.adapters.orm import components, inbox
from triage.config import Settings as TriageSettings
from triage.main import create as create_triage

pytestmark = pytest.mark.integration

PROBLEM_JSON = "application/problem+json"


@dataclass
class World:
    """Two tenants; in tenant A two clients, a vendor and three components."""

    tenant_a: UUID = field(default_factory=uuid4)
    tenant_b: UUID = field(default_factory=uuid4)
    client_1: UUID = field(default_factory=uuid4)
    client_2: UUID = field(default_factory=uuid4)
    client_b: UUID = field(default_factory=uuid4)
    vendor_1: UUID = field(default_factory=uuid4)
    vendor_late: UUID = field(default_factory=uuid4)
    # client_1's, run by vendor_1, business-critical; client_2's, no vendor; registered late.
    component_1: UUID = field(default_factory=uuid4)
    component_2: UUID = field(default_factory=uuid4)
    component_late: UUID = field(default_factory=uuid4)
    # The id of another tenant's component carrying vendor_1: must link nothing in tenant A.
    component_b: UUID = field(default_factory=uuid4)
    incidents: dict[str, UUID] = field(default_factory=dict)


@dataclass
class Env:
    stack: Stack
    client: httpx.AsyncClient
    producer: AIOKafkaProducer
    world: World

    async def publish(self, data: EventData, tenant_id: UUID) -> None:
        await publish(self.producer, self.stack.topic_prefix, data, tenant_id=tenant_id)

    async def component(
        self,
        component_id: UUID,
        tenant_id: UUID,
        client_id: UUID,
        name: str,
        vendor_id: UUID | None = None,
        *,
        critical: bool = False,
    ) -> None:
        """Directory registers a component (component.registered.v1)."""
        registered = ComponentRegistered(
            component_id=component_id,
            tenant_id=tenant_id,
            client_id=client_id,
            vendor_id=vendor_id,
            name=name,
            business_critical=critical,
        )
        await self.publish(registered, tenant_id)

    def admin(self, tenant_id: UUID | None = None) -> dict[str, str]:
        return self.stack.auth(tenant_id=tenant_id or self.world.tenant_a, role="system_administrator")

    async def listing(self, headers: dict[str, str], **params: Any) -> set[UUID]:
        response = await self.client.get("/v1/incidents", headers=headers, params=params)
        assert response.status_code == 200, response.text
        return {UUID(i["id"]) for i in response.json()}


def report(
    incident_id: UUID,
    *,
    client_id: UUID | None = None,
    component_id: UUID | None = None,
    impact: ImpactFacts | None = None,
) -> IncidentReported:
    return IncidentReported(
        incident_id=incident_id,
        source=IncidentSource.MANUAL,
        title=f"incident {incident_id}",
        client_id=client_id,
        component_id=component_id,
        impact=impact or ImpactFacts(),
        detected_at=datetime.now(UTC),
    )


async def replicated(db: Database, component_id: UUID) -> bool:
    async with db.sessions() as session:
        return (
            await session.scalar(select(components.c.id).where(components.c.id == component_id)) is not None
        )


@pytest.fixture(scope="module")
async def env(stack: Stack) -> AsyncIterator[Env]:
    world = World()
    async with (
        producer_and_db(stack, "triage", pool_size=1) as (producer, db),
        serving(create_triage(stack.settings(TriageSettings))) as client,
    ):
        e = Env(stack, client, producer, world)
        w = world
        await e.component(w.component_1, w.tenant_a, w.client_1, "db-cluster", w.vendor_1, critical=True)
        await e.component(w.component_2, w.tenant_a, w.client_2, "web")
        await e.component(w.component_b, w.tenant_b, w.client_b, "foreign", w.vendor_1)
        # The topics are read in parallel: wait until the replica has the components, so
        # the incidents below take their links when they open (not by the late backfill).
        for component_id in (w.component_1, w.component_2, w.component_b):
            await eventually(lambda c=component_id: replicated(db, c), what=f"component {component_id}")

        ids = w.incidents
        # In creation order, so the ids (UUIDv7) ascend.
        ids["a_client1"] = new_id()  # tenant A, client_1, no component
        ids["a_component1"] = new_id()  # tenant A, no client: client_1 and vendor_1 via component_1
        ids["a_client2"] = new_id()  # tenant A, client_2 via component_2 (no vendor)
        ids["a_foreign"] = new_id()  # tenant A naming tenant B's component: links nothing
        ids["a_late"] = new_id()  # tenant A, component registered after the incident opened
        ids["b_client"] = new_id()  # tenant B
        await e.publish(report(ids["a_client1"], client_id=w.client_1), w.tenant_a)
        await e.publish(
            report(
                ids["a_component1"],
                component_id=w.component_1,
                impact=ImpactFacts(degradation=Degradation.COMPLETE_OUTAGE),
            ),
            w.tenant_a,
        )
        await e.publish(
            report(ids["a_client2"], client_id=w.client_2, component_id=w.component_2), w.tenant_a
        )
        await e.publish(report(ids["a_foreign"], component_id=w.component_b), w.tenant_a)
        await e.publish(report(ids["a_late"], component_id=w.component_late), w.tenant_a)
        await e.publish(report(ids["b_client"], client_id=w.client_b), w.tenant_b)

        tenant_a_ids = {v for k, v in ids.items() if k.startswith("a_")}

        async def all_of_tenant_a() -> bool:
            return await e.listing(e.admin()) == tenant_a_ids

        await eventually(all_of_tenant_a, what="triage to open tenant A's incidents")
        await eventually(lambda: e.listing(e.admin(w.tenant_b)), what="triage to open tenant B's incident")
        yield e


# --------------------------------------------------------------------------- authentication


async def test_no_token_is_refused(env: Env) -> None:
    incident = env.world.incidents["a_client1"]
    for path in ("/v1/incidents", f"/v1/incidents/{incident}"):
        response = await env.client.get(path)
        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
    assert_problem(await env.client.get("/v1/incidents", headers={"Authorization": "Basic abc"}), 401)


async def test_expired_token_is_refused(env: Env) -> None:
    token = env.stack.token(tenant_id=env.world.tenant_a, role="system_administrator", ttl_s=-10)
    response = await env.client.get("/v1/incidents", headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 401)
    assert "expired" in response.json()["detail"]


async def test_forged_tokens_are_refused(env: Env) -> None:
    claims = {"sub": str(uuid4()), "tid": str(env.world.tenant_a), "role": "system_administrator"}
    other_private, _ = generate_keypair()
    # Signed with another key, under that key's own id.
    forged = TokenSigner(other_private.encode(), 600).issue(claims)
    # Signed with another key but claiming directory's key id: the signature must be checked.
    directory_kid = TokenSigner(env.stack.keypair[0].encode(), 600).kid
    now = int(time.time())
    impostor = jwt.encode(
        {**claims, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600},
        serialization.load_pem_private_key(other_private.encode(), password=None),
        algorithm=ALGORITHM,
        headers={"kid": directory_kid},
    )
    for token in (forged, impostor, "not.a.jwt"):
        response = await env.client.get("/v1/incidents", headers={"Authorization": f"Bearer {token}"})
        assert_problem(response, 401)
    # The genuine token of the same claims is accepted: the refusals above are about the key.
    genuine = TokenSigner(env.stack.keypair[0].encode(), 600).issue(claims)
    accepted = await env.client.get("/v1/incidents", headers={"Authorization": f"Bearer {genuine}"})
    assert accepted.status_code == 200


# --------------------------------------------------------------------------- tenant isolation


async def test_another_tenants_incident_is_absent(env: Env) -> None:
    ids = env.world.incidents
    response = await env.client.get(f"/v1/incidents/{ids['b_client']}", headers=env.admin())
    assert_problem(response, 404)
    assert ids["b_client"] not in await env.listing(env.admin(), limit=500)
    # Even filtered by the other tenant's client, or with the old tenant_id parameter.
    assert await env.listing(env.admin(), client_id=str(env.world.client_b)) == set()
    assert ids["b_client"] not in await env.listing(env.admin(), tenant_id=str(env.world.tenant_b))
    # Tenant B's administrator sees its own incident and none of tenant A's.
    assert await env.listing(env.admin(env.world.tenant_b)) == {ids["b_client"]}
    own = await env.client.get(f"/v1/incidents/{ids['b_client']}", headers=env.admin(env.world.tenant_b))
    assert own.status_code == 200 and own.json()["tenant_id"] == str(env.world.tenant_b)
    foreign = await env.client.get(f"/v1/incidents/{ids['a_client1']}", headers=env.admin(env.world.tenant_b))
    assert_problem(foreign, 404)


async def test_unknown_incident_is_404(env: Env) -> None:
    assert_problem(await env.client.get(f"/v1/incidents/{uuid4()}", headers=env.admin()), 404)


# --------------------------------------------------------------------------- client and vendor scope


async def test_client_contact_sees_only_its_clients_incidents(env: Env) -> None:
    w, ids = env.world, env.world.incidents
    contact = env.stack.auth(tenant_id=w.tenant_a, role="client_contact", client_id=w.client_1)
    # Its own client's: reported for client_1, and opened on client_1's component without a client.
    assert await env.listing(contact) == {ids["a_client1"], ids["a_component1"]}
    for key in ("a_client1", "a_component1"):
        response = await env.client.get(f"/v1/incidents/{ids[key]}", headers=contact)
        assert response.status_code == 200 and response.json()["client_id"] == str(w.client_1)
    for key in ("a_client2", "a_foreign", "a_late", "b_client"):
        assert_problem(await env.client.get(f"/v1/incidents/{ids[key]}", headers=contact), 404)
    # Asking for another client's incidents narrows, it does not widen.
    assert await env.listing(contact, client_id=str(w.client_2)) == set()
    # A client contact linked to no client sees nothing (not the incidents without a client).
    unlinked = env.stack.auth(tenant_id=w.tenant_a, role="client_contact")
    assert await env.listing(unlinked) == set()
    assert_problem(await env.client.get(f"/v1/incidents/{ids['a_foreign']}", headers=unlinked), 404)


async def test_vendor_contact_sees_only_incidents_linked_to_its_vendor(env: Env) -> None:
    w, ids = env.world, env.world.incidents
    contact = env.stack.auth(tenant_id=w.tenant_a, role="vendor_contact", vendor_id=w.vendor_1)
    # Only the incident on component_1; not the one naming tenant B's component of vendor_1.
    assert await env.listing(contact) == {ids["a_component1"]}
    response = await env.client.get(f"/v1/incidents/{ids['a_component1']}", headers=contact)
    assert response.status_code == 200
    assert response.json()["vendor_id"] == str(w.vendor_1)
    for key in ("a_client1", "a_client2", "a_foreign", "a_late", "b_client"):
        assert_problem(await env.client.get(f"/v1/incidents/{ids[key]}", headers=contact), 404)
    # Tenant B's vendor contact with the same vendor id sees nothing of tenant A.
    other = env.stack.auth(tenant_id=w.tenant_b, role="vendor_contact", vendor_id=w.vendor_1)
    assert await env.listing(other) == set()
    unlinked = env.stack.auth(tenant_id=w.tenant_a, role="vendor_contact")
    assert await env.listing(unlinked) == set()


async def test_incident_takes_links_and_criticality_from_its_component(env: Env) -> None:
    w, ids = env.world, env.world.incidents

    async def get(key: str) -> dict[str, Any]:
        response = await env.client.get(f"/v1/incidents/{ids[key]}", headers=env.admin())
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    on_component = await get("a_component1")
    assert on_component["client_id"] == str(w.client_1)  # the event had no client
    assert on_component["vendor_id"] == str(w.vendor_1)
    assert on_component["component_id"] == str(w.component_1)
    # component_1 is business-critical: with a complete outage and no workaround, P1.
    assert on_component["impact"]["business_critical"] is True
    assert on_component["severity"] == "P1" and on_component["severity_flags"]["p1_complete_outage"]
    no_vendor = await get("a_client2")
    assert (no_vendor["client_id"], no_vendor["vendor_id"]) == (str(w.client_2), None)
    foreign = await get("a_foreign")
    assert (foreign["client_id"], foreign["vendor_id"]) == (None, None)
    assert (await get("a_client1"))["vendor_id"] is None


async def test_component_registered_late_links_incidents_opened_before(env: Env) -> None:
    w, ids = env.world, env.world.incidents
    contact = env.stack.auth(tenant_id=w.tenant_a, role="vendor_contact", vendor_id=w.vendor_late)
    assert await env.listing(contact) == set()
    await env.component(w.component_late, w.tenant_a, w.client_2, "queue", w.vendor_late)

    async def linked() -> set[UUID]:
        return await env.listing(contact)

    assert await eventually(linked, what="the late component to link its incident") == {ids["a_late"]}
    body = (await env.client.get(f"/v1/incidents/{ids['a_late']}", headers=contact)).json()
    assert (body["client_id"], body["vendor_id"]) == (str(w.client_2), str(w.vendor_late))


# --------------------------------------------------------------------------- filters and pages


async def test_filters(env: Env) -> None:
    w, ids = env.world, env.world.incidents
    admin = env.admin()
    assert await env.listing(admin, client_id=str(w.client_1)) == {ids["a_client1"], ids["a_component1"]}
    assert await env.listing(admin, severity="P1") == {ids["a_component1"]}
    everything_but_p1 = {v for k, v in ids.items() if k.startswith("a_")} - {ids["a_component1"]}
    assert await env.listing(admin, severity=["P2", "P3", "P4"]) == everything_but_p1
    assert len(await env.listing(admin, status="open")) == 5
    assert await env.listing(admin, status=["closed", "resolved"]) == set()
    assert await env.listing(admin, status="open", severity="P1", client_id=str(w.client_2)) == set()
    bad = await env.client.get("/v1/incidents", headers=admin, params={"severity": "P9"})
    assert_problem(bad, 422)
    assert_problem(await env.client.get("/v1/incidents", headers=admin, params={"limit": 0}), 422)


async def test_keyset_pagination_walks_every_incident_once_newest_first(env: Env) -> None:
    ids = env.world.incidents
    expected = sorted((v for k, v in ids.items() if k.startswith("a_")), reverse=True)
    seen: list[UUID] = []
    params: dict[str, Any] = {"limit": 2}
    pages = 0
    while True:
        response = await env.client.get("/v1/incidents", headers=env.admin(), params=params)
        assert response.status_code == 200
        page = [UUID(i["id"]) for i in response.json()]
        seen.extend(page)
        pages += 1
        if "link" not in response.headers:
            assert len(page) < 2
            break
        assert len(page) == 2
        assert response.headers["link"].endswith('; rel="next"')
        assert f"after={page[-1]}" in response.headers["link"]
        params = {"limit": 2, "after": str(page[-1])}
    assert seen == expected
    assert pages == 3
    # A client contact's pages stay within its scope.
    contact = env.stack.auth(
        tenant_id=env.world.tenant_a, role="client_contact", client_id=env.world.client_1
    )
    first = await env.client.get("/v1/incidents", headers=contact, params={"limit": 1})
    newest = UUID(first.json()[0]["id"])
    rest = await env.listing(contact, limit=1, after=str(newest))
    assert rest == {ids["a_client1"], ids["a_component1"]} - {newest}


# --------------------------------------------------------------------------- deactivation


async def test_deactivated_user_is_refused_once_the_deactivation_is_applied(env: Env) -> None:
    w = env.world
    user_id = uuid4()
    # The token says incident_manager; the replica's role (newer than any token) wins once known.
    headers = env.stack.auth(tenant_id=w.tenant_a, role="incident_manager", user_id=user_id)
    state: dict[str, Any] = {"user_id": user_id, "tenant_id": w.tenant_a, "role": Role.TECHNICAL_SUPPORT}
    await env.publish(UserRegistered(**state), w.tenant_a)

    async def replicated_user() -> bool:
        response = await env.client.get("/v1/me", headers=headers)
        return response.status_code == 200 and response.json()["role"] == "technical_support"

    await eventually(replicated_user, what="triage to replicate the user")
    assert (await env.client.get("/v1/incidents", headers=headers)).status_code == 200

    deactivated = await publish(
        env.producer,
        env.stack.topic_prefix,
        UserUpdated(**state, status=UserStatus.INACTIVE, changed=["status"]),
        tenant_id=w.tenant_a,
    )
    db = Database.connect(env.stack.database_url, "triage", pool_size=1)

    async def consumed() -> bool:
        async with db.sessions() as s:
            return bool(await s.scalar(select(inbox.c.event_id).where(inbox.c.event_id == deactivated.id)))

    try:
        await eventually(consumed, what="triage to consume the deactivation")
    finally:
        await db.dispose()
    # Refused by the first request after the deactivation is applied: no cache keeps it alive.
    response = await env.client.get("/v1/incidents", headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert "inactive" in response.json()["detail"]
    # The token itself is still valid; every endpoint refuses the user, not just this one.
    refused_get = await env.client.get(f"/v1/incidents/{w.incidents['a_client1']}", headers=headers)
    assert_problem(refused_get, 401)
