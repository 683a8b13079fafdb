"""Automatic escalation over the real Kafka broker and PostgreSQL, with a hand-moved clock:
policy levels page one after another and loop until someone acknowledges; SLA events escalate
at once; the policy API validates and scopes (docs/escalation.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select, update

from backbone.db import Database
from backbone.testing import Stack, eventually, outbox_events, producer_and_db, publish, send, serving
from backbone.timers import ManualClock
from contracts.enums import EscalationTrigger, IncidentSource, Role, SlaClockKind
from contracts.envelope import Envelope, EventData, new_id
from contracts.events import IncidentEscalated, IncidentReported, SlaAtRisk, SlaBreached, UserRegistered
from triage.adapters.orm import escalations, inbox, incidents, principals
from triage.config import Settings as TriageSettings
from triage.handlers.escalation import Escalations
from triage.main import create as create_triage

pytestmark = pytest.mark.integration

ESCALATED = "incident.escalated.v1"


@dataclass
class Env:
    stack: Stack
    client: httpx.AsyncClient
    app: Any
    producer: AIOKafkaProducer
    db: Database
    clock: ManualClock
    tenant: UUID = field(default_factory=uuid4)
    first_responder: UUID = field(default_factory=uuid4)
    manager: UUID = field(default_factory=uuid4)

    async def publish(self, data: EventData, tenant_id: UUID, source: str) -> Envelope:
        return await publish(self.producer, self.stack.topic_prefix, data, tenant_id=tenant_id, source=source)

    async def send(self, envelope: Envelope) -> None:
        await send(self.producer, self.stack.topic_prefix, envelope)

    def admin(self, tenant_id: UUID | None = None, role: Role = Role.INCIDENT_MANAGER) -> dict[str, str]:
        tenant_id = tenant_id or self.tenant
        user_id = self.manager if tenant_id == self.tenant and role is Role.INCIDENT_MANAGER else uuid4()
        return self.stack.auth(tenant_id=tenant_id, role=role.value, user_id=user_id)

    async def pages(self, incident_id: UUID) -> list[dict[str, Any]]:
        """The automatic IncidentEscalated events triage committed for the incident, in order."""
        found = await outbox_events(self.db, event_type=ESCALATED, key=incident_id)
        return [e.data for e in found if e.data["trigger"] == "automatic"]

    async def state(self, incident_id: UUID, tenant_id: UUID | None = None) -> dict[str, Any]:
        r = await self.client.get(f"/v1/incidents/{incident_id}/escalations", headers=self.admin(tenant_id))
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def fire_now(self) -> int:
        """Fire what is due right now, as the timer loop would: how many escalations it took."""
        runtime = self.app.state.runtime
        async with runtime.uow() as uow:
            fired = await Escalations(self.clock).fire_due(uow, self.clock.now())
            await uow.commit()
        return fired

    async def open_incident(self, tenant_id: UUID | None = None) -> UUID:
        incident_id = new_id()
        await self.publish(
            IncidentReported(
                incident_id=incident_id,
                source=IncidentSource.MANUAL,
                title=f"incident {incident_id}",
                detected_at=datetime.now(UTC),
            ),
            tenant_id or self.tenant,
            "intake",
        )
        return incident_id

    async def count_pages(self, incident_id: UUID, n: int) -> list[dict[str, Any]]:
        async def probe() -> list[dict[str, Any]] | None:
            found = await self.pages(incident_id)
            return found if len(found) >= n else None

        found = await eventually(probe, within=60, what=f"{n} pages of {incident_id}")
        assert len(found) == n, found
        return found

    async def command(self, incident_id: UUID, action: str, body: dict[str, Any] | None = None) -> None:
        """One of triage's incident commands (acknowledge, resolve, reopen …) as the manager."""
        r = await self.client.post(f"/v1/incidents/{incident_id}/{action}", json=body, headers=self.admin())
        assert r.status_code in (200, 201), r.text

    async def acknowledge(self, incident_id: UUID) -> None:
        await self.command(incident_id, "acknowledge")

    async def stopped(self, incident_id: UUID) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            s = (await self.state(incident_id))["escalation"]
            return s if s["state"] == "stopped" else None

        found: dict[str, Any] = await eventually(probe, what=f"the escalation of {incident_id} to stop")
        return found

    async def stopped_row(self, incident_id: UUID) -> dict[str, Any]:
        """The escalation row once stopped (for an incident the API no longer shows)."""

        async def probe() -> dict[str, Any] | None:
            async with self.db.sessions() as s:
                row = (
                    (await s.execute(select(escalations).where(escalations.c.incident_id == incident_id)))
                    .mappings()
                    .first()
                )
            return dict(row) if row and row["status"] == "stopped" else None

        found: dict[str, Any] = await eventually(probe, what=f"the escalation of {incident_id} to stop")
        return found

    async def handled(self, *event_ids: UUID) -> bool:
        async with self.db.sessions() as s:
            seen = set(
                (await s.scalars(select(inbox.c.event_id).where(inbox.c.event_id.in_(event_ids)))).all()
            )
        return seen == set(event_ids)


@pytest.fixture(scope="module")
async def env(stack: Stack) -> AsyncIterator[Env]:
    clock = ManualClock()
    app = create_triage(stack.settings(TriageSettings, escalation_poll_interval_s=0.2), clock=clock)
    async with producer_and_db(stack, "triage") as (producer, db), serving(app) as client:
        e = Env(stack, client, app, producer, db, clock)
        for user, role in (
            (e.first_responder, Role.TECHNICAL_SUPPORT),
            (e.manager, Role.INCIDENT_MANAGER),
        ):
            await e.publish(
                UserRegistered(user_id=user, tenant_id=e.tenant, role=role), e.tenant, "directory"
            )

        async def replicated() -> bool:
            async with db.sessions() as s:
                found = await s.scalars(
                    select(principals.c.user_id).where(principals.c.tenant_id == e.tenant)
                )
                return len(found.all()) == 2

        await eventually(replicated, what="the users in triage's replica")
        yield e


def two_levels(env: Env, *, loops: int = 1, name: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "name": name or f"policy {uuid4()}",
        "levels": [
            {"user_ids": [str(env.first_responder)], "delay_minutes": 5},
            {"user_ids": [str(env.manager)], "roles": ["incident_manager"], "delay_minutes": 10},
        ],
        "loops": loops,
        **extra,
    }


@pytest.fixture(scope="module")
async def policy(env: Env) -> dict[str, Any]:
    """The tenant's default policy: first responder, then the manager, once more, then stop."""
    r = await env.client.post("/v1/escalation-policies", json=two_levels(env), headers=env.admin())
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_levels_page_in_turn_and_loop_until_acknowledged(env: Env, policy: dict[str, Any]) -> None:
    incident_id = await env.open_incident()
    started = env.clock.now()

    (first,) = await env.count_pages(incident_id, 1)
    assert first["trigger"] == "automatic" and first["cause"] == "policy"
    assert (first["level"], first["loop"], first["policy_id"]) == (1, 0, policy["id"])
    assert first["target_user_ids"] == [str(env.first_responder)] and first["target_roles"] == []
    assert first["reference_code"].startswith("INC-") and first["severity"] == "P4"
    state = (await env.state(incident_id))["escalation"]
    assert state["state"] == "running" and state["current_level"] == 1
    assert datetime.fromisoformat(state["next_due_at"]) == started + timedelta(minutes=5)

    # Not due yet: nothing fires.
    env.clock.advance(minutes=4)
    assert await env.fire_now() == 0

    # Level 1's five minutes pass unacknowledged: level 2 is paged.
    env.clock.advance(minutes=1)
    second = (await env.count_pages(incident_id, 2))[1]
    assert (second["level"], second["loop"]) == (2, 0)
    assert second["target_user_ids"] == [str(env.manager)] and second["target_roles"] == ["incident_manager"]
    assert datetime.fromisoformat(second["escalated_at"]) == env.clock.now()

    # Level 2's ten minutes pass: the policy loops back to level 1.
    env.clock.advance(minutes=10)
    third = (await env.count_pages(incident_id, 3))[2]
    assert (third["level"], third["loop"]) == (1, 1)

    # Someone acknowledges: the escalation stops, however long nobody else looks.
    await env.acknowledge(incident_id)
    state = await env.stopped(incident_id)
    assert state["stop_reason"] == "acknowledged" and state["next_due_at"] is None
    env.clock.advance(minutes=60)
    assert await env.fire_now() == 0
    assert len(await env.pages(incident_id)) == 3
    steps = (await env.state(incident_id))["steps"]
    assert [(s["level"], s["loop"]) for s in steps] == [(1, 0), (2, 0), (1, 1)]


async def test_policy_runs_out_after_its_loops(env: Env) -> None:
    tenant = uuid4()
    headers = env.admin(tenant)
    body = {"name": "once", "levels": [{"roles": ["technical_support"], "delay_minutes": 3}], "loops": 1}
    assert (await env.client.post("/v1/escalation-policies", json=body, headers=headers)).status_code == 201
    incident_id = await env.open_incident(tenant)
    await env.count_pages(incident_id, 1)
    env.clock.advance(minutes=3)
    pages = await env.count_pages(incident_id, 2)
    assert [(p["level"], p["loop"]) for p in pages] == [(1, 0), (1, 1)]
    state = (await env.state(incident_id, tenant))["escalation"]
    assert state["state"] == "completed" and state["next_due_at"] is None
    env.clock.advance(minutes=30)
    assert await env.fire_now() == 0


async def test_acknowledgement_committed_before_its_event_stops_the_timer(
    env: Env, policy: dict[str, Any]
) -> None:
    """The timer re-reads the incident when it fires: an acknowledgement whose event has not
    been consumed yet (here: only the row says so) already stops it."""
    incident_id = await env.open_incident()
    await env.count_pages(incident_id, 1)
    async with env.db.sessions() as s, s.begin():
        await s.execute(
            update(incidents).where(incidents.c.id == incident_id).values(acknowledged_at=datetime.now(UTC))
        )
    env.clock.advance(minutes=5)
    await env.fire_now()
    state = await env.stopped(incident_id)
    assert state["stop_reason"] == "acknowledged"
    assert len(await env.pages(incident_id)) == 1


async def test_reopened_incident_escalates_again_until_taken_on(env: Env, policy: dict[str, Any]) -> None:
    """A reopen starts the policy over (run 2); the first life's acknowledgement does not stop
    it, acknowledging it again does."""
    incident_id = await env.open_incident()
    await env.count_pages(incident_id, 1)
    await env.acknowledge(incident_id)
    await env.stopped(incident_id)
    # The service's one clock is the test's: the first life is over a minute before the reopen.
    env.clock.advance(minutes=1)
    await env.command(incident_id, "resolve", {"resolution": "restarted"})
    await env.command(incident_id, "reopen", {"reason": "back again"})
    pages = await env.count_pages(incident_id, 2)
    assert (pages[1]["level"], pages[1]["loop"]) == (1, 0)
    state = (await env.state(incident_id))["escalation"]
    assert (state["state"], state["run"]) == ("running", 2)

    env.clock.advance(minutes=5)
    assert (await env.count_pages(incident_id, 3))[2]["level"] == 2

    await env.acknowledge(incident_id)
    assert (await env.stopped(incident_id))["stop_reason"] == "acknowledged"
    env.clock.advance(minutes=30)
    await env.fire_now()
    assert len(await env.pages(incident_id)) == 3


async def test_deleted_incident_stops_escalating(env: Env, policy: dict[str, Any]) -> None:
    incident_id = await env.open_incident()
    await env.count_pages(incident_id, 1)
    r = await env.client.delete(
        f"/v1/incidents/{incident_id}", headers=env.admin(role=Role.SYSTEM_ADMINISTRATOR)
    )
    assert r.status_code == 204, r.text
    assert (await env.stopped_row(incident_id))["stop_reason"] == "deleted"
    env.clock.advance(minutes=30)
    await env.fire_now()
    assert len(await env.pages(incident_id)) == 1


async def test_manual_escalation_to_a_level_moves_the_running_policy(
    env: Env, policy: dict[str, Any]
) -> None:
    incident_id = await env.open_incident()
    (first,) = await env.count_pages(incident_id, 1)
    # A person escalates with a reason (kept in the incident's escalations) …
    await env.command(incident_id, "escalate", {"reason": "customer on the phone"})

    async def manual_seen() -> list[dict[str, Any]] | None:
        steps = (await env.state(incident_id))["steps"]
        return steps if any(s["trigger"] == "manual" for s in steps) else None

    steps = await eventually(manual_seen, what="the manual escalation in the history")
    assert sorted(s["trigger"] for s in steps) == ["automatic", "manual"]
    # … and one naming level 2 moves the running policy there: level 2's delay, then the loop.
    manual = IncidentEscalated(
        incident_id=incident_id,
        reference_code=first["reference_code"],
        title=first["title"],
        severity=first["severity"],
        status=first["status"],
        escalation_id=new_id(),
        trigger=EscalationTrigger.MANUAL,
        reason="straight to the manager",
        level=2,
        escalated_by=env.manager,
        escalated_at=datetime.now(UTC),
    )
    await env.publish(manual, env.tenant, "triage")

    async def at_level_2() -> dict[str, Any] | None:
        s = (await env.state(incident_id))["escalation"]
        return s if s["current_level"] == 2 else None

    state = await eventually(at_level_2, what="the policy to move to level 2")
    assert datetime.fromisoformat(state["next_due_at"]) == env.clock.now() + timedelta(minutes=10)
    env.clock.advance(minutes=10)
    pages = await env.count_pages(incident_id, 2)
    assert (pages[1]["level"], pages[1]["loop"], pages[1]["cause"]) == (1, 1, "policy")


def sla_event(kind: type[SlaAtRisk] | type[SlaBreached], incident_id: UUID) -> EventData:
    now = datetime.now(UTC)
    common: dict[str, Any] = {
        "incident_id": incident_id,
        "clock": SlaClockKind.RESPONSE,
        "severity": "P4",
        "started_at": now - timedelta(hours=1),
        "due_at": now,
    }
    if kind is SlaAtRisk:
        return SlaAtRisk(**common, warned_at=now)
    return SlaBreached(**common, breached_at=now)


async def test_sla_breach_jumps_to_the_next_level_once(env: Env, policy: dict[str, Any]) -> None:
    incident_id = await env.open_incident()
    await env.count_pages(incident_id, 1)
    event = sla_event(SlaBreached, incident_id)
    breach = Envelope.wrap(event, source="sla", tenant_id=env.tenant)
    await env.send(breach)
    await env.send(breach)  # redelivered
    again = await env.publish(event, env.tenant, "sla")  # the same breach sent again as a new message
    await eventually(lambda: env.handled(breach.id, again.id), what="both SLA events handled")

    pages = await env.pages(incident_id)
    assert len(pages) == 2, pages
    assert (pages[1]["cause"], pages[1]["level"], pages[1]["trigger"]) == ("sla_breached", 2, "automatic")
    state = (await env.state(incident_id))["escalation"]
    # The jump restarts the wait: level 2's ten minutes from now.
    assert (state["state"], state["current_level"]) == ("running", 2)
    assert datetime.fromisoformat(state["next_due_at"]) == env.clock.now() + timedelta(minutes=10)
    env.clock.advance(minutes=10)
    assert [(p["level"], p["loop"]) for p in await env.count_pages(incident_id, 3)][2] == (1, 1)


async def test_sla_warning_without_policy_pages_incident_managers(env: Env) -> None:
    tenant = uuid4()  # no policy here
    incident_id = await env.open_incident(tenant)

    async def opened() -> bool:
        async with env.db.sessions() as s:
            return await s.scalar(select(incidents.c.id).where(incidents.c.id == incident_id)) is not None

    await eventually(opened, what="the incident")
    await env.publish(sla_event(SlaAtRisk, incident_id), tenant, "sla")
    (page,) = await env.count_pages(incident_id, 1)
    assert page["cause"] == "sla_at_risk" and page["level"] is None
    assert page["target_roles"] == ["incident_manager"] and page["policy_id"] is None
    assert (await env.state(incident_id, tenant))["escalation"]["state"] == "none"


async def test_client_policy_wins_over_the_tenant_default(env: Env) -> None:
    tenant, client_id = uuid4(), uuid4()
    headers = env.admin(tenant)
    default = {"name": "default", "levels": [{"roles": ["technical_support"], "delay_minutes": 5}]}
    own = {
        "name": "own",
        "client_id": str(client_id),
        "levels": [{"roles": ["executive"], "delay_minutes": 5}],
    }
    for body in (default, own):
        assert (
            await env.client.post("/v1/escalation-policies", json=body, headers=headers)
        ).status_code == 201
    incident_id = new_id()
    await env.publish(
        IncidentReported(
            incident_id=incident_id,
            source=IncidentSource.MANUAL,
            title="client incident",
            client_id=client_id,
            detected_at=datetime.now(UTC),
        ),
        tenant,
        "intake",
    )
    (page,) = await env.count_pages(incident_id, 1)
    assert page["target_roles"] == ["executive"]


async def test_policy_api_validates_and_scopes(env: Env) -> None:
    headers = env.admin()
    post = env.client.post

    async def problem(body: dict[str, Any], status: int = 422, h: dict[str, str] | None = None) -> str:
        r = await post("/v1/escalation-policies", json=body, headers=h or headers)
        assert r.status_code == status, r.text
        assert r.headers["content-type"] == "application/problem+json"
        detail: str = r.json()["detail"]
        return detail

    await problem({"name": "x", "levels": []})
    await problem({"name": "x", "levels": [{"roles": ["incident_manager"], "delay_minutes": 0}]})
    await problem({"name": "x", "levels": [{"roles": ["wizard"], "delay_minutes": 5}]})
    assert "page at least one" in await problem({"name": "x", "levels": [{"delay_minutes": 5}]})
    stranger = uuid4()
    assert str(stranger) in await problem(
        {"name": "x", "levels": [{"user_ids": [str(stranger)], "delay_minutes": 5}]}
    )
    # A user of another tenant is not a user of this one.
    other = env.admin(uuid4())
    assert str(env.manager) in await problem(
        {"name": "x", "levels": [{"user_ids": [str(env.manager)], "delay_minutes": 5}]}, h=other
    )
    # Technical support may view, not manage.
    await problem(two_levels(env), 403, env.admin(role=Role.TECHNICAL_SUPPORT))

    created = await post("/v1/escalation-policies", json=two_levels(env, name="api"), headers=headers)
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    assert (
        await post("/v1/escalation-policies", json=two_levels(env, name="api"), headers=headers)
    ).status_code == 409
    viewer = env.admin(role=Role.TECHNICAL_SUPPORT)
    assert (await env.client.get(f"/v1/escalation-policies/{pid}", headers=viewer)).json()["name"] == "api"
    assert pid in {p["id"] for p in (await env.client.get("/v1/escalation-policies", headers=viewer)).json()}
    assert (await env.client.get(f"/v1/escalation-policies/{pid}", headers=other)).status_code == 404
    assert pid not in {
        p["id"] for p in (await env.client.get("/v1/escalation-policies", headers=other)).json()
    }
    # A client contact sees only its client's policies.
    contact = env.stack.auth(tenant_id=env.tenant, role="client_contact", client_id=uuid4())
    assert (await env.client.get(f"/v1/escalation-policies/{pid}", headers=contact)).status_code == 404

    changed = two_levels(env, name="api", loops=3, min_severity="P2")
    r = await env.client.put(f"/v1/escalation-policies/{pid}", json=changed, headers=headers)
    assert r.status_code == 200, r.text
    assert (r.json()["loops"], r.json()["min_severity"]) == (3, "P2")
    assert (
        await env.client.put(f"/v1/escalation-policies/{pid}", json=changed, headers=other)
    ).status_code == 404
    assert (await env.client.delete(f"/v1/escalation-policies/{pid}", headers=other)).status_code == 404
    assert (await env.client.delete(f"/v1/escalation-policies/{pid}", headers=headers)).status_code == 204
    assert (await env.client.get(f"/v1/escalation-policies/{pid}", headers=headers)).status_code == 404

    # Every write announced itself: created, changed, deleted.
    events = [e.data for e in await outbox_events(env.db, event_type="escalation_policy.changed.v1", key=pid)]
    assert [(e["loops"], e["deleted"]) for e in events] == [(1, False), (3, False), (3, True)]


async def test_incident_escalations_are_scoped_like_incidents(env: Env, policy: dict[str, Any]) -> None:
    incident_id = await env.open_incident()
    await env.count_pages(incident_id, 1)
    url = f"/v1/incidents/{incident_id}/escalations"
    assert (await env.client.get(url, headers=env.admin(uuid4()))).status_code == 404
    contact = env.stack.auth(tenant_id=env.tenant, role="client_contact", client_id=uuid4())
    assert (await env.client.get(url, headers=contact)).status_code == 404
    assert (
        await env.client.get(f"/v1/incidents/{uuid4()}/escalations", headers=env.admin())
    ).status_code == 404
