"""A change's approval reaches whoever asked to be told: the changes service and notifications
in-process over the real broker and database; a tenant's rule on change_request.approved.v1
sends it to a signed webhook, and nothing the rule did not ask for (the request itself, another
change's rejection) arrives."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from cryptography.fernet import Fernet

from backbone.testing import Stack, eventually, serving
from changes.config import Settings as ChangesSettings
from changes.main import create as create_changes
from changes.testing import World
from contracts.enums import Role
from contracts.topics import Topic
from notifications.config import Settings as NotificationsSettings
from notifications.domain import signing
from notifications.main import create as create_notifications
from notifications.testing import HttpReceiver, webhook_rule

pytestmark = pytest.mark.integration

HOOK_SECRET = "whsec-" + uuid.uuid4().hex
LOCAL = "127.0.0.1/32"  # the receiver below, opened as an operator would (NOTIFICATIONS_EGRESS_ALLOW)


async def test_a_rule_on_change_approvals_delivers_them_to_a_webhook(stack: Stack) -> None:
    tenant, requester, approver = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    as_requester = stack.auth(tenant_id=tenant, role="technical_support", user_id=requester)
    as_approver = stack.auth(tenant_id=tenant, role="executive", user_id=approver)
    admin = stack.auth(tenant_id=tenant, role="incident_manager")
    notifications_settings = stack.settings(
        NotificationsSettings,
        secret_key=Fernet.generate_key().decode(),
        delivery_poll_s=0.1,
        egress_allow=LOCAL,
    )
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers, enable_idempotence=True)
    await producer.start()
    try:
        async with (
            serving(create_changes(stack.settings(ChangesSettings))) as changes,
            serving(create_notifications(notifications_settings)) as notifications,
            HttpReceiver().running() as hook,
        ):
            world = World(producer, stack.topic_prefix)
            await world.user(tenant, requester, Role.TECHNICAL_SUPPORT, name="Tess")
            await world.user(tenant, approver, Role.EXECUTIVE, name="Erin")

            await webhook_rule(
                notifications, admin, hook.url, HOOK_SECRET, ["change_request.approved.v1"], name="cab"
            )

            async def submitted(title: str) -> dict[str, Any] | None:
                # 403 until the changes service has replicated the requester from directory.events.
                answer = await changes.post(
                    "/v1/change-requests",
                    json={"title": title, "change_type": "normal", "risk_level": "high"},
                    headers=as_requester,
                )
                return answer.json() if answer.status_code == 201 else None

            change = await eventually(lambda: submitted("Upgrade the payments database"), what="a change")
            other = await eventually(lambda: submitted("Rotate every key at once"), what="another change")
            rejected = await changes.post(
                f"/v1/change-requests/{other['id']}/reject",
                json={"comment": "too broad"},
                headers=as_approver,
            )
            assert rejected.status_code == 200, rejected.text
            approved = await changes.post(
                f"/v1/change-requests/{change['id']}/approve", json={"comment": "CAB ok"}, headers=as_approver
            )
            assert approved.status_code == 200, approved.text

            async def delivered() -> list[dict[str, Any]] | None:
                found = [r.json() for r in hook.verified(HOOK_SECRET)]
                return found or None

            (envelope,) = await eventually(delivered, what="the approval at the webhook")
            assert envelope["type"] == "change_request.approved.v1"
            assert envelope["tenantid"] == str(tenant) and envelope["source"] == "changes"
            data = envelope["data"]
            assert data["id"] == change["id"] and data["status"] == "approved"
            assert data["approved_by_id"] == str(approver) and data["comment"] == "CAB ok"
            assert hook.requests[0].headers[signing.EVENT_TYPE_HEADER] == "change_request.approved.v1"

            # Once notifications has handled every change event, the approval is its only
            # delivery: neither the two requests nor the rejection matched the rule.
            await eventually(
                lambda: stack.caught_up(notifications_settings, Topic.CHANGE_EVENTS),
                what="notifications to handle every change event",
            )
            deliveries = (await notifications.get("/v1/deliveries", headers=admin)).json()
            assert [(d["event_type"], d["status"]) for d in deliveries] == [
                ("change_request.approved.v1", "sent")
            ]
            assert len(hook.unique_deliveries()) == 1
    finally:
        await producer.stop()
