"""Every write of the changes service leaves exactly one audit record: the changes service and
audit in-process over the real broker and database, every procedure walked through its steps
over HTTP, each event the changes service emitted (its outbox) found once in audit's log by
subject and type; then every one of them delivered again, and audit records nothing more."""

from __future__ import annotations

from collections import Counter
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from audit.config import Settings as AuditSettings
from audit.main import create as create_audit
from backbone.db import Database
from backbone.testing import Stack, eventually, send, serving
from changes.adapters.orm import outbox, principals
from changes.config import Settings as ChangesSettings
from changes.main import create as create_changes
from changes.testing import World, incident_created
from contracts.enums import Role
from contracts.envelope import Envelope, known_event_types, new_id
from contracts.topics import Topic

pytestmark = pytest.mark.integration


class Walk:
    """The changes API as three people of one tenant; counts the writes that succeeded."""

    def __init__(self, stack: Stack, client: httpx.AsyncClient, tenant: UUID, users: dict[str, Role]) -> None:
        self.client, self.writes = client, 0
        self.ids = {name: uuid4() for name in users}
        self.headers = {
            name: stack.auth(tenant_id=tenant, role=role.value, user_id=self.ids[name])
            for name, role in users.items()
        }

    async def write(
        self, method: str, path: str, who: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        response = await self.client.request(method, path, json=body, headers=self.headers[who])
        assert response.status_code in (200, 201), response.text
        self.writes += 1
        answer: dict[str, Any] = response.json()
        return answer

    async def steps(self, path: str, who: str, *actions: str) -> None:
        for action in actions:
            await self.write("POST", f"{path}/{action}", who)


async def walk_every_procedure(w: Walk, component: UUID, open_incident: UUID, closed_incident: UUID) -> None:
    incident = {"incident_id": str(open_incident)}
    await w.write(
        "PUT",
        "/v1/blackout-windows",
        "im",
        {
            "windows": [
                {"starts_at": "2031-12-24T00:00:00Z", "ends_at": "2031-12-27T00:00:00Z", "reason": "xmas"}
            ]
        },
    )

    def change(risk: str) -> dict[str, Any]:
        return {
            "title": "Resize pool",
            "change_type": "normal",
            "risk_level": risk,
            "component_id": str(component),
        }

    done = await w.write("POST", "/v1/change-requests", "ts", change("high"))
    await w.write("POST", f"/v1/change-requests/{done['id']}/approve", "exec", {"comment": "go"})
    await w.steps(f"/v1/change-requests/{done['id']}", "ts", "schedule", "start", "complete")
    rejected = await w.write("POST", "/v1/change-requests", "ts", change("low"))
    await w.write("POST", f"/v1/change-requests/{rejected['id']}/reject", "im", {"comment": "no"})
    cancelled = await w.write("POST", "/v1/change-requests", "ts", change("low"))
    await w.steps(f"/v1/change-requests/{cancelled['id']}", "ts", "cancel")
    failed = await w.write("POST", "/v1/change-requests", "ts", change("medium"))
    await w.steps(f"/v1/change-requests/{failed['id']}", "im", "approve")
    await w.steps(f"/v1/change-requests/{failed['id']}", "ts", "start", "fail")

    # A completed rollback writes two records (the rollback, its change rolled back): two events.
    rollback = await w.write(
        "POST", "/v1/rollback-requests", "ts", {"change_id": done["id"], "justification": "latency doubled"}
    )
    await w.steps(f"/v1/rollback-requests/{rollback['id']}", "im", "approve")
    await w.steps(f"/v1/rollback-requests/{rollback['id']}", "ts", "start", "complete")
    w.writes += 1
    refused = await w.write(
        "POST", "/v1/rollback-requests", "ts", {"change_id": failed["id"], "justification": "retry later"}
    )
    await w.steps(f"/v1/rollback-requests/{refused['id']}", "exec", "reject")
    broken = await w.write(
        "POST", "/v1/rollback-requests", "ts", {"change_id": failed["id"], "justification": "undo it"}
    )
    await w.steps(f"/v1/rollback-requests/{broken['id']}", "exec", "approve")
    await w.steps(f"/v1/rollback-requests/{broken['id']}", "ts", "start", "fail")

    order = await w.write(
        "POST", "/v1/work-orders", "ts", {"title": "Swap disk", "work_type": "repair", **incident}
    )
    await w.write("PATCH", f"/v1/work-orders/{order['id']}", "ts", {"status": "in_progress"})
    workaround = await w.write(
        "POST",
        "/v1/workarounds",
        "ts",
        {
            **incident,
            "description": "Restart the pool hourly",
            "effectiveness_level": "medium",
            "implemented_at": "2031-01-01T10:00:00Z",
        },
    )
    await w.write("PATCH", f"/v1/workarounds/{workaround['id']}", "ts", {"effectiveness_level": "high"})
    rca = await w.write("POST", "/v1/root-cause-analyses", "ts", {**incident, "analysis_method": "five_whys"})
    await w.write(
        "POST",
        f"/v1/root-cause-analyses/{rca['id']}/complete",
        "ts",
        {"root_cause": "pool", "findings": "small"},
    )
    await w.steps(f"/v1/root-cause-analyses/{rca['id']}", "exec", "approve")
    problem = await w.write("POST", "/v1/problems", "im", {**incident, "title": "Pool exhaustion"})
    await w.write("PATCH", f"/v1/problems/{problem['id']}", "im", {"status": "investigating"})
    await w.write(
        "POST", f"/v1/problems/{problem['id']}/incidents", "im", {"incident_id": str(closed_incident)}
    )
    await w.write(
        "PATCH",
        f"/v1/problems/{problem['id']}",
        "im",
        {"status": "known_error", "workaround_id": workaround["id"]},
    )
    article = await w.write(
        "POST",
        "/v1/kb-articles",
        "ts",
        {
            "title": "Pool sizing",
            "article_type": "runbook",
            "category": "database",
            "reviewer_id": str(w.ids["im"]),
        },
    )
    await w.steps(f"/v1/kb-articles/{article['id']}", "ts", "submit")
    await w.steps(f"/v1/kb-articles/{article['id']}", "im", "publish", "archive")
    review_body = {
        "incident_id": str(closed_incident),
        "facilitator_id": str(w.ids["exec"]),
        "scheduled_date": "2031-02-01",
        "overall_rating": 4,
    }
    review = await w.write("POST", "/v1/post-incident-reviews", "im", review_body)
    called_off = await w.write("POST", "/v1/post-incident-reviews", "im", review_body)
    await w.steps(f"/v1/post-incident-reviews/{called_off['id']}", "im", "cancel")
    await w.write(
        "POST",
        f"/v1/post-incident-reviews/{review['id']}/action-items",
        "im",
        {"description": "Alert on pool usage", "owner_id": str(w.ids["ts"])},
    )
    await w.write("POST", f"/v1/post-incident-reviews/{review['id']}/complete", "im", {})


async def test_every_changes_write_is_audited_once_and_redelivery_adds_nothing(stack: Stack) -> None:
    tenant, component, open_incident, closed_incident = uuid4(), uuid4(), new_id(), new_id()
    users = {"ts": Role.TECHNICAL_SUPPORT, "im": Role.INCIDENT_MANAGER, "exec": Role.EXECUTIVE}
    audit_settings = stack.settings(AuditSettings)
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers, enable_idempotence=True)
    await producer.start()
    db = Database.connect(stack.database_url, "changes", pool_size=1)
    try:
        async with (
            serving(create_changes(stack.settings(ChangesSettings))) as changes,
            serving(create_audit(audit_settings)) as audit,
        ):
            w = Walk(stack, changes, tenant, users)
            world = World(producer, stack.topic_prefix)
            for name, role in users.items():
                await world.user(tenant, w.ids[name], role, name=name)
            await world.component(tenant, component, uuid4())
            await world.incident(tenant, incident_created(open_incident, component_id=component))
            await world.incident(
                tenant, incident_created(closed_incident, component_id=component), closed=True
            )

            async def replicated() -> bool:
                async with db.sessions() as s:
                    known = (
                        await s.scalars(select(principals.c.user_id).where(principals.c.tenant_id == tenant))
                    ).all()
                answer = await changes.get(
                    f"/v1/incidents/{closed_incident}/related-changes", headers=w.headers["im"]
                )
                return len(known) == len(users) and answer.status_code == 200

            await eventually(replicated, what="the changes service to replicate the users and incidents")

            await walk_every_procedure(w, component, open_incident, closed_incident)

            async with db.sessions() as s:
                values = (await s.scalars(select(outbox.c.value).order_by(outbox.c.id))).all()
            emitted = [e for e in map(Envelope.model_validate_json, values) if e.tenantid == tenant]
            # One event per write (the completed rollback's two records counted as two writes).
            assert len(emitted) == w.writes
            emitted_types = {e.type for e in emitted}
            by_subject: dict[str, list[Envelope]] = {}
            for envelope in emitted:
                by_subject.setdefault(envelope.subject, []).append(envelope)

            async def recorded(subject: str) -> list[dict[str, Any]]:
                answer = await audit.get(
                    "/v1/audit", params={"subject": subject, "limit": 1000}, headers=w.headers["im"]
                )
                assert answer.status_code == 200, answer.text
                return [e for e in answer.json() if e["event_type"] in emitted_types]

            async def all_recorded() -> dict[str, list[dict[str, Any]]] | None:
                found = {subject: await recorded(subject) for subject in by_subject}
                complete = all(len(found[s]) >= len(events) for s, events in by_subject.items())
                return found if complete else None

            found = await eventually(all_recorded, within=60, what="audit to record every changes event")
            for subject, events in by_subject.items():
                assert [(e["event_id"], e["event_type"]) for e in found[subject]] == [
                    (str(e.id), e.type) for e in events
                ], subject
            types = Counter(e.type for e in emitted)
            assert types["change_request.rolled_back.v1"] == 1 and types["blackout_windows.changed.v1"] == 1
            # Every event type of change.events, so every kind of write, was audited above.
            assert set(types) == {
                t for t, cls in known_event_types().items() if cls.topic is Topic.CHANGE_EVENTS
            }
            approved = await audit.get(
                "/v1/audit",
                params={"event_type": "change_request.approved.v1", "limit": 1000},
                headers=w.headers["im"],
            )
            assert len(approved.json()) == types["change_request.approved.v1"] == 2

            # Every event delivered again (as after a crash between publishing and marking sent).
            for envelope in emitted:
                await send(producer, stack.topic_prefix, envelope)
            await eventually(
                lambda: stack.caught_up(audit_settings, Topic.CHANGE_EVENTS),
                within=60,
                what="audit to handle the redelivered events",
            )
            assert {subject: await recorded(subject) for subject in by_subject} == found
    finally:
        await producer.stop()
        await db.dispose()
