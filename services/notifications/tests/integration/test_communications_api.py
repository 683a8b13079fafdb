"""Recorded communications (000 "Recording Communications") over the real Kafka broker and
PostgreSQL: every pre-check and halt of the procedure, role and tenant isolation, and the
delivery status moving as the router's notification.sent/failed events arrive.

Users reach the service's replica as directory's user.registered.v1 and incidents as triage's
incident.created.v1, published to the session's topics like the real services would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from backbone.db import Database
from backbone.testing import Stack, assert_problem, eventually, publish, serving
from contracts.enums import ChannelKind, Role, Severity
from contracts.envelope import Envelope, EventData, new_id
from contracts.events import (
    IncidentCreated,
    IncidentStatusChanged,
    NotificationFailed,
    NotificationSent,
)
from notifications.adapters.communications import communications
from notifications.adapters.incidents import incidents
from notifications.main import create
from notifications.testing import (
    HttpReceiver,
    SmtpSink,
    local_settings,
    manual_incident,
    outbox_envelopes,
    register_users,
    registered_user,
)

pytestmark = pytest.mark.integration

PROBLEM_JSON = "application/problem+json"
WEBHOOK_SECRET = "whsec-" + uuid4().hex


@dataclass
class World:
    tenant_a: UUID = field(default_factory=uuid4)
    tenant_b: UUID = field(default_factory=uuid4)
    client_1: UUID = field(default_factory=uuid4)
    client_2: UUID = field(default_factory=uuid4)
    vendor_1: UUID = field(default_factory=uuid4)
    users: dict[str, UUID] = field(default_factory=dict)
    incidents: dict[str, UUID] = field(default_factory=dict)


@dataclass
class Env:
    stack: Stack
    client: httpx.AsyncClient
    producer: AIOKafkaProducer
    db: Database
    world: World
    webhook: HttpReceiver
    smtp: SmtpSink

    async def publish(self, data: EventData, tenant_id: UUID, source: str = "directory") -> None:
        await publish(self.producer, self.stack.topic_prefix, data, tenant_id=tenant_id, source=source)

    def as_user(self, name: str) -> dict[str, str]:
        """A token for one of the world's users (its role and links as registered)."""
        role, tenant, client, vendor = USERS[name]
        w = self.world
        return self.stack.auth(
            tenant_id=w.tenant_b if tenant == "b" else w.tenant_a,
            role=role.value,
            user_id=w.users[name],
            client_id=getattr(w, client) if client else None,
            vendor_id=getattr(w, vendor) if vendor else None,
        )

    async def post(self, headers: dict[str, str], **body: Any) -> httpx.Response:
        return await self.client.post("/v1/communications", json=body, headers=headers)

    async def rows(self, incident_id: UUID) -> int:
        async with self.db.sessions() as s:
            count = await s.scalar(
                select(func.count())
                .select_from(communications)
                .where(communications.c.incident_id == incident_id)
            )
        return int(count or 0)

    async def events(self, event_type: str) -> list[Envelope]:
        return await outbox_envelopes(self.db, event_type)


# name -> (role, tenant, client attribute, vendor attribute); "inactive_im" is deactivated.
USERS: dict[str, tuple[Role, str, str | None, str | None]] = {
    "im": (Role.INCIDENT_MANAGER, "a", None, None),
    "ts": (Role.TECHNICAL_SUPPORT, "a", None, None),
    "inactive_im": (Role.INCIDENT_MANAGER, "a", None, None),
    "am": (Role.ACCOUNT_MANAGER, "a", None, None),
    "exec": (Role.EXECUTIVE, "a", None, None),
    "admin": (Role.SYSTEM_ADMINISTRATOR, "a", None, None),
    "cc1": (Role.CLIENT_CONTACT, "a", "client_1", None),
    "cc2": (Role.CLIENT_CONTACT, "a", "client_2", None),
    "vc1": (Role.VENDOR_CONTACT, "a", None, "vendor_1"),
    "im_b": (Role.INCIDENT_MANAGER, "b", None, None),
}


def created(
    incident_id: UUID, *, client_id: UUID | None = None, vendor_id: UUID | None = None
) -> IncidentCreated:
    return manual_incident(
        incident_id,
        title=f"incident {incident_id}",
        severity=Severity.P2,
        client_id=client_id,
        vendor_id=vendor_id,
    )


@pytest.fixture(scope="module")
async def env(stack: Stack) -> AsyncIterator[Env]:
    w = World()
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers, enable_idempotence=True)
    await producer.start()
    db = Database.connect(stack.database_url, "notifications", pool_size=2)
    settings = local_settings(stack)
    smtp = SmtpSink()
    try:
        async with (
            HttpReceiver().running() as webhook,
            serving(create(settings)) as client,
        ):
            e = Env(stack, client, producer, db, w, webhook, smtp)
            w.users = await register_users(
                producer,
                stack,
                db,
                [
                    registered_user(
                        name,
                        w.tenant_b if tenant == "b" else w.tenant_a,
                        role,
                        active=name != "inactive_im",
                        client_id=getattr(w, client_attr) if client_attr else None,
                        vendor_id=getattr(w, vendor_attr) if vendor_attr else None,
                    )
                    for name, (role, tenant, client_attr, vendor_attr) in USERS.items()
                ],
            )
            w.incidents = {"a1": new_id(), "a2": new_id(), "b1": new_id()}
            await e.publish(
                created(w.incidents["a1"], client_id=w.client_1, vendor_id=w.vendor_1), w.tenant_a, "triage"
            )
            await e.publish(created(w.incidents["a2"], client_id=w.client_2), w.tenant_a, "triage")
            await e.publish(created(w.incidents["b1"]), w.tenant_b, "triage")

            async def replicated() -> bool:
                async with db.sessions() as s:
                    known = await s.scalar(
                        select(func.count())
                        .select_from(incidents)
                        .where(incidents.c.id.in_(list(w.incidents.values())))
                    )
                return known == len(w.incidents)

            await eventually(replicated, what="the incidents replica")
            # Tenant A's channels: a signed webhook and email through a real SMTP server.
            admin = stack.auth(tenant_id=w.tenant_a, role="system_administrator")
            with smtp.running():
                for kind, config in (
                    ("webhook", {"url": webhook.url + "/hook", "secret": WEBHOOK_SECRET}),
                    (
                        "email",
                        {
                            "host": "127.0.0.1",
                            "port": smtp.port,
                            "security": "none",
                            "from_address": "ops@example.com",
                        },
                    ),
                ):
                    channel = await client.post(
                        "/v1/channels", json={"kind": kind, "name": kind, "config": config}, headers=admin
                    )
                    assert channel.status_code == 201, channel.text
                yield e
    finally:
        await producer.stop()
        await db.dispose()


def valid(env: Env, incident: str = "a1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "incident_id": str(env.world.incidents[incident]),
        "recipient_type": "internal",
        "communication_type": "status_update",
        "delivery_method": "email",
        "title": "Database failover",
        "message": "Failover done; monitoring.",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


# --------------------------------------------------------------------------- the procedure


async def test_recording_answers_pending_with_the_real_time_and_announces_it(env: Env) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    response = await env.post(
        env.as_user("im"), **valid(env, recipient_user_id=str(env.world.users["cc1"]), recipient_type=None)
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["delivery_status"] == "pending"
    sent_at = datetime.fromisoformat(body["sent_at"])
    assert before <= sent_at <= datetime.now(UTC) + timedelta(seconds=5)  # not the source's placeholder
    communication_id = body["communication_id"]

    stored = await env.client.get(f"/v1/communications/{communication_id}", headers=env.as_user("im"))
    assert stored.status_code == 200
    record = stored.json()
    assert record["sender_id"] == str(env.world.users["im"])
    assert record["recipient_user_id"] == str(env.world.users["cc1"])
    assert record["recipient_type"] == "client"  # from the recipient's role
    assert (record["communication_type"], record["delivery_method"]) == ("status_update", "email")
    assert record["incident_id"] == str(env.world.incidents["a1"])

    recorded = [
        e for e in await env.events("communication.recorded.v1") if e.subject == record["incident_id"]
    ]
    mine = [e for e in recorded if e.data["communication_id"] == communication_id]
    assert len(mine) == 1
    assert mine[0].tenantid == env.world.tenant_a
    assert mine[0].actor.user_id == env.world.users["im"]
    assert (
        mine[0].data["delivery_status"] == "pending"
        and mine[0].data["message"] == "Failover done; monitoring."
    )


async def test_technical_support_records_by_recipient_type(env: Env) -> None:
    response = await env.post(
        env.as_user("ts"), **valid(env, recipient_type="executive", delivery_method="slack")
    )
    assert response.status_code == 201, response.text
    record = (
        await env.client.get(
            f"/v1/communications/{response.json()['communication_id']}", headers=env.as_user("ts")
        )
    ).json()
    assert (record["recipient_type"], record["recipient_user_id"]) == ("executive", None)


async def test_unknown_incident_halts_with_404(env: Env) -> None:
    before = await env.rows(env.world.incidents["a1"])
    assert_problem(
        await env.post(env.as_user("im"), **valid(env, incident_id=str(uuid4()))), 404, "no incident"
    )
    # Another tenant's incident reads as absent.
    assert_problem(await env.post(env.as_user("im"), **valid(env, "b1")), 404)
    assert await env.rows(env.world.incidents["b1"]) == 0
    assert await env.rows(env.world.incidents["a1"]) == before


async def test_sender_must_be_a_known_active_user(env: Env) -> None:
    incident = env.world.incidents["a2"]
    before = await env.rows(incident)
    # A valid token of a user the directory never registered: the sender check halts.
    stranger = env.stack.auth(tenant_id=env.world.tenant_a, role="incident_manager", user_id=uuid4())
    assert_problem(await env.post(stranger, **valid(env, "a2")), 403, "not a known user")
    # A deactivated user is refused before anything else.
    assert_problem(await env.post(env.as_user("inactive_im"), **valid(env, "a2")), 401, "inactive")
    assert await env.rows(incident) == before


async def test_recipient_user_must_exist_in_the_tenant_and_be_active(env: Env) -> None:
    incident = env.world.incidents["a1"]
    before = await env.rows(incident)
    im, users = env.as_user("im"), env.world.users
    for recipient, why in (
        (uuid4(), "no user"),
        (users["im_b"], "no user"),  # another tenant's user
        (users["inactive_im"], "inactive"),
        (users["cc2"], "another client"),  # a contact of client_2 about client_1's incident
    ):
        body = assert_problem(await env.post(im, **valid(env, recipient_user_id=str(recipient))), 422, why)
        assert body["field"] == "recipient_user_id"
    # A vendor contact about an incident not linked to its vendor.
    refused = await env.post(im, **valid(env, "a2", recipient_user_id=str(users["vc1"])))
    assert assert_problem(refused, 422)["field"] == "recipient_user_id"
    assert await env.rows(incident) == before
    # The linked vendor's contact is fine.
    ok = await env.post(im, **valid(env, recipient_user_id=str(users["vc1"]), recipient_type=None))
    assert ok.status_code == 201, ok.text


async def test_enumerations_and_shape_are_checked(env: Env) -> None:
    im = env.as_user("im")
    before = await env.rows(env.world.incidents["a1"])
    for bad in (
        {"recipient_type": "everyone"},
        {"communication_type": "gossip"},
        {"delivery_method": "pigeon"},
        {"recipient_type": None},  # neither a recipient user nor a type
        {"message": ""},
        {"incident_id": "not-a-uuid"},
        {"sender_id": str(uuid4())},  # the sender is the caller, never a field
    ):
        assert_problem(await env.post(im, **valid(env, **bad)), 422)
    missing = valid(env)
    del missing["communication_type"]
    assert_problem(await env.client.post("/v1/communications", json=missing, headers=im), 422)
    assert await env.rows(env.world.incidents["a1"]) == before


async def test_only_incident_managers_and_technical_support_record(env: Env) -> None:
    before = await env.rows(env.world.incidents["a1"])
    for name in ("am", "exec", "admin", "cc1", "vc1"):
        assert_problem(await env.post(env.as_user(name), **valid(env)), 403, "communications.record")
    assert_problem(await env.client.post("/v1/communications", json=valid(env)), 401)
    assert await env.rows(env.world.incidents["a1"]) == before


async def test_idempotency_key_records_once(env: Env) -> None:
    incident = env.world.incidents["a2"]
    before = await env.rows(incident)
    headers = env.as_user("ts") | {"Idempotency-Key": f"comm-{uuid4()}"}
    first = await env.post(headers, **valid(env, "a2"))
    again = await env.post(headers, **valid(env, "a2"))
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers.get("idempotent-replayed") == "true"
    assert await env.rows(incident) == before + 1


# --------------------------------------------------------------------------- reading


async def test_tenant_isolation_and_contact_scope_on_reads(env: Env) -> None:
    w = env.world
    internal = (await env.post(env.as_user("im"), **valid(env))).json()["communication_id"]
    to_client = (await env.post(env.as_user("im"), **valid(env, recipient_type="client"))).json()[
        "communication_id"
    ]
    foreign = (await env.post(env.as_user("im_b"), **valid(env, "b1"))).json()["communication_id"]

    # Tenant B's manager sees its own and none of tenant A's.
    assert_problem(await env.client.get(f"/v1/communications/{internal}", headers=env.as_user("im_b")), 404)
    listed_b = await env.client.get("/v1/communications", headers=env.as_user("im_b"))
    assert {c["id"] for c in listed_b.json()} == {foreign}
    assert_problem(await env.client.get(f"/v1/communications/{foreign}", headers=env.as_user("im")), 404)

    # Client_1's contact: what was addressed to clients on its incident, never internal notes.
    cc1 = env.as_user("cc1")
    assert (await env.client.get(f"/v1/communications/{to_client}", headers=cc1)).status_code == 200
    assert_problem(await env.client.get(f"/v1/communications/{internal}", headers=cc1), 404)
    seen = {c["id"] for c in (await env.client.get("/v1/communications", headers=cc1)).json()}
    assert to_client in seen and internal not in seen
    # Client_2's contact sees nothing of client_1's incident.
    assert_problem(await env.client.get(f"/v1/communications/{to_client}", headers=env.as_user("cc2")), 404)

    # Filter by incident, pages newest first.
    listed = await env.client.get(
        "/v1/communications",
        headers=env.as_user("im"),
        params={"incident_id": str(w.incidents["a1"]), "limit": 1},
    )
    assert listed.status_code == 200 and len(listed.json()) == 1 and 'rel="next"' in listed.headers["link"]


# --------------------------------------------------------------------------- delivery status


async def _status_becomes(env: Env, communication_id: str, status: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        response = await env.client.get(f"/v1/communications/{communication_id}", headers=env.as_user("im"))
        body: dict[str, Any] = response.json()
        return body if body["delivery_status"] == status else None

    return await eventually(probe, what=f"communication {communication_id} to become {status}")


async def test_status_follows_real_deliveries(env: Env) -> None:
    """Through the tenant's real channels: the webhook's 2xx is delivery, the SMTP server's
    acceptance is "sent", and a method without a channel fails with the reason."""
    im = env.as_user("im")
    by_webhook = (await env.post(im, **valid(env, delivery_method="webhook", title="hooked"))).json()
    by_email = (
        await env.post(
            im,
            **valid(
                env, delivery_method="email", recipient_user_id=str(env.world.users["cc1"]), title="mailed"
            ),
        )
    ).json()
    by_sms = (await env.post(im, **valid(env, delivery_method="sms"))).json()
    by_slack = (await env.post(im, **valid(env, delivery_method="slack"))).json()

    await _status_becomes(env, by_webhook["communication_id"], "delivered")
    sent = await _status_becomes(env, by_email["communication_id"], "sent")
    assert sent["status_changed_at"] and sent["delivery_error"] is None
    sms = await _status_becomes(env, by_sms["communication_id"], "failed")
    assert "sms" in sms["delivery_error"]
    slack = await _status_becomes(env, by_slack["communication_id"], "failed")
    assert "slack" in slack["delivery_error"]

    # What arrived: a signed webhook carrying the communication, and a mail to the recipient.
    hooks = [r.json() for r in env.webhook.verified(WEBHOOK_SECRET)]
    assert [
        h["data"]["message"]
        for h in hooks
        if h["data"].get("communication_id") == by_webhook["communication_id"]
    ]
    mailed = [
        (envelope, m)
        for envelope, m in zip(env.smtp.recipients, env.smtp.messages, strict=True)
        if "mailed" in m["Subject"]
    ]
    # To the recipient alone, by the header and by the envelope (RCPT TO) both.
    assert mailed and all(
        envelope == ["cc1@example.com"] and m["To"] == "cc1@example.com" for envelope, m in mailed
    )

    changes = {
        (c["communication_id"], c["from_status"], c["to_status"])
        for c in (e.data for e in await env.events("communication.status_changed.v1"))
    }
    for communication, moved_to in (
        (by_webhook, "delivered"),
        (by_email, "sent"),
        (by_sms, "failed"),
        (by_slack, "failed"),
    ):
        assert (communication["communication_id"], "pending", moved_to) in changes


async def _outcome(
    env: Env, communication_id: str, *, channel: ChannelKind, delivery_id: UUID, tenant_id: UUID | None = None
) -> None:
    """An outcome as the router would report it (for orders the real router never produces)."""
    common: dict[str, Any] = {
        # Delivery events are keyed by delivery id: one id keeps two outcomes in order.
        "delivery_id": delivery_id,
        "channel_id": uuid4(),
        "channel_kind": channel,
        "source_event_id": uuid4(),
        "source_event_type": "communication.recorded.v1",
        "incident_id": env.world.incidents["a1"],
        "communication_id": UUID(communication_id),
        "attempts": 1,
    }
    await env.publish(
        NotificationSent(**common, sent_at=datetime.now(UTC)),
        tenant_id or env.world.tenant_a,
        "notifications",
    )


async def _failed_one(env: Env) -> str:
    """A communication the real router failed (no sms channel): a settled starting point."""
    communication_id: str = (await env.post(env.as_user("ts"), **valid(env, delivery_method="sms"))).json()[
        "communication_id"
    ]
    await _status_becomes(env, communication_id, "failed")
    return communication_id


async def test_status_only_moves_forward(env: Env) -> None:
    delivered = (await env.post(env.as_user("im"), **valid(env, delivery_method="webhook"))).json()[
        "communication_id"
    ]
    await _status_becomes(env, delivered, "delivered")
    failed = await _failed_one(env)
    key = uuid4()
    # A late failure report for the delivered one, then a success for the failed one, in order.
    late = NotificationFailed(
        delivery_id=key,
        channel_id=uuid4(),
        channel_kind=ChannelKind.EMAIL,
        source_event_id=uuid4(),
        source_event_type="communication.recorded.v1",
        communication_id=UUID(delivered),
        attempts=5,
        failed_at=datetime.now(UTC),
        error="late",
    )
    await env.publish(late, env.world.tenant_a, "notifications")
    await _outcome(env, failed, channel=ChannelKind.WEBHOOK, delivery_id=key)
    # Another channel's success lifts the failure...
    lifted = await _status_becomes(env, failed, "delivered")
    assert lifted["delivery_error"] is None
    # ...but the late failure, handled before it, did not undo the delivery.
    still = (await env.client.get(f"/v1/communications/{delivered}", headers=env.as_user("im"))).json()
    assert still["delivery_status"] == "delivered" and still["delivery_error"] is None
    assert (failed, "failed", "delivered") in {
        (c.data["communication_id"], c.data["from_status"], c.data["to_status"])
        for c in await env.events("communication.status_changed.v1")
    }


async def test_outcomes_claimed_by_another_tenant_change_nothing(env: Env) -> None:
    target, marker = await _failed_one(env), await _failed_one(env)
    key = uuid4()
    await _outcome(env, target, channel=ChannelKind.WEBHOOK, delivery_id=key, tenant_id=env.world.tenant_b)
    # The marker's outcome follows on the same key: once it is handled, so was the other.
    await _outcome(env, marker, channel=ChannelKind.WEBHOOK, delivery_id=key)
    await _status_becomes(env, marker, "delivered")
    body = (await env.client.get(f"/v1/communications/{target}", headers=env.as_user("im"))).json()
    assert body["delivery_status"] == "failed"


async def test_incident_headline_stays_fresh(env: Env) -> None:
    """Later incident events update the replica (here: resolved)."""
    w = env.world
    event = IncidentStatusChanged(
        incident_id=w.incidents["a2"],
        reference_code="INC-X",
        title="renamed",
        severity=Severity.P1,
        status="resolved",
        client_id=w.client_2,
        from_status="open",
        to_status="resolved",
    )
    await env.publish(event, w.tenant_a, "triage")

    async def fresh() -> bool:
        async with env.db.sessions() as s:
            row = (await s.execute(select(incidents).where(incidents.c.id == w.incidents["a2"]))).first()
        return row is not None and (row.status, row.title, row.severity) == ("resolved", "renamed", "P1")

    await eventually(fresh, what="the replica to take the new headline")
