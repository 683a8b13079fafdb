"""Incident reminders (004) over the real Kafka broker and PostgreSQL, with a manual clock:
nothing fires before its time; a due reminder fires exactly once even with two replicas polling;
sms is recorded as unsupported; reminders of finished incidents are skipped; cancelling stops
one; and the incident replica is filled by triage's own incident.created.v1."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from backbone.db import Database
from backbone.testing import Stack, assert_problem, eventually, publish, serving
from backbone.timers import ManualClock
from backbone.uow import UnitOfWork
from contracts.enums import IncidentSource, Role, Severity
from contracts.envelope import EventData, new_id
from contracts.events import IncidentCreated, IncidentReported, IncidentStatusChanged
from notifications.adapters.incidents import incidents
from notifications.entrypoints.reminders import reminder_loop
from notifications.main import create
from notifications.testing import (
    SmtpSink,
    local_settings,
    manual_incident,
    outbox_envelopes,
    register_users,
    registered_user,
)
from triage.config import Settings as TriageSettings
from triage.main import create as create_triage

pytestmark = pytest.mark.integration

PROBLEM_JSON = "application/problem+json"


@dataclass
class Env:
    stack: Stack
    client: httpx.AsyncClient
    producer: AIOKafkaProducer
    db: Database
    clock: ManualClock
    smtp: SmtpSink
    tenant: UUID = field(default_factory=uuid4)
    other_tenant: UUID = field(default_factory=uuid4)
    client_1: UUID = field(default_factory=uuid4)
    users: dict[str, UUID] = field(default_factory=dict)

    async def publish(self, data: EventData, tenant_id: UUID, source: str) -> None:
        await publish(self.producer, self.stack.topic_prefix, data, tenant_id=tenant_id, source=source)

    def auth(self, name: str) -> dict[str, str]:
        role, tenant, linked = USERS[name]
        return self.stack.auth(
            tenant_id=self.other_tenant if tenant == "b" else self.tenant,
            role=role.value,
            user_id=self.users[name],
            client_id=self.client_1 if linked else None,
        )

    async def incident(self, *, status: str = "open", tenant: UUID | None = None) -> UUID:
        """A fresh incident in the replica, as triage announces it."""
        incident_id = new_id()
        await self.publish(
            headline(incident_id, status=status, client_id=self.client_1), tenant or self.tenant, "triage"
        )

        async def replicated() -> bool:
            async with self.db.sessions() as s:
                return await s.scalar(select(incidents.c.id).where(incidents.c.id == incident_id)) is not None

        await eventually(replicated, what=f"incident {incident_id} in the replica")
        return incident_id

    async def schedule(
        self, incident_id: UUID, *, minutes: float, who: str = "ts", **extra: Any
    ) -> httpx.Response:
        body = {
            "reminder_type": "follow_up",
            "scheduled_for": (self.clock.now() + timedelta(minutes=minutes)).isoformat(),
            "channel": "email",
            **extra,
        }
        return await self.client.post(
            f"/v1/incidents/{incident_id}/reminders", json=body, headers=self.auth(who)
        )

    async def reminders(self, incident_id: UUID) -> dict[str, dict[str, Any]]:
        response = await self.client.get(f"/v1/incidents/{incident_id}/reminders", headers=self.auth("im"))
        assert response.status_code == 200, response.text
        return {r["id"]: r for r in response.json()}

    async def events(self, event_type: str) -> list[dict[str, Any]]:
        return [e.data for e in await outbox_envelopes(self.db, event_type)]


# name -> (role, tenant, linked to client_1)
USERS: dict[str, tuple[Role, str, bool]] = {
    "im": (Role.INCIDENT_MANAGER, "a", False),
    "ts": (Role.TECHNICAL_SUPPORT, "a", False),
    "am": (Role.ACCOUNT_MANAGER, "a", False),
    "cc1": (Role.CLIENT_CONTACT, "a", True),
    "gone": (Role.TECHNICAL_SUPPORT, "a", False),
    "im_b": (Role.INCIDENT_MANAGER, "b", False),
}


def headline(incident_id: UUID, *, status: str, client_id: UUID | None) -> IncidentCreated:
    return manual_incident(
        incident_id, title="disk full", severity=Severity.P3, status=status, client_id=client_id
    )


@pytest.fixture(scope="module")
async def env(stack: Stack) -> AsyncIterator[Env]:
    clock = ManualClock(datetime.now(UTC))
    # An hour between polls: only moving the clock makes the loops look, so nothing fires by
    # the passing of real time during the test.
    settings = local_settings(stack, reminder_poll_s=3600)
    smtp = SmtpSink()
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers, enable_idempotence=True)
    await producer.start()
    db = Database.connect(stack.database_url, "notifications", pool_size=2)
    # A second replica's reminder loop, on its own connections, racing the app's own loop.
    other_db = Database.connect(stack.database_url, "notifications", pool_size=2)
    other = reminder_loop(settings, clock)
    other_task = asyncio.create_task(
        other(SimpleNamespace(uow=lambda: UnitOfWork(other_db.sessions, source="notifications")))  # type: ignore[arg-type]
    )
    try:
        async with serving(create(settings, clock=clock)) as client:
            e = Env(stack, client, producer, db, clock, smtp)
            e.users = await register_users(
                producer,
                stack,
                db,
                [
                    registered_user(
                        name,
                        e.other_tenant if tenant == "b" else e.tenant,
                        role,
                        active=name != "gone",
                        client_id=e.client_1 if linked else None,
                    )
                    for name, (role, tenant, linked) in USERS.items()
                ],
            )
            # Tenant A's email channel, through a real SMTP server.
            config = {"host": "127.0.0.1", "port": 0, "security": "none", "from_address": "ops@example.com"}
            with smtp.running():
                channel = await client.post(
                    "/v1/channels",
                    json={"kind": "email", "name": "mail", "config": config | {"port": smtp.port}},
                    headers=stack.auth(tenant_id=e.tenant, role="system_administrator"),
                )
                assert channel.status_code == 201, channel.text
                yield e
    finally:
        other_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await other_task
        await producer.stop()
        await db.dispose()
        await other_db.dispose()


async def _all_leave_scheduled(env: Env, incident_id: UUID, count: int) -> dict[str, dict[str, Any]]:
    async def probe() -> dict[str, dict[str, Any]] | None:
        rows = await env.reminders(incident_id)
        done = [r for r in rows.values() if r["status"] != "scheduled"]
        return rows if len(done) == count else None

    return await eventually(probe, what=f"{count} reminders of {incident_id} to fire")


# --------------------------------------------------------------------------- timers


async def test_not_due_fires_nothing_and_due_fires_once_with_two_replicas(env: Env) -> None:
    incident_id = await env.incident()
    ids = []
    for i in range(12):
        response = await env.schedule(
            incident_id, minutes=10, user_ids=[str(env.users["im"])], metadata={"n": i}
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["status"] == "scheduled" and body["sent_at"] is None
        ids.append(body["id"])
    later = await env.schedule(incident_id, minutes=60)
    assert later.status_code == 201

    # Five minutes on: nothing is due. A tick of our own (which would claim anything due) fires
    # none of them, and they stay scheduled.
    env.clock.advance(minutes=5)
    async with UnitOfWork(env.db.sessions, source="notifications") as uow:
        from notifications.handlers.reminders import fire_due_reminders

        assert await fire_due_reminders(uow, env.clock.now()) == 0
        await uow.rollback()
    assert {r["status"] for r in (await env.reminders(incident_id)).values()} == {"scheduled"}

    # Ten minutes: all twelve are due; both replicas' loops wake and race for them.
    fired_at = env.clock.advance(minutes=5)
    rows = await _all_leave_scheduled(env, incident_id, 12)
    for reminder_id in ids:
        assert rows[reminder_id]["status"] == "sent"
        assert datetime.fromisoformat(rows[reminder_id]["sent_at"]) == fired_at
    assert rows[later.json()["id"]]["status"] == "scheduled"

    dispatched = [
        d for d in await env.events("reminder.dispatched.v1") if d["incident_id"] == str(incident_id)
    ]
    assert Counter(d["reminder_id"] for d in dispatched) == Counter(ids)  # each exactly once
    assert {d["outcome"] for d in dispatched} == {"sent"}
    assert all(d["user_ids"] == [str(env.users["im"])] and d["channel"] == "email" for d in dispatched)
    scheduled = [s for s in await env.events("reminder.scheduled.v1") if s["incident_id"] == str(incident_id)]
    assert len(scheduled) == 13

    # The hour-later one fires when its time comes, once.
    env.clock.advance(minutes=50)
    rows = await _all_leave_scheduled(env, incident_id, 13)
    assert rows[later.json()["id"]]["status"] == "sent"
    # Without user_ids, the reminder is for whoever scheduled it.
    assert rows[later.json()["id"]]["user_ids"] == [str(env.users["ts"])]


async def test_dispatched_reminder_reaches_its_user_once(env: Env) -> None:
    """The delivery router takes reminder.dispatched.v1 to the user's email, once."""
    incident_id = await env.incident()
    reminder_type = f"check-{uuid4().hex[:8]}"
    response = await env.schedule(incident_id, minutes=1, who="im", reminder_type=reminder_type)
    assert response.status_code == 201, response.text
    env.clock.advance(minutes=1)
    await _all_leave_scheduled(env, incident_id, 1)

    def mails() -> list[Any]:
        return [
            m for m in env.smtp.messages if m["To"] == "im@example.com" and incident_id_in(m, incident_id)
        ]

    await eventually(lambda: asyncio.sleep(0, mails()), what="the reminder's mail")
    (mail,) = mails()
    # The envelope (RCPT TO) too: the header could say one thing and the mail go elsewhere.
    assert env.smtp.recipients[env.smtp.messages.index(mail)] == ["im@example.com"]
    # Fired once (the router sends one mail per dispatched event and recipient).
    dispatched = [
        d for d in await env.events("reminder.dispatched.v1") if d["reminder_id"] == response.json()["id"]
    ]
    assert len(dispatched) == 1


def incident_id_in(message: Any, incident_id: UUID) -> bool:
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    return str(incident_id) in text or str(incident_id) in str(message["Subject"])


async def test_sms_is_recorded_as_unsupported(env: Env) -> None:
    incident_id = await env.incident()
    response = await env.schedule(incident_id, minutes=1, channel="sms")
    assert response.status_code == 201, response.text
    env.clock.advance(minutes=1)
    row = (await _all_leave_scheduled(env, incident_id, 1))[response.json()["id"]]
    assert row["status"] == "unsupported" and row["sent_at"] is None and row["fired_at"]
    dispatched = [d for d in await env.events("reminder.dispatched.v1") if d["reminder_id"] == row["id"]]
    assert [(d["outcome"], d["channel"]) for d in dispatched] == [("unsupported", "sms")]


async def test_reminder_of_a_finished_incident_is_skipped(env: Env) -> None:
    incident_id = await env.incident()
    response = await env.schedule(incident_id, minutes=3)
    assert response.status_code == 201
    await env.publish(
        IncidentStatusChanged(
            incident_id=incident_id,
            reference_code="INC-1",
            title="disk full",
            severity=Severity.P3,
            status="resolved",
            client_id=env.client_1,
            from_status="open",
            to_status="resolved",
        ),
        env.tenant,
        "triage",
    )

    async def resolved() -> bool:
        async with env.db.sessions() as s:
            return (
                await s.scalar(select(incidents.c.status).where(incidents.c.id == incident_id)) == "resolved"
            )

    await eventually(resolved, what="the replica to see the incident resolved")
    env.clock.advance(minutes=3)
    row = (await _all_leave_scheduled(env, incident_id, 1))[response.json()["id"]]
    assert row["status"] == "skipped" and row["sent_at"] is None
    assert not [d for d in await env.events("reminder.dispatched.v1") if d["reminder_id"] == row["id"]]
    cancelled = [c for c in await env.events("reminder.cancelled.v1") if c["reminder_id"] == row["id"]]
    assert [c["reason"] for c in cancelled] == ["incident_finished"]
    # And no new reminder can be scheduled for it.
    assert_problem(await env.schedule(incident_id, minutes=5), 409)


async def test_cancelled_reminder_never_fires(env: Env) -> None:
    incident_id = await env.incident()
    reminder_id = (await env.schedule(incident_id, minutes=2)).json()["id"]
    keep = (await env.schedule(incident_id, minutes=2)).json()["id"]
    assert_problem(await env.client.delete(f"/v1/reminders/{reminder_id}", headers=env.auth("am")), 403)
    assert_problem(await env.client.delete(f"/v1/reminders/{reminder_id}", headers=env.auth("im_b")), 404)
    assert_problem(await env.client.delete(f"/v1/reminders/{uuid4()}", headers=env.auth("im")), 404)
    response = await env.client.delete(f"/v1/reminders/{reminder_id}", headers=env.auth("im"))
    assert response.status_code == 204, response.text
    assert_problem(await env.client.delete(f"/v1/reminders/{reminder_id}", headers=env.auth("im")), 409)

    env.clock.advance(minutes=2)
    rows = await _all_leave_scheduled(env, incident_id, 2)
    assert rows[reminder_id]["status"] == "cancelled" and rows[reminder_id]["cancelled_at"]
    assert rows[keep]["status"] == "sent"
    assert not [d for d in await env.events("reminder.dispatched.v1") if d["reminder_id"] == reminder_id]
    cancelled = [c for c in await env.events("reminder.cancelled.v1") if c["reminder_id"] == reminder_id]
    assert [(c["reason"], c["cancelled_by"]) for c in cancelled] == [("cancelled", str(env.users["im"]))]
    # A fired reminder cannot be cancelled any more.
    assert_problem(await env.client.delete(f"/v1/reminders/{keep}", headers=env.auth("im")), 409)


# --------------------------------------------------------------------------- scheduling checks


async def test_scheduling_pre_checks(env: Env) -> None:
    incident_id = await env.incident()
    assert_problem(await env.schedule(uuid4(), minutes=5), 404)
    foreign = await env.incident(tenant=env.other_tenant)
    assert_problem(await env.schedule(foreign, minutes=5), 404)
    assert assert_problem(await env.schedule(incident_id, minutes=-30), 422)["field"] == "scheduled_for"
    naive = {"reminder_type": "x", "scheduled_for": "2030-01-01T09:00:00", "channel": "email"}
    response = await env.client.post(
        f"/v1/incidents/{incident_id}/reminders", json=naive, headers=env.auth("ts")
    )
    assert assert_problem(response, 422)["field"] == "scheduled_for"
    assert_problem(await env.schedule(incident_id, minutes=5, channel="pager"), 422)
    assert_problem(await env.schedule(incident_id, minutes=5, reminder_type=""), 422)
    for user in (uuid4(), env.users["im_b"], env.users["gone"]):
        body = assert_problem(await env.schedule(incident_id, minutes=5, user_ids=[str(user)]), 422)
        assert body["field"] == "user_ids"
    for who in ("am", "cc1"):
        assert_problem(await env.schedule(incident_id, minutes=5, who=who), 403)
    assert await env.reminders(incident_id) == {}
    # A client contact may read the reminders of its client's incident; another tenant may not.
    assert (await env.schedule(incident_id, minutes=5, who="im")).status_code == 201
    listed = await env.client.get(f"/v1/incidents/{incident_id}/reminders", headers=env.auth("cc1"))
    assert listed.status_code == 200 and len(listed.json()) == 1
    assert_problem(
        await env.client.get(f"/v1/incidents/{incident_id}/reminders", headers=env.auth("im_b")), 404
    )


async def test_incident_replica_is_filled_by_triage(env: Env) -> None:
    """The real triage service turns intake's report into incident.created.v1; notifications
    takes the incident from it and accepts a reminder for it."""
    incident_id = new_id()
    async with serving(create_triage(env.stack.settings(TriageSettings))):
        report = IncidentReported(
            incident_id=incident_id,
            source=IncidentSource.MANUAL,
            title="queue backlog",
            client_id=env.client_1,
            detected_at=datetime.now(UTC),
        )
        await env.publish(report, env.tenant, "intake")

        async def replicated() -> Any:
            async with env.db.sessions() as s:
                return (await s.execute(select(incidents).where(incidents.c.id == incident_id))).first()

        row = await eventually(replicated, within=60, what="triage's incident in notifications' replica")
    assert (row.tenant_id, row.client_id, row.status, row.title) == (
        env.tenant,
        env.client_1,
        "open",
        "queue backlog",
    )
    assert row.reference_code.startswith("INC-")
    assert (await env.schedule(incident_id, minutes=5)).status_code == 201
