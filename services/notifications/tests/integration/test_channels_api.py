"""Channels, rules, templates, preferences and test-sends over the real database and broker:
secrets are stored encrypted and never shown or announced in clear, bad input answers
problem+json, other tenants' ids answer 404, and a test-send reaches a real receiver."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import insert, select

from backbone.db import Database
from backbone.testing import Stack, eventually, publish, serving
from contracts.enums import Role
from contracts.events import UserRegistered
from notifications.adapters.orm import channels, clients, outbox
from notifications.main import create
from notifications.testing import HttpReceiver, local_settings

pytestmark = pytest.mark.integration

SECRET = "whsec-" + uuid.uuid4().hex


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    settings = local_settings(stack)
    async with serving(create(settings)) as client:
        yield client


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[Database]:
    database = Database.connect(stack.database_url, "notifications", pool_size=1)
    yield database
    await database.dispose()


def admin(stack: Stack, tenant: uuid.UUID) -> dict[str, str]:
    return stack.auth(tenant_id=tenant, role="system_administrator")


async def announced(db: Database, event_type: str, tenant: uuid.UUID) -> list[dict[str, Any]]:
    """The payloads of the tenant's events of this type in the outbox, oldest first."""
    async with db.sessions() as s:
        query = select(outbox.c.value).where(outbox.c.event_type == event_type).order_by(outbox.c.id)
        values = (await s.scalars(query)).all()
    return [e["data"] for e in map(json.loads, values) if e["tenantid"] == str(tenant)]


async def test_webhook_channel_keeps_its_secret_encrypted_and_test_send_signs(
    api: httpx.AsyncClient, stack: Stack, db: Database
) -> None:
    tenant = uuid.uuid4()
    auth = admin(stack, tenant)
    async with HttpReceiver().running() as receiver:
        created = await api.post(
            "/v1/channels",
            json={
                "kind": "webhook",
                "name": "ops hook",
                "config": {"url": receiver.url + "/hook", "secret": SECRET},
            },
            headers=auth,
        )
        assert created.status_code == 201, created.text
        channel = created.json()
        assert channel["config"] == {"url": receiver.url + "/hook", "secret": "***"}

        # At rest: the secret is in neither the config nor readable in the sealed column.
        async with db.sessions() as s:
            row = (await s.execute(select(channels).where(channels.c.id == uuid.UUID(channel["id"])))).one()
            announced = (await s.scalars(select(outbox.c.value).where(outbox.c.key == channel["id"]))).all()
        assert SECRET not in json.dumps(row.config) and SECRET not in (row.secrets_encrypted or "")
        assert announced and all(SECRET.encode() not in v for v in announced)
        assert json.loads(announced[0])["data"]["config"]["secret"] == "***"

        # Reads show "***"; sending "***" back keeps the secret.
        renamed = await api.patch(
            f"/v1/channels/{channel['id']}",
            json={"name": "ops hook 2", "config": {"url": receiver.url + "/hook", "secret": "***"}},
            headers=auth,
        )
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["config"]["secret"] == "***"

        sent = await api.post(f"/v1/channels/{channel['id']}/test", headers=auth)
        assert sent.status_code == 200, sent.text
        assert sent.json()["status"] == "sent" and sent.json()["attempts"] == 1
        assert len(receiver.verified(SECRET)) == 1
        body = receiver.requests[0].json()
        assert body["type"] == "notification.test" and body["data"]["channel_id"] == channel["id"]
        assert receiver.requests[0].headers["X-Delivery-Id"] == sent.json()["id"]

        listed = await api.get("/v1/deliveries", params={"channel_id": channel["id"]}, headers=auth)
        assert [d["id"] for d in listed.json()] == [sent.json()["id"]]


async def test_secret_references_and_validation(api: httpx.AsyncClient, stack: Stack) -> None:
    tenant = uuid.uuid4()
    auth = admin(stack, tenant)
    var = f"NOTIFY_{tenant.hex.upper()}_HOOK_SECRET"  # the tenant's own names (docs/notifications.md)
    os.environ[var] = SECRET
    async with HttpReceiver().running() as receiver:
        ref = await api.post(
            "/v1/channels",
            json={
                "kind": "webhook",
                "name": "by ref",
                "config": {"url": receiver.url, "secret": {"secret_ref": f"env:{var}"}},
            },
            headers=auth,
        )
        assert ref.status_code == 201, ref.text
        assert ref.json()["config"]["secret"] == {"secret_ref": f"env:{var}"}
        sent = await api.post(f"/v1/channels/{ref.json()['id']}/test", headers=auth)
        assert sent.json()["status"] == "sent"
        assert len(receiver.verified(SECRET)) == 1

    bad: list[tuple[dict[str, Any], str]] = [
        ({"kind": "webhook", "name": "x", "config": {"url": "ftp://x", "secret": "s"}}, "config.url"),
        ({"kind": "email", "name": "x", "config": {"host": "smtp"}}, "config.from_address"),
        ({"kind": "slack", "name": "x", "config": {"bot_token": "xoxb-1"}}, "config"),
        ({"kind": "sms", "name": "x", "config": {}}, "kind"),
        (
            {"kind": "webhook", "name": "x", "config": {"url": "http://x", "secret": "s", "typo": 1}},
            "config.typo",
        ),
    ]
    for body, where in bad:
        refused = await api.post("/v1/channels", json=body, headers=auth)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert where in refused.text, refused.text

    duplicate = await api.post(
        "/v1/channels",
        json={"kind": "webhook", "name": "by ref", "config": {"url": "http://x", "secret": "s"}},
        headers=auth,
    )
    assert duplicate.status_code == 409


async def test_access_rules_and_templates(api: httpx.AsyncClient, stack: Stack, db: Database) -> None:
    tenant, other = uuid.uuid4(), uuid.uuid4()
    auth = admin(stack, tenant)
    hook = await api.post(
        "/v1/channels",
        json={"kind": "webhook", "name": "hook", "config": {"url": "http://127.0.0.1:9/x", "secret": "s"}},
        headers=auth,
    )
    channel_id = hook.json()["id"]

    # Roles without notifications.manage are refused; other tenants see nothing.
    for role in ("technical_support", "client_contact", "vendor_contact", "executive"):
        refused = await api.get("/v1/channels", headers=stack.auth(tenant_id=tenant, role=role))
        assert refused.status_code == 403, role
    for role in ("incident_manager", "account_manager"):
        assert (
            await api.get("/v1/channels", headers=stack.auth(tenant_id=tenant, role=role))
        ).status_code == 200
    assert (await api.get(f"/v1/channels/{channel_id}", headers=admin(stack, other))).status_code == 404
    assert (await api.post(f"/v1/channels/{channel_id}/test", headers=admin(stack, other))).status_code == 404
    assert (await api.get("/v1/channels", headers=admin(stack, other))).json() == []

    rule = {
        "name": "P1 to ops",
        "event_types": ["incident.created.v1", "sla.breached.v1"],
        "min_severity": "P2",
        "channel_ids": [channel_id],
        "roles": ["incident_manager"],
        "event_targets": True,
    }
    created = await api.post("/v1/rules", json=rule, headers=auth)
    assert created.status_code == 201, created.text
    assert created.json()["min_severity"] == "P2" and created.json()["roles"] == ["incident_manager"]
    # Another tenant's channel is unknown here.
    foreign = await api.post("/v1/rules", json=rule, headers=admin(stack, other))
    assert foreign.status_code == 422 and "channel_ids" in foreign.text
    for wrong, where in (
        ({**rule, "event_types": ["incident.nonsense.v1"]}, "event_types"),
        ({**rule, "min_severity": "P9"}, "min_severity"),
        ({**rule, "roles": ["wizard"]}, "roles"),
        ({**rule, "channel_ids": []}, "channel_ids"),
    ):
        refused = await api.post("/v1/rules", json=wrong, headers=auth)
        assert refused.status_code == 422 and where in refused.text, refused.text
    changed = await api.patch(
        f"/v1/rules/{created.json()['id']}", json={"min_severity": None, "enabled": False}, headers=auth
    )
    assert changed.status_code == 200 and changed.json()["min_severity"] is None
    assert changed.json()["enabled"] is False
    assert (
        await api.get(f"/v1/rules/{created.json()['id']}", headers=admin(stack, other))
    ).status_code == 404

    # Templates: checked on sample data before they are stored.
    broken = await api.put("/v1/templates/incident.created.v1/email", json={"body": "{% if %}"}, headers=auth)
    assert broken.status_code == 422
    unknown = await api.put("/v1/templates/incident.nonsense.v1/email", json={"body": "x"}, headers=auth)
    assert unknown.status_code == 422
    saved = await api.put(
        "/v1/templates/incident.created.v1/email",
        json={"subject": "ALERT {{ reference_code }}", "body": "{{ title }} is {{ severity }}"},
        headers=auth,
    )
    assert saved.status_code == 200, saved.text
    assert [t["event_type"] for t in (await api.get("/v1/templates", headers=auth)).json()] == [
        "incident.created.v1"
    ]
    assert (await api.get("/v1/templates", headers=admin(stack, other))).json() == []
    assert (
        await api.delete("/v1/templates/incident.created.v1/email", headers=admin(stack, other))
    ).status_code == 404
    assert (await api.delete("/v1/templates/incident.created.v1/email", headers=auth)).status_code == 204

    # Every change of a template is an event (the audit trail has them), the refused ones none.
    changes = await announced(db, "notification_template.changed.v1", tenant)
    assert [(c["template_event_type"], c["removed"]) for c in changes] == [
        ("incident.created.v1", False),
        ("incident.created.v1", True),
    ]
    assert changes[0]["subject_template"] == "ALERT {{ reference_code }}"


async def test_test_send_to_an_unreachable_webhook_is_retried_then_fails(
    stack: Stack,
) -> None:
    settings = local_settings(
        stack,
        delivery_poll_s=0.05,
        max_attempts=2,
        retry_initial_s=0.05,
        retry_jitter_s=0.01,
        send_timeout_s=2,
    )
    tenant = uuid.uuid4()
    auth = admin(stack, tenant)
    async with (
        serving(create(settings)) as api,
        HttpReceiver(behaviour=lambda r: (503, "busy")).running() as rx,
    ):
        hook = await api.post(
            "/v1/channels",
            json={"kind": "webhook", "name": "busy", "config": {"url": rx.url, "secret": "s"}},
            headers=auth,
        )
        result = await api.post(f"/v1/channels/{hook.json()['id']}/test", params={"wait": 15}, headers=auth)
        assert result.status_code == 200, result.text
        assert result.json()["status"] == "failed" and result.json()["attempts"] == 2
        assert result.json()["last_error"].startswith("HTTP 503")
        assert len(rx.requests) == 2


async def test_a_user_s_preferences_are_kept_and_announced(
    api: httpx.AsyncClient, stack: Stack, db: Database
) -> None:
    tenant, user_id = uuid.uuid4(), uuid.uuid4()
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers)
    await producer.start()
    try:
        await publish(
            producer,
            stack.topic_prefix,
            UserRegistered(
                user_id=user_id, tenant_id=tenant, role=Role.TECHNICAL_SUPPORT, email="tess@ops.example"
            ),
            tenant_id=tenant,
        )
    finally:
        await producer.stop()
    url = f"/v1/users/{user_id}/notification-preferences"

    async def known() -> bool:
        return (await api.get(url, headers=admin(stack, tenant))).status_code == 200

    await eventually(known, what="notifications to replicate the user")
    wanted = {"muted_kinds": ["email"], "min_severity": "P2", "slack_handle": "U024BE7LH"}
    saved = await api.put(url, json=wanted, headers=admin(stack, tenant))
    assert saved.status_code == 200, saved.text
    assert {k: saved.json()[k] for k in wanted} == wanted
    assert (await api.put(url, json=wanted, headers=admin(stack, uuid.uuid4()))).status_code == 404
    bad = await api.put(url, json={"muted_kinds": ["pager"]}, headers=admin(stack, tenant))
    assert bad.status_code == 422
    changes = await announced(db, "notification_preferences.changed.v1", tenant)
    assert changes == [
        {
            "user_id": str(user_id),
            "muted_kinds": ["email"],
            "muted_event_types": [],
            "min_severity": "P2",
            "slack_handle": "U024BE7LH",
        }
    ]


async def test_client_ids_must_be_the_tenant_s_and_idempotency_keys_are_per_user(
    api: httpx.AsyncClient, stack: Stack, db: Database
) -> None:
    tenant, other = uuid.uuid4(), uuid.uuid4()
    own_client, foreign_client = uuid.uuid4(), uuid.uuid4()
    async with db.sessions() as s, s.begin():  # as directory's client.onboarded.v1 leaves them
        await s.execute(
            insert(clients).values(
                [
                    {"id": own_client, "tenant_id": tenant, "name": "Ours"},
                    {"id": foreign_client, "tenant_id": other, "name": "Theirs"},
                ]
            )
        )
    auth = admin(stack, tenant)
    hook = {"kind": "webhook", "config": {"url": "http://127.0.0.1:9/x", "secret": "s"}}
    foreign = await api.post(
        "/v1/channels", json={**hook, "name": "theirs", "client_id": str(foreign_client)}, headers=auth
    )
    assert foreign.status_code == 422 and foreign.json()["field"] == "client_id", foreign.text
    mine = await api.post(
        "/v1/channels", json={**hook, "name": "ours", "client_id": str(own_client)}, headers=auth
    )
    assert mine.status_code == 201, mine.text
    moved = await api.patch(
        f"/v1/channels/{mine.json()['id']}", json={"client_id": str(foreign_client)}, headers=auth
    )
    assert moved.status_code == 422, moved.text
    rule = {"event_types": ["*"], "channel_ids": [mine.json()["id"]], "client_id": str(foreign_client)}
    assert (await api.post("/v1/rules", json=rule, headers=auth)).status_code == 422

    # Two users of one tenant sending the same Idempotency-Key each get their own channel.
    key = {"Idempotency-Key": "create-ops-hook"}
    first = await api.post(
        "/v1/channels",
        json={**hook, "name": "same"},
        headers=stack.auth(tenant_id=tenant, role="system_administrator", user_id=uuid.uuid4()) | key,
    )
    second = await api.post(
        "/v1/channels",
        json={**hook, "name": "same"},
        headers=stack.auth(tenant_id=tenant, role="incident_manager", user_id=uuid.uuid4()) | key,
    )
    assert first.status_code == 201, first.text
    assert second.status_code == 409, second.text  # its own request ran: the name is taken
    assert "Idempotent-Replayed" not in second.headers
