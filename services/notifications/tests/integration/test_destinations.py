"""Where a tenant's channels may reach, over the real database and broker (docs/notifications.md,
"Destinations" and "Secrets"): internal addresses are refused when written literally (at save)
and when a name resolves to them (at connect, before any packet leaves); an operator opens
ranges with NOTIFICATIONS_EGRESS_ALLOW; nothing a receiver answers is shown back; a channel reads
only the environment variables its tenant may reference."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import insert

from backbone.db import Database
from backbone.testing import Stack, free_port, serving
from notifications.adapters.orm import channels
from notifications.config import Settings
from notifications.main import create
from notifications.testing import HttpReceiver, SmtpSink

pytestmark = pytest.mark.integration

LOCAL = "127.0.0.1/32,::1/128"


def app_settings(stack: Stack, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "secret_key": Fernet.generate_key().decode(),
        "delivery_poll_s": 0.05,
        "max_attempts": 1,
        "send_timeout_s": 3,
    }
    return stack.settings(Settings, **(values | overrides))


@pytest.fixture
async def closed(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """The service with the default policy: no range opened."""
    async with serving(create(app_settings(stack))) as client:
        yield client


async def channel(api: httpx.AsyncClient, auth: dict[str, str], kind: str, config: dict[str, Any]) -> str:
    created = await api.post(
        "/v1/channels", json={"kind": kind, "name": uuid.uuid4().hex, "config": config}, headers=auth
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def test_send(api: httpx.AsyncClient, auth: dict[str, str], channel_id: str) -> httpx.Response:
    sent = await api.post(
        f"/v1/channels/{channel_id}/test",
        json={"address": "x@ops.example"},
        params={"wait": 20},
        headers=auth,
    )
    assert sent.status_code == 200, sent.text
    return sent


test_send.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


@pytest.mark.parametrize(
    ("kind", "config", "field", "kind_of_address"),
    [
        ("webhook", {"url": "http://127.0.0.1:8080/x", "secret": "s"}, "config.url", "loopback"),
        (
            "webhook",
            {"url": "http://169.254.169.254/latest/meta-data/", "secret": "s"},
            "config.url",
            "link-local",
        ),
        ("webhook", {"url": "https://10.0.0.1/hook", "secret": "s"}, "config.url", "private"),
        ("webhook", {"url": "http://[::1]:8080/x", "secret": "s"}, "config.url", "loopback"),
        ("webhook", {"url": "http://[fd00::1]/x", "secret": "s"}, "config.url", "unique-local"),
        ("slack", {"webhook_url": "http://169.254.169.254/hook"}, "config.webhook_url", "link-local"),
        ("email", {"host": "10.0.0.1", "from_address": "a@b.example"}, "config.host", "private"),
    ],
)
async def test_an_internal_address_written_literally_is_refused_when_saved(
    closed: httpx.AsyncClient,
    stack: Stack,
    kind: str,
    config: dict[str, Any],
    field: str,
    kind_of_address: str,
) -> None:
    auth = stack.auth(tenant_id=uuid.uuid4(), role="system_administrator")
    refused = await closed.post(
        "/v1/channels", json={"kind": kind, "name": "x", "config": config}, headers=auth
    )
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["field"] == field
    assert f"refused destination: {kind_of_address} address" in problem["detail"]
    assert "NOTIFICATIONS_EGRESS_ALLOW" in problem["detail"]
    assert (await closed.get("/v1/channels", headers=auth)).json() == []


async def test_a_name_resolving_to_loopback_is_refused_at_connect_time(
    closed: httpx.AsyncClient, stack: Stack
) -> None:
    """`localhost` passes the save-time check (it is a name), but every connection is checked
    after resolution: nothing reaches the receivers, and the delivery says why."""
    assert {info[4][0] for info in socket.getaddrinfo("localhost", 80)} & {"127.0.0.1", "::1"}
    auth = stack.auth(tenant_id=uuid.uuid4(), role="system_administrator")
    async with HttpReceiver().running() as hook, HttpReceiver().running() as slack:
        with SmtpSink().running() as smtp:
            ids = [
                await channel(
                    closed, auth, "webhook", {"url": f"http://localhost:{hook.port}/hook", "secret": "s"}
                ),
                await channel(
                    closed, auth, "slack", {"webhook_url": f"http://localhost:{slack.port}/hooks/T/B/x"}
                ),
                await channel(
                    closed,
                    auth,
                    "email",
                    {
                        "host": "localhost",
                        "port": smtp.port,
                        "security": "none",
                        "from_address": "a@b.example",
                    },
                ),
            ]
            for channel_id in ids:
                outcome = (await test_send(closed, auth, channel_id)).json()
                assert outcome["status"] == "failed", outcome
                assert outcome["last_error"].startswith("refused destination: loopback address"), outcome
                assert outcome["attempts"] == 1  # permanent: retrying cannot help
        assert hook.requests == [] and slack.requests == [] and smtp.messages == []


async def test_an_opened_range_is_reachable_and_no_answer_is_shown_back(stack: Stack) -> None:
    """With the operator's NOTIFICATIONS_EGRESS_ALLOW the same names work; a receiver's answer
    (here a secret-looking body with a 500) is never stored or shown, only its status."""
    leak = "internal-secret-" + uuid.uuid4().hex
    auth = stack.auth(tenant_id=uuid.uuid4(), role="system_administrator")
    async with (
        serving(create(app_settings(stack, egress_allow=LOCAL))) as api,
        HttpReceiver().running() as good,
        HttpReceiver(behaviour=lambda r: (500, leak)).running() as bad,
        HttpReceiver(behaviour=lambda r: (403, {"error": leak})).running() as slack,
    ):
        ok = await channel(api, auth, "webhook", {"url": f"http://localhost:{good.port}/hook", "secret": "s"})
        assert (await test_send(api, auth, ok)).json()["status"] == "sent"
        assert len(good.requests) == 1

        failing = [
            await channel(api, auth, "webhook", {"url": f"{bad.url}/hook", "secret": "s"}),
            await channel(api, auth, "slack", {"webhook_url": f"{slack.url}/hooks/T/B/x"}),
        ]
        outcomes = [await test_send(api, auth, c) for c in failing]
        assert [o.json()["last_error"] for o in outcomes] == [
            "HTTP 500 Internal Server Error",
            "HTTP 403 Forbidden",
        ]
        listed = await api.get("/v1/deliveries", headers=auth)
        assert len(bad.requests) == 1 and len(slack.requests) == 1
        for text in [o.text for o in outcomes] + [listed.text]:
            assert leak not in text


async def test_a_channel_reads_only_the_variables_its_tenant_may_reference(stack: Stack) -> None:
    """The attack: a Slack bot token given as a reference to the service's own environment
    (env:DATABASE_URL holds the database login) is sent as a bearer token. Refused at save, and
    a channel saved before the rule existed cannot read it at send time either."""
    probe = "LEAK_PROBE_" + uuid.uuid4().hex.upper()
    os.environ[probe] = "postgresql://incident:db-password@db/incident"
    tenant = uuid.uuid4()
    auth = stack.auth(tenant_id=tenant, role="system_administrator")
    slack_port = free_port()
    settings = app_settings(stack, egress_allow=LOCAL, slack_api_url=f"http://127.0.0.1:{slack_port}/api/")
    db = Database.connect(stack.database_url, "notifications", pool_size=1)
    try:
        async with serving(create(settings)) as api, HttpReceiver(port=slack_port).running() as slack_api:
            for name in ("DATABASE_URL", probe, f"NOTIFY_{uuid.uuid4().hex.upper()}_TOKEN"):
                refused = await api.post(
                    "/v1/channels",
                    json={
                        "kind": "slack",
                        "name": "x",
                        "config": {"bot_token": {"secret_ref": f"env:{name}"}, "channel": "#ops"},
                    },
                    headers=auth,
                )
                assert refused.status_code == 422, refused.text
                assert refused.json()["field"] == "config.bot_token"
                assert "NOTIFICATIONS_SECRET_REF_ALLOW" in refused.json()["detail"]
            # Slack's API address is the operator's, not a tenant's.
            pointed = await api.post(
                "/v1/channels",
                json={
                    "kind": "slack",
                    "name": "x",
                    "config": {
                        "bot_token": "xoxb-1",
                        "channel": "#ops",
                        "api_url": "http://attacker.example/",
                    },
                },
                headers=auth,
            )
            assert pointed.status_code == 422 and "NOTIFICATIONS_SLACK_API_URL" in pointed.text

            # A row saved before the fix, as it was stored then.
            old_id = uuid.uuid4()
            async with db.sessions() as s, s.begin():
                await s.execute(
                    insert(channels).values(
                        id=old_id,
                        tenant_id=tenant,
                        kind="slack",
                        name="saved earlier",
                        config={"bot_token": {"secret_ref": f"env:{probe}"}, "channel": "#ops"},
                        enabled=True,
                    )
                )
            outcome = (await test_send(api, auth, str(old_id))).json()
            assert outcome["status"] == "failed" and "may not be referenced" in outcome["last_error"]
            assert slack_api.requests == []

            # The tenant's own names work, through the operator's Slack API address.
            own = f"NOTIFY_{tenant.hex.upper()}_SLACK_TOKEN"
            os.environ[own] = "xoxb-own-" + uuid.uuid4().hex
            mine = await channel(
                api, auth, "slack", {"bot_token": {"secret_ref": f"env:{own}"}, "channel": "#ops"}
            )
            assert (await test_send(api, auth, mine)).json()["status"] == "sent"
            assert [r.headers["Authorization"] for r in slack_api.requests] == [f"Bearer {os.environ[own]}"]
            assert slack_api.requests[0].path == "/api/chat.postMessage"
    finally:
        await db.dispose()
