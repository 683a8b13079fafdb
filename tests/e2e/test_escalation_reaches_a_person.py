"""An automatic escalation reaches a person: triage's escalation policy pages level 2 when
level 1 lets its delay pass (a ManualClock moves triage's timer), notifications routes the
incident.escalated.v1 to the escalation's target (rule with event_targets), and the mail
arrives at a real SMTP server addressed (envelope and header) to that person alone, with a
signed webhook beside it. Triage and notifications in-process, over the real broker and database."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from backbone.testing import Stack, created, eventually, publish, report_incident, serving
from backbone.timers import ManualClock
from contracts.enums import Role
from contracts.events import UserRegistered
from notifications.config import Settings as NotificationsSettings
from notifications.domain import signing
from notifications.main import create as create_notifications
from notifications.testing import HttpReceiver, SmtpSink
from triage.config import Settings as TriageSettings
from triage.main import create as create_triage

pytestmark = pytest.mark.integration

HOOK_SECRET = "whsec-" + uuid.uuid4().hex


async def test_an_automatic_escalation_reaches_the_next_level_by_mail_and_webhook(
    stack: Stack, notifications_settings: NotificationsSettings
) -> None:
    tenant, responder, manager = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    responder_email = f"tess-{uuid.uuid4().hex[:6]}@ops.example"
    manager_email = f"ines-{uuid.uuid4().hex[:6]}@ops.example"
    admin = stack.auth(tenant_id=tenant, role="incident_manager", user_id=manager)
    clock = ManualClock()
    triage_app = create_triage(stack.settings(TriageSettings, escalation_poll_interval_s=0.2), clock=clock)
    notifications_app = create_notifications(notifications_settings)
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers, enable_idempotence=True)
    await producer.start()
    try:
        async with (
            serving(triage_app) as triage,
            serving(notifications_app) as notifications,
            HttpReceiver().running() as hook,
        ):
            with SmtpSink().running() as smtp:
                for user_id, role, name, address in (
                    (responder, Role.TECHNICAL_SUPPORT, "Tess Tech", responder_email),
                    (manager, Role.INCIDENT_MANAGER, "Ines Manager", manager_email),
                ):
                    await publish(
                        producer,
                        stack.topic_prefix,
                        UserRegistered(
                            user_id=user_id, tenant_id=tenant, role=role, name=name, email=address
                        ),
                        tenant_id=tenant,
                        source="directory",
                    )

                async def people_known() -> bool:
                    for user_id in (responder, manager):
                        answer = await notifications.get(
                            f"/v1/users/{user_id}/notification-preferences", headers=admin
                        )
                        if answer.status_code != 200:
                            return False
                    return True

                await eventually(people_known, what="notifications to replicate the users")
                channels = []
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
                    ("webhook", {"url": hook.url + "/escalations", "secret": HOOK_SECRET}),
                ):
                    channel = {"kind": kind, "name": kind, "config": config}
                    channels.append((await created(notifications, "/v1/channels", channel, admin))["id"])
                # Only the people the escalation names: no user or role of its own.
                rule = {"name": "pages", "event_types": ["incident.escalated.v1"], "channel_ids": channels}
                await created(notifications, "/v1/rules", {**rule, "event_targets": True}, admin)
                levels = [
                    {"user_ids": [str(responder)], "delay_minutes": 5},
                    {"user_ids": [str(manager)], "delay_minutes": 10},
                ]
                policy = {"name": "responder then manager", "levels": levels, "loops": 1}
                await created(triage, "/v1/escalation-policies", policy, admin)

                incident_id = await report_incident(
                    producer, stack.topic_prefix, tenant, "Payments API is down"
                )

                async def mails(n: int) -> bool:
                    return len(smtp.messages) >= n

                # Level 1 is paged when the incident opens: the responder, and only them.
                await eventually(lambda: mails(1), what="level 1's page by mail")
                assert smtp.recipients == [[responder_email]]
                assert smtp.messages[0]["To"] == responder_email

                # Nobody acknowledges; level 1's five minutes pass: level 2, the manager, is paged.
                clock.advance(minutes=5)
                await eventually(lambda: mails(2), what="level 2's page by mail")
                assert smtp.recipients[1] == [manager_email]
                page = smtp.messages[1]
                assert page["To"] == manager_email
                assert "Payments API is down" in page["Subject"] + page.get_content()

                # The webhook: both pages, signed, the second naming the manager as its target.
                async def hooks() -> list[dict[str, Any]] | None:
                    found = [r.json() for r in hook.verified(HOOK_SECRET)]
                    return found if len(found) >= 2 else None

                delivered = await eventually(hooks, what="both pages by webhook")
                assert all(h["type"] == "incident.escalated.v1" for h in delivered)
                second = next(h["data"] for h in delivered if h["data"]["level"] == 2)
                assert second["incident_id"] == str(incident_id) and second["trigger"] == "automatic"
                assert second["target_user_ids"] == [str(manager)]
                assert all(
                    r.headers[signing.EVENT_TYPE_HEADER] == "incident.escalated.v1" for r in hook.requests
                )
                # Nothing more: no copy to anyone else, nothing twice.
                assert len(smtp.messages) == 2 and len(hook.unique_deliveries()) == 2
    finally:
        await producer.stop()
