"""An SLA breach in real time: a tenant's 1-minute policy (24x7), an incident opened by triage,
both its clocks warn and then breach within a second of their due time, each exactly once;
triage escalates each breach once, and notifications routes the breaches to a webhook.
Triage, sla and notifications in-process on their system clocks, over the real broker and
database. Bounds come from the events' own timestamps, never from the test's wall clock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from backbone.db import Database
from backbone.testing import Stack, eventually, publish, serving
from contracts.enums import IncidentSource, Role
from contracts.envelope import Envelope, new_id
from contracts.events import IncidentReported
from notifications.config import Settings as NotificationsSettings
from notifications.main import create as create_notifications
from notifications.testing import HttpReceiver, webhook_rule
from sla.adapters.orm import clock_timers, clocks
from sla.adapters.orm import outbox as sla_outbox
from sla.config import Settings as SlaSettings
from sla.main import create as create_sla
from triage.adapters.orm import outbox as triage_outbox
from triage.config import Settings as TriageSettings
from triage.main import create as create_triage

pytestmark = pytest.mark.integration

HOOK_SECRET = "whsec-" + uuid.uuid4().hex
ONE_MINUTE = {
    "calendar": "24x7",
    "response_target_minutes": 1,
    "response_deadline_minutes": 1,
    "resolution_target_minutes": 1,
    "resolution_deadline_minutes": 1,
}


async def announced(db: Database, table: Any, incident_id: uuid.UUID, event_type: str) -> list[Envelope]:
    """What a service announced about the incident (its outbox), oldest first."""
    query = (
        select(table.c.value)
        .where(table.c.key == str(incident_id), table.c.event_type == event_type)
        .order_by(table.c.id)
    )
    async with db.sessions() as s:
        return [Envelope.model_validate_json(v) for v in (await s.scalars(query)).all()]


async def test_a_one_minute_policy_breaches_on_time_once_escalates_once_and_is_routed(
    stack: Stack, notifications_settings: NotificationsSettings
) -> None:
    tenant = uuid.uuid4()
    manager = stack.auth(tenant_id=tenant, role=Role.INCIDENT_MANAGER.value)
    apps = {
        "triage": create_triage(stack.settings(TriageSettings)),
        "sla": create_sla(stack.settings(SlaSettings)),
        "notifications": create_notifications(notifications_settings),
    }
    sla_db = Database.connect(stack.database_url, "sla", pool_size=1)
    triage_db = Database.connect(stack.database_url, "triage", pool_size=1)
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers, enable_idempotence=True)
    await producer.start()
    try:
        async with (
            serving(apps["triage"]) as triage,
            serving(apps["sla"]) as sla,
            serving(apps["notifications"]) as notifications,
            HttpReceiver().running() as hook,
        ):
            # Every severity of the tier the incident falls back to (no client): one minute.
            for severity in ("P1", "P2", "P3", "P4"):
                put = await sla.put(f"/v1/policies/basic/{severity}", json=ONE_MINUTE, headers=manager)
                assert put.status_code == 200, put.text
            await webhook_rule(notifications, manager, hook.url + "/sla", HOOK_SECRET, ["sla.breached.v1"])

            incident_id = new_id()
            await publish(
                producer,
                stack.topic_prefix,
                IncidentReported(
                    incident_id=incident_id,
                    source=IncidentSource.MANUAL,
                    title="Checkout is down",
                    detected_at=datetime.now(UTC),
                ),
                tenant_id=tenant,
                source="intake",
            )

            async def shown() -> dict[str, Any] | None:
                answer = await sla.get(f"/v1/incidents/{incident_id}/sla", headers=manager)
                body: dict[str, Any] = answer.json()
                return body if answer.status_code == 200 and len(body["clocks"]) == 2 else None

            started = await eventually(shown, what="sla to start the incident's clocks")
            opened = await triage.get(f"/v1/incidents/{incident_id}", headers=manager)
            assert opened.status_code == 200, opened.text
            assert (started["severity"], started["tier"]) == (opened.json()["severity"], "basic")
            for clock in started["clocks"]:
                assert clock["state"] == "running" and clock["calendar"] == "24x7"
                begun = datetime.fromisoformat(clock["started_at"])
                assert datetime.fromisoformat(clock["due_at"]) - begun == timedelta(minutes=1)

            # The webhook gets both breaches (response and resolution), signed.
            async def routed() -> list[dict[str, Any]] | None:
                found = [r.json() for r in hook.verified(HOOK_SECRET)]
                breaches = [h for h in found if h["type"] == "sla.breached.v1"]
                return breaches if len(breaches) >= 2 else None

            hooks = await eventually(routed, within=120, what="the breaches at the webhook")
            assert {h["data"]["clock"] for h in hooks} == {"response", "resolution"}
            assert all(h["data"]["incident_id"] == str(incident_id) for h in hooks)

            # Each clock warned, then breached within a second of its due time, exactly once.
            breaches = await announced(sla_db, sla_outbox, incident_id, "sla.breached.v1")
            warnings = await announced(sla_db, sla_outbox, incident_id, "sla.at_risk.v1")
            assert sorted(b.data["clock"] for b in breaches) == ["resolution", "response"]
            assert sorted(w.data["clock"] for w in warnings) == ["resolution", "response"]
            for breach in breaches:
                due = datetime.fromisoformat(breach.data["due_at"])
                breached = datetime.fromisoformat(breach.data["breached_at"])
                lag = breached - due
                assert timedelta(0) <= lag < timedelta(seconds=1), (breach.data["clock"], lag)
                warning = next(w for w in warnings if w.data["clock"] == breach.data["clock"])
                assert datetime.fromisoformat(warning.data["warned_at"]) < breached
            # Nothing left to fire: every timer of both clocks is marked fired, none pending.
            async with sla_db.sessions() as s:
                timers = (
                    await s.execute(
                        select(clock_timers.c.what, clock_timers.c.fired_at)
                        .join(clocks, clocks.c.id == clock_timers.c.clock_id)
                        .where(clocks.c.incident_id == incident_id)
                    )
                ).all()
            assert len(timers) == 4 and all(t.fired_at is not None for t in timers)

            # Triage escalated each breach once (no escalation policy: the fallback role).
            async def escalations() -> list[Envelope] | None:
                found = await announced(triage_db, triage_outbox, incident_id, "incident.escalated.v1")
                on_breach = [e for e in found if e.data["cause"] == "sla_breached"]
                return on_breach if len(on_breach) >= 2 else None

            escalated = await eventually(escalations, what="triage to escalate the breaches")
            assert len(escalated) == 2
            assert sorted("response" in e.data["reason"] for e in escalated) == [False, True]
            assert all(e.data["trigger"] == "automatic" and e.data["target_roles"] for e in escalated)
            # One delivery per breach at the receiver (retries share a delivery id).
            assert (
                len([d for d in hook.unique_deliveries().values() if d.json()["type"] == "sla.breached.v1"])
                == 2
            )
    finally:
        await producer.stop()
        await sla_db.dispose()
        await triage_db.dispose()
