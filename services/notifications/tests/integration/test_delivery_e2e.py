"""End to end over the real broker and database: an Alertmanager alert whose
integration makes it P1 → intake → triage opens a P1 incident → notifications routes
incident.created.v1 by the tenant's rule → an email arrives at a real SMTP server (aiosmtpd),
a Slack message (Block Kit) at a local Slack API, and a signed webhook whose signature the
test verifies. Each exactly once; the outcomes are announced as notification.sent.v1."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from cryptography.fernet import Fernet
from sqlalchemy import select

from backbone import testing
from backbone.db import Database
from backbone.testing import Stack, eventually, incident_for, new_tenant, serving, sign_in
from contracts.enums import CommunicationType, DeliveryMethod, RecipientType, ReminderChannel, Role
from contracts.envelope import Envelope, EventData
from contracts.events import CommunicationRecorded, ReminderDispatched, UserRegistered
from directory.config import Settings as DirectorySettings
from directory.main import create as create_directory
from intake.config import Settings as IntakeSettings
from intake.main import create as create_intake
from notifications.adapters.orm import recipients
from notifications.config import Settings as NotificationsSettings
from notifications.domain import signing
from notifications.main import create as create_notifications
from notifications.testing import HttpReceiver, SmtpSink, documented_receiver, outbox_json
from triage.config import Settings as TriageSettings
from triage.main import create as create_triage

pytestmark = pytest.mark.integration

HOOK_SECRET = "whsec-" + uuid.uuid4().hex
DOCS = Path(__file__).resolve().parents[4] / "docs"


LOCAL = "127.0.0.1/32"  # the receivers below: opened as an operator would (NOTIFICATIONS_EGRESS_ALLOW)


@pytest.fixture
def slack_port() -> int:
    """Where the Slack Web API stand-in listens (NOTIFICATIONS_SLACK_API_URL)."""
    return testing.free_port()


@pytest.fixture
async def platform(stack: Stack, slack_port: int) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    apps = {
        "directory": create_directory(stack.settings(DirectorySettings)),
        "intake": create_intake(stack.settings(IntakeSettings)),
        "triage": create_triage(stack.settings(TriageSettings)),
        "notifications": create_notifications(
            stack.settings(
                NotificationsSettings,
                secret_key=Fernet.generate_key().decode(),
                delivery_poll_s=0.1,
                incident_url="https://ops.example/incidents/{incident_id}",
                slack_api_url=f"http://127.0.0.1:{slack_port}/api/",
                egress_allow=LOCAL,
            )
        ),
    }
    async with (
        serving(apps["directory"]) as directory,
        serving(apps["intake"]) as intake,
        serving(apps["triage"]) as triage,
        serving(apps["notifications"]) as notifications,
    ):
        yield {"directory": directory, "intake": intake, "triage": triage, "notifications": notifications}


def alertmanager_webhook(fingerprint: str) -> dict[str, Any]:
    return {
        "version": "4",
        "status": "firing",
        "receiver": "incident-platform",
        "groupKey": '{}:{alertname="PaymentsDown"}',
        "groupLabels": {"alertname": "PaymentsDown"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "truncatedAlerts": 0,
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "PaymentsDown", "instance": "pay-1", "severity": "critical"},
                "annotations": {"summary": "Payments API is down"},
                "startsAt": "2026-11-23T10:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus/graph",
                "fingerprint": fingerprint,
            }
        ],
    }


def check_block_kit(blocks: list[dict[str, Any]], *, reference: str, client: str, link: str) -> None:
    """The message's Block Kit: a header naming the incident, text, the facts as fields
    (severity, client, status, SLA due), a button to the incident (beside a bot's Acknowledge
    and Resolve)."""
    assert isinstance(blocks, list) and 3 <= len(blocks) <= 50
    for block in blocks:
        assert block["type"] in {"header", "section", "actions", "context", "divider"}
    header = blocks[0]
    assert header["type"] == "header" and header["text"]["type"] == "plain_text"
    assert reference in header["text"]["text"] and len(header["text"]["text"]) <= 150
    fields = next(b for b in blocks if b["type"] == "section" and "fields" in b)["fields"]
    assert all(f["type"] == "mrkdwn" and len(f["text"]) <= 2000 for f in fields) and len(fields) <= 10
    texts = {f["text"].split("\n", 1)[0]: f["text"].split("\n", 1)[1] for f in fields}
    assert set(texts) == {"*Severity*", "*Client*", "*Status*", "*SLA due*"}
    assert texts["*Severity*"].endswith("P1") and texts["*Client*"] == client and texts["*Status*"] == "open"
    buttons = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert all(b["type"] == "button" for b in buttons)
    assert [b["url"] for b in buttons if "url" in b] == [link]


async def new_client(
    directory: httpx.AsyncClient, admin: dict[str, str], name: str, prefix: str, domain: str
) -> str:
    """An enterprise client registered in directory; its id."""
    client = await directory.post(
        "/v1/clients",
        json={
            "client_name": name,
            "registration_number": f"{prefix}-" + uuid.uuid4().hex[:6],
            "contact_email": f"noc-{uuid.uuid4().hex[:6]}@{domain}",
            "client_type": "enterprise",
        },
        headers=admin,
    )
    assert client.status_code == 201, client.text
    return str(client.json()["id"])


async def test_p1_incident_reaches_email_slack_and_signed_webhook(
    platform: dict[str, httpx.AsyncClient], operator_key: str, stack: Stack, slack_port: int
) -> None:
    started = time.time()
    directory, intake, triage, notifications = (
        platform[k] for k in ("directory", "intake", "triage", "notifications")
    )
    tenant = await new_tenant(directory, operator_key)
    admin = await sign_in(directory, tenant.api_key)
    client_id = await new_client(directory, admin, "Acme Payments", "ACME", "acme.example")
    manager_email = f"im-{uuid.uuid4().hex[:6]}@ops.example"
    manager = await directory.post(
        "/v1/users",
        json={"name": "Ines Manager", "email": manager_email, "role": "incident_manager"},
        headers=admin,
    )
    assert manager.status_code == 201, manager.text
    # Another client's contact must never hear about Acme's incident.
    other_id = await new_client(directory, admin, "Other Co", "OTH", "other.example")
    outsider = await directory.post(
        "/v1/users",
        json={
            "name": "Otto Outsider",
            "email": f"oo-{uuid.uuid4().hex[:6]}@other.example",
            "role": "client_contact",
            "client_id": other_id,
        },
        headers=admin,
    )
    assert outsider.status_code == 201, outsider.text
    integration = await directory.post(
        "/v1/integrations",
        json={
            "kind": "alertmanager",
            "name": "prometheus",
            "client_id": client_id,
            # severity=critical alerts concern payments: regulatory/financial impact → P1.
            "impact_rules": [
                {
                    "label": "severity",
                    "values": ["critical"],
                    "fact": "regulatory_safety_financial",
                    "to": True,
                }
            ],
        },
        headers=admin,
    )
    assert integration.status_code == 201, integration.text

    async with HttpReceiver(port=slack_port).running() as slack, HttpReceiver().running() as hook:
        with SmtpSink().running() as smtp:
            channels = {}
            for kind, config in (
                (
                    "email",
                    {
                        "host": "127.0.0.1",
                        "port": smtp.port,
                        "security": "none",
                        "from_address": "incidents@platform.example",
                    },
                ),
                (
                    "slack",
                    {"bot_token": "xoxb-test-token", "channel": "#incidents"},
                ),
                ("webhook", {"url": hook.url + "/events", "secret": HOOK_SECRET}),
            ):
                created = await notifications.post(
                    "/v1/channels",
                    json={"kind": kind, "name": f"{kind} channel", "config": config},
                    headers=admin,
                )
                assert created.status_code == 201, created.text
                channels[kind] = created.json()["id"]
            rule = await notifications.post(
                "/v1/rules",
                json={
                    "name": "P1 everywhere",
                    "event_types": ["incident.created.v1"],
                    "min_severity": "P1",
                    "channel_ids": list(channels.values()),
                    "roles": ["incident_manager", "client_contact"],
                },
                headers=admin,
            )
            assert rule.status_code == 201, rule.text

            async def recipients_known() -> bool:
                # notifications learns users from directory.events; wait until the manager is known.
                answer = await notifications.get(
                    f"/v1/users/{manager.json()['id']}/notification-preferences", headers=admin
                )
                return answer.status_code == 200

            await eventually(recipients_known, what="notifications to replicate the users")

            auth = {"Authorization": f"Bearer {integration.json()['token']}"}

            async def post_alert() -> httpx.Response | None:
                answer = await intake.post(
                    "/v1/alerts/alertmanager", json=alertmanager_webhook("fp-pay"), headers=auth
                )
                return answer if answer.status_code == 202 else None

            accepted = await eventually(post_alert, what="intake to accept the alert")
            key = accepted.json()["alerts"][0]["dedup_key"]  # the incident follows the answer
            incident = await eventually(
                lambda: incident_for(triage, admin, key), what="triage to open the incident"
            )
            incident_id = incident["id"]
            assert incident["severity"] == "P1", incident
            reference = incident["reference_code"]

            await eventually(lambda: _count(smtp.messages, 1), what="the email")
            await eventually(lambda: _count(slack.requests, 1), what="the Slack message")
            await eventually(lambda: _count(hook.requests, 1), what="the webhook")

            # Email: to the incident manager only, from the channel's address, about the incident.
            (mail,) = smtp.messages
            assert mail["To"] == manager_email and mail["From"] == "incidents@platform.example"
            # Where it really went (RCPT TO): the manager alone, not the other client's contact.
            assert smtp.recipients == [[manager_email]]
            assert mail["Subject"] == f"[P1] {reference} New incident: Payments API is down"
            text = mail.get_content()
            assert "Hello Ines Manager" in text and "Client:   Acme Payments" in text
            assert f"https://ops.example/incidents/{incident_id}" in text
            assert mail["Message-ID"].endswith("@notifications.incident-platform>")

            # Slack: chat.postMessage with the bot token, to the channel, in Block Kit.
            (post,) = slack.requests
            assert post.path == "/api/chat.postMessage"
            assert post.headers["Authorization"] == "Bearer xoxb-test-token"
            message = post.json()
            assert message["channel"] == "#incidents" and reference in message["text"]
            check_block_kit(
                message["blocks"],
                reference=reference,
                client="Acme Payments",
                link=f"https://ops.example/incidents/{incident_id}",
            )

            # Webhook: the event envelope, signed over "<timestamp>.<body>" with the channel's secret.
            (call,) = hook.requests
            timestamp = int(call.headers[signing.TIMESTAMP_HEADER])
            assert int(started) <= timestamp <= time.time()  # signed when sent, not before the test
            assert signing.verify(
                HOOK_SECRET, timestamp, call.body, call.headers[signing.SIGNATURE_HEADER], now=time.time()
            )
            assert not signing.verify(
                "wrong", timestamp, call.body, call.headers[signing.SIGNATURE_HEADER], now=time.time()
            )
            # The receiver docs/notifications.md gives users accepts it, and only with the secret.
            documented = documented_receiver(DOCS / "notifications.md")
            assert documented(HOOK_SECRET, call.headers, call.body)
            assert not documented("wrong", call.headers, call.body)
            assert not documented(HOOK_SECRET, call.headers, call.body + b" ")
            envelope = call.json()
            assert (
                envelope["type"] == "incident.created.v1" and envelope["data"]["incident_id"] == incident_id
            )
            assert envelope["tenantid"] == tenant.tenant_id and envelope["data"]["severity"] == "P1"
            assert call.headers["X-Event-Type"] == "incident.created.v1"

            # Every delivery is recorded as sent, and announced.
            deliveries = await eventually(
                lambda: _sent(notifications, admin, incident_id, 3), what="three sent deliveries"
            )
            assert {d["channel_id"] for d in deliveries} == set(channels.values())
            db = Database.connect(stack.database_url, "notifications", pool_size=1)
            try:
                sent_events = await outbox_json(db, "notification.sent.v1")
            finally:
                await db.dispose()
            mine = [e for e in sent_events if e["data"]["incident_id"] == incident_id]
            assert sorted(e["data"]["channel_kind"] for e in mine) == ["email", "slack", "webhook"]
            assert all(e["data"]["source_event_type"] == "incident.created.v1" for e in mine)

            # Nothing more arrives (no second copy from redelivery).
            assert len(smtp.messages) == 1 and len(slack.requests) == 1 and len(hook.requests) == 1


async def _count(items: list[Any], n: int) -> bool:
    return len(items) >= n


async def _sent(
    api: httpx.AsyncClient, auth: dict[str, str], incident_id: str, n: int
) -> list[dict[str, Any]] | None:
    answer = await api.get("/v1/deliveries", params={"incident_id": incident_id}, headers=auth)
    rows: list[dict[str, Any]] = answer.json()
    return rows if len(rows) == n and all(r["status"] == "sent" for r in rows) else None


async def test_communications_and_reminders_are_delivered_directly(stack: Stack) -> None:
    """communication.recorded.v1 and reminder.dispatched.v1 need no rule: they go to the named
    user through the tenant's channel of their method, and the outcome names the communication
    or reminder. Methods nothing can send (sms) fail at once, with a clear error."""
    settings = stack.settings(
        NotificationsSettings,
        secret_key=Fernet.generate_key().decode(),
        delivery_poll_s=0.05,
        egress_allow=LOCAL,
    )
    tenant = uuid.uuid4()
    auth = stack.auth(tenant_id=tenant, role="incident_manager")
    user_id, incident_id = uuid.uuid4(), uuid.uuid4()
    address = f"tess-{uuid.uuid4().hex[:6]}@ops.example"
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers)
    await producer.start()

    async def publish(data: EventData, source: str) -> Envelope:
        return await testing.publish(producer, stack.topic_prefix, data, tenant_id=tenant, source=source)

    db = Database.connect(stack.database_url, "notifications", pool_size=1)
    try:
        async with serving(create_notifications(settings)) as api, HttpReceiver().running() as slack:
            with SmtpSink().running() as smtp:
                for kind, config in (
                    (
                        "email",
                        {"host": "127.0.0.1", "port": smtp.port, "security": "none", "from_address": "x@y.z"},
                    ),
                    ("slack", {"webhook_url": slack.url + "/hooks/T1/B1/abc"}),
                ):
                    created = await api.post(
                        "/v1/channels", json={"kind": kind, "name": kind, "config": config}, headers=auth
                    )
                    assert created.status_code == 201, created.text
                await api.put(
                    f"/v1/templates/{CommunicationRecorded.event_type}/email",
                    json={
                        "subject": "Update: {{ message_title }}",
                        "body": "{{ message }} (to {{ recipient }})",
                    },
                    headers=auth,
                )
                await publish(
                    UserRegistered(
                        user_id=user_id,
                        tenant_id=tenant,
                        role=Role.TECHNICAL_SUPPORT,
                        name="Tess Tech",
                        email=address,
                    ),
                    "directory",
                )

                async def user_known() -> bool:
                    async with db.sessions() as s:
                        return bool(
                            await s.scalar(select(recipients.c.email).where(recipients.c.user_id == user_id))
                        )

                await eventually(user_known, what="the user replica")
                comm_id, sms_comm_id, reminder_id, sms_reminder_id = (uuid.uuid4() for _ in range(4))
                common = {
                    "incident_id": incident_id,
                    "sender_id": uuid.uuid4(),
                    "recipient_type": RecipientType.INTERNAL,
                    "communication_type": CommunicationType.STATUS_UPDATE,
                    "sent_at": datetime.now(UTC),
                }
                await publish(
                    CommunicationRecorded(
                        communication_id=comm_id,
                        recipient_user_id=user_id,
                        delivery_method=DeliveryMethod.EMAIL,
                        title="DB failover",
                        message="Failover done, watching.",
                        **common,
                    ),
                    "notifications",
                )
                await publish(
                    CommunicationRecorded(
                        communication_id=sms_comm_id,
                        recipient_user_id=user_id,
                        delivery_method=DeliveryMethod.SMS,
                        message="by text",
                        **common,
                    ),
                    "notifications",
                )
                for rid, channel in (
                    (reminder_id, ReminderChannel.SLACK),
                    (sms_reminder_id, ReminderChannel.SMS),
                ):
                    await publish(
                        ReminderDispatched(
                            reminder_id=rid,
                            incident_id=incident_id,
                            reminder_type="follow_up",
                            channel=channel,
                            outcome="sent" if channel is ReminderChannel.SLACK else "unsupported",
                            dispatched_at=datetime.now(UTC),
                            user_ids=[user_id],
                        ),
                        "notifications",
                    )

                async def outcomes() -> dict[str, dict[str, Any]] | None:
                    found = {}
                    for e in await outbox_json(db, "notification.sent.v1", "notification.failed.v1"):
                        key = e["data"]["communication_id"] or e["data"]["reminder_id"]
                        if key in {str(comm_id), str(sms_comm_id), str(reminder_id), str(sms_reminder_id)}:
                            found[key] = e
                    return found if len(found) == 4 else None

                found = await eventually(outcomes, what="the four outcomes")
                assert found[str(comm_id)]["type"] == "notification.sent.v1"
                assert found[str(comm_id)]["data"]["recipient_user_id"] == str(user_id)
                assert found[str(reminder_id)]["type"] == "notification.sent.v1"
                for failed in (sms_comm_id, sms_reminder_id):
                    event = found[str(failed)]
                    assert event["type"] == "notification.failed.v1"
                    assert "sms cannot be sent" in event["data"]["error"]
                (mail,) = smtp.messages
                assert mail["To"] == address and mail["Subject"] == "Update: DB failover"
                assert smtp.recipients == [[address]]  # the envelope, not only the header
                assert mail.get_content().strip() == "Failover done, watching. (to Tess Tech)"
                (post,) = slack.requests
                assert post.path == "/hooks/T1/B1/abc"
                assert "Reminder: follow_up" in post.json()["text"] and "@Tess Tech" in post.json()["text"]
    finally:
        await producer.stop()
        await db.dispose()
