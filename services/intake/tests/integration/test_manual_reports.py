"""Manual reports by signed-in users (001 "Creating Incidents") over the real broker and
database: intake replicates directory's users, clients and components from directory.events,
runs the procedure's pre-checks against them, and reports the incident; triage opens it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from sqlalchemy import func, select

from backbone.db import Database
from backbone.testing import (
    Stack,
    eventually,
    new_tenant,
    outbox_events,
    producer_and_db,
    serving,
    sign_in,
    unique,
)
from contracts.enums import ClientType, IncidentSource, Role, Severity, UserStatus
from contracts.envelope import Envelope, EventData
from contracts.events import ClientOnboarded, ComponentRegistered, IncidentReported, UserRegistered
from contracts.topics import Topic
from intake.adapters.orm import outbox, principals
from intake.adapters.reports import clients, components
from intake.config import Settings as IntakeSettings
from intake.main import create as create_intake
from triage.config import Settings as TriageSettings
from triage.main import create as create_triage

pytestmark = pytest.mark.integration

URL = "/v1/incidents"
PROBLEM_JSON = "application/problem+json"


@dataclass
class World:
    """Tenant A: clients 1 and 2, component 1 (client 1, run by vendor 1) and component 2
    (client 2); users of several roles. Tenant B: a client of its own."""

    tenant_a: UUID = field(default_factory=uuid4)
    tenant_b: UUID = field(default_factory=uuid4)
    client_1: UUID = field(default_factory=uuid4)
    client_2: UUID = field(default_factory=uuid4)
    client_b: UUID = field(default_factory=uuid4)
    vendor_1: UUID = field(default_factory=uuid4)
    component_1: UUID = field(default_factory=uuid4)
    component_2: UUID = field(default_factory=uuid4)
    users: dict[str, tuple[UUID, Role, UserStatus]] = field(default_factory=dict)

    def events(self) -> list[EventData]:
        out: list[EventData] = []
        for client_id, tenant in ((self.client_1, self.tenant_a), (self.client_2, self.tenant_a)):
            out.append(client_event(client_id, tenant))
        out.append(client_event(self.client_b, self.tenant_b))
        out.append(
            ComponentRegistered(
                component_id=self.component_1,
                tenant_id=self.tenant_a,
                client_id=self.client_1,
                vendor_id=self.vendor_1,
                name="db-1",
                business_critical=True,
            )
        )
        out.append(
            ComponentRegistered(
                component_id=self.component_2, tenant_id=self.tenant_a, client_id=self.client_2, name="web-2"
            )
        )
        for name, (user_id, role, status) in self.users.items():
            out.append(
                UserRegistered(
                    user_id=user_id,
                    tenant_id=self.tenant_a,
                    role=role,
                    status=status,
                    client_id=self.client_1 if role is Role.CLIENT_CONTACT else None,
                    vendor_id=self.vendor_1 if role is Role.VENDOR_CONTACT else None,
                    name=name,
                    email=f"{name}@example.com",
                )
            )
        return out


def client_event(client_id: UUID, tenant_id: UUID) -> ClientOnboarded:
    return ClientOnboarded(
        client_id=client_id,
        tenant_id=tenant_id,
        client_name=f"client-{client_id.hex[:6]}",
        registration_number=client_id.hex,
        contact_email=f"{client_id.hex[:8]}@example.com",
        client_type=ClientType.ENTERPRISE,
    )


@dataclass
class Bed:
    stack: Stack
    world: World
    intake: httpx.AsyncClient
    triage: httpx.AsyncClient
    db: Database

    def auth(self, user: str) -> dict[str, str]:
        user_id, role, _ = self.world.users[user]
        return self.stack.auth(
            tenant_id=self.world.tenant_a,
            role=role.value,
            user_id=user_id,
            client_id=self.world.client_1 if role is Role.CLIENT_CONTACT else None,
            vendor_id=self.world.vendor_1 if role is Role.VENDOR_CONTACT else None,
        )

    async def report(self, user: str, body: Any, **kw: Any) -> httpx.Response:
        return await self.intake.post(
            URL, json=body, headers={**self.auth(user), **kw.pop("headers", {})}, **kw
        )

    async def reported(self, incident_id: UUID) -> list[Envelope]:
        return await outbox_events(self.db, event_type=IncidentReported.event_type, key=incident_id)

    async def events_written(self) -> int:
        async with self.db.sessions() as s:
            return int(await s.scalar(select(func.count()).select_from(outbox)) or 0)


@pytest.fixture(scope="module")
async def bed(stack: Stack) -> AsyncIterator[Bed]:
    world = World()
    for name, role, status in [
        ("admin", Role.SYSTEM_ADMINISTRATOR, UserStatus.ACTIVE),
        ("support", Role.TECHNICAL_SUPPORT, UserStatus.ACTIVE),
        ("contact", Role.CLIENT_CONTACT, UserStatus.ACTIVE),
        ("vendor", Role.VENDOR_CONTACT, UserStatus.ACTIVE),
        ("accounts", Role.ACCOUNT_MANAGER, UserStatus.ACTIVE),
        ("gone", Role.TECHNICAL_SUPPORT, UserStatus.INACTIVE),
    ]:
        world.users[name] = (uuid4(), role, status)
    # A valid token of a user directory never told intake about.
    world.users["stranger"] = (uuid4(), Role.INCIDENT_MANAGER, UserStatus.ACTIVE)

    async with (
        producer_and_db(stack, "intake") as (producer, db),
        serving(create_intake(stack.settings(IntakeSettings))) as intake,
        serving(create_triage(stack.settings(TriageSettings))) as triage,
    ):
        for event in world.events():
            if isinstance(event, UserRegistered) and event.user_id == world.users["stranger"][0]:
                continue
            envelope = Envelope.wrap(event, source="directory", tenant_id=getattr(event, "tenant_id", None))
            await producer.send_and_wait(
                stack.topic_prefix + Topic.DIRECTORY_EVENTS,
                envelope.model_dump_json().encode(),
                key=envelope.subject.encode(),
            )

        async def replicated() -> bool:
            async with db.sessions() as s:
                n_clients = await s.scalar(
                    select(func.count())
                    .select_from(clients)
                    .where(clients.c.id.in_([world.client_1, world.client_2, world.client_b]))
                )
                n_components = await s.scalar(
                    select(func.count())
                    .select_from(components)
                    .where(components.c.id.in_([world.component_1, world.component_2]))
                )
                n_users = await s.scalar(
                    select(func.count())
                    .select_from(principals)
                    .where(principals.c.tenant_id == world.tenant_a)
                )
            return n_clients == 3 and n_components == 2 and n_users == len(world.users) - 1

        await eventually(replicated, what="intake's replicas of clients, components and users")
        yield Bed(stack, world, intake, triage, db)


async def test_a_report_opens_an_incident_at_triage_with_its_severity(bed: Bed) -> None:
    w = bed.world
    body = {
        "title": "Orders database unreachable",
        "description": "Every checkout fails since 10:02.",
        "category": "database",
        "client_id": str(w.client_1),
        "component_id": str(w.component_1),
        "impact": {"business_critical": True, "degradation": "complete_outage", "workaround": "none"},
    }
    r = await bed.report("admin", body)
    assert r.status_code == 202, r.text
    incident_id = UUID(r.json()["incident_id"])
    assert r.json()["status"] == "accepted"

    [envelope] = await bed.reported(incident_id)
    event = IncidentReported.model_validate(envelope.data)
    assert envelope.tenantid == w.tenant_a
    assert envelope.actor.user_id == w.users["admin"][0]
    assert event.source is IncidentSource.MANUAL
    assert event.reporter is not None
    assert (event.reporter.kind, event.reporter.id) == ("user", w.users["admin"][0])
    assert (event.client_id, event.component_id, event.category) == (w.client_1, w.component_1, "database")
    assert abs(event.detected_at - datetime.now(UTC)) < timedelta(minutes=5)

    async def opened() -> dict[str, Any] | None:
        got = await bed.triage.get(f"/v1/incidents/{incident_id}", headers=bed.auth("admin"))
        return got.json() if got.status_code == 200 else None

    incident = await eventually(opened, what="triage to open the reported incident")
    assert incident["severity"] == Severity.P1.value
    assert incident["client_id"] == str(w.client_1)
    assert incident["title"] == "Orders database unreachable"


async def test_pre_checks_and_bad_input_halt_with_a_clear_error_and_write_nothing(bed: Bed) -> None:
    w = bed.world
    ok = {"title": "Slow pages", "client_id": str(w.client_1)}
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    cases: list[tuple[str, str | None, Any, int, str]] = [
        # (case, user, body, status, words in the detail)
        ("no token", None, ok, 401, "bearer token"),
        ("inactive reporter", "gone", ok, 401, "inactive"),
        ("reporter unknown", "stranger", ok, 422, "does not exist"),
        ("role without incidents.create", "accounts", ok, 403, "incidents.create"),
        ("no client", "admin", {"title": "Slow pages"}, 422, "client_id"),
        ("unknown client", "admin", {**ok, "client_id": str(uuid4())}, 422, "does not exist"),
        ("another tenant's client", "admin", {**ok, "client_id": str(w.client_b)}, 422, "does not exist"),
        ("unknown component", "admin", {**ok, "component_id": str(uuid4())}, 422, "does not exist"),
        (
            "another client's component",
            "admin",
            {**ok, "component_id": str(w.component_2)},
            422,
            "another client",
        ),
        ("client contact, other client", "contact", {**ok, "client_id": str(w.client_2)}, 403, "own client"),
        ("vendor contact, no component", "vendor", ok, 403, "vendor runs"),
        (
            "vendor contact, another vendor's component",
            "vendor",
            {"title": "x", "client_id": str(w.client_2), "component_id": str(w.component_2)},
            403,
            "vendor runs",
        ),
        ("empty title", "admin", {**ok, "title": "  "}, 422, "title"),
        ("title too long", "admin", {**ok, "title": "x" * 301}, 422, "title"),
        ("unknown impact fact", "admin", {**ok, "impact": {"blast": 1}}, 422, "impact.blast"),
        ("bad impact value", "admin", {**ok, "impact": {"scope": "galaxy"}}, 422, "impact.scope"),
        ("severity is derived", "admin", {**ok, "severity": "P1"}, 422, "severity"),
        ("detected in the future", "admin", {**ok, "detected_at": future}, 422, "future"),
        ("not an object", "admin", ["title"], 422, "body"),
    ]
    before = await bed.events_written()
    for case, user, body, status, words in cases:
        headers = bed.auth(user) if user else {}
        r = await bed.intake.post(URL, json=body, headers=headers)
        assert r.status_code == status, (case, r.text)
        assert r.headers["content-type"] == PROBLEM_JSON, case
        assert words in r.json()["detail"], (case, r.json())

    r = await bed.intake.post(
        URL, content=b"{not json", headers={**bed.auth("admin"), "Content-Type": "application/json"}
    )
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM_JSON, r.text
    assert await bed.events_written() == before


async def test_a_body_over_512_kb_is_refused_with_413_and_writes_nothing(bed: Bed) -> None:
    before = await bed.events_written()
    big = {"title": "Big", "client_id": str(bed.world.client_1), "description": "x" * (512 * 1024)}
    r = await bed.report("admin", big)
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    assert "512 KB" in r.json()["detail"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        yield b'{"title": "Big", "description": "'
        for _ in range(600):
            yield b"x" * 1024
        yield b'"}'

    r = await bed.intake.post(
        URL, content=chunks(), headers={**bed.auth("admin"), "Content-Type": "application/json"}
    )
    assert r.status_code == 413, r.text
    # Just under the cap the description's own limit answers instead: 422, not 413.
    r = await bed.report("admin", {**big, "description": "x" * (400 * 1024)})
    assert r.status_code == 422 and "description" in r.json()["detail"], r.text
    assert await bed.events_written() == before


async def test_a_client_contact_reports_for_their_own_client_by_default(bed: Bed) -> None:
    r = await bed.report("contact", {"title": "Invoices page blank"})
    assert r.status_code == 202, r.text
    [envelope] = await bed.reported(UUID(r.json()["incident_id"]))
    assert envelope.data["client_id"] == str(bed.world.client_1)


async def test_a_vendor_contact_reports_on_a_component_their_vendor_runs(bed: Bed) -> None:
    w = bed.world
    r = await bed.report(
        "vendor",
        {"title": "Disk failing on db-1", "client_id": str(w.client_1), "component_id": str(w.component_1)},
    )
    assert r.status_code == 202, r.text


async def test_a_retry_with_the_same_idempotency_key_reports_once(bed: Bed) -> None:
    body = {"title": "VPN flapping", "client_id": str(bed.world.client_1)}
    headers = {"Idempotency-Key": f"vpn-{uuid4()}"}
    first = await bed.report("support", body, headers=headers)
    again = await bed.report("support", body, headers=headers)
    assert first.status_code == again.status_code == 202, (first.text, again.text)
    assert first.json() == again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(await bed.reported(UUID(first.json()["incident_id"]))) == 1


async def test_a_client_onboarded_in_directory_can_be_reported_on_once_intake_knows_it(
    bed: Bed, stack: Stack, operator_key: str
) -> None:
    """With directory itself: its events fill intake's replicas; until they have, the
    pre-checks answer 422 "does not exist" (001), never a 5xx, and write nothing."""
    from directory.config import Settings as DirectorySettings
    from directory.main import create as create_directory

    async with serving(create_directory(stack.settings(DirectorySettings))) as directory:
        tenant = await new_tenant(directory, operator_key)
        admin = await sign_in(directory, tenant.api_key)
        client = await directory.post(
            "/v1/clients",
            json={
                "client_name": "Acme",
                "registration_number": unique("REG-"),
                "contact_email": f"{unique('ops-')}@acme.example",
                "client_type": "enterprise",
            },
            headers=admin,
        )
        assert client.status_code == 201, client.text
        component = await directory.post(
            "/v1/components",
            json={"name": "checkout", "client_id": client.json()["id"], "business_critical": True},
            headers=admin,
        )
        assert component.status_code == 201, component.text
        body = {
            "title": "Checkout times out",
            "client_id": client.json()["id"],
            "component_id": component.json()["id"],
            "impact": {"degradation": "major", "workaround": "available"},
        }

        async def accepted() -> httpx.Response | None:
            r = await bed.intake.post(URL, json=body, headers=admin)
            if r.status_code == 422 and "does not exist" in r.json()["detail"]:
                return None  # a replica has not caught up yet
            assert r.status_code == 202, r.text
            return r

        r = await eventually(accepted, what="intake's replicas of the new user, client and component")
        [envelope] = await bed.reported(UUID(r.json()["incident_id"]))
        assert str(envelope.tenantid) == tenant.tenant_id
