"""Tenants' templates over the real broker and database: a template that raises or runs too long
is refused when saved (422, never a 500); one that fails only on real data fails its own
deliveries, with the reason, while other tenants' deliveries in the same batches go on."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from cryptography.fernet import Fernet

from backbone.testing import Stack, eventually, serving
from notifications.config import Settings
from notifications.main import create
from notifications.testing import HttpReceiver, publish_incidents

pytestmark = pytest.mark.integration

ENDLESS = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
ON_REAL_DATA = '{% if reference_code != "INC-000001" %}X{% endif %}'  # the sample's is INC-000001


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    settings = stack.settings(
        Settings,
        secret_key=Fernet.generate_key().decode(),
        delivery_poll_s=0.05,
        template_timeout_s=1,
        egress_allow="127.0.0.1/32",  # the Slack webhook stand-in
    )
    async with serving(create(settings)) as client:
        yield client


async def test_a_template_that_raises_or_runs_too_long_is_refused_when_saved(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    auth = stack.auth(tenant_id=uuid.uuid4(), role="system_administrator")
    for body, reason in (
        ("{{ 1/0 }}", "ZeroDivisionError"),
        ("{{ 'x' * 1000000000 }}", "longer than"),
        (ENDLESS, "took longer than 1s"),
        ("{% for i in range(100000) %}xxxxxxxxxx{% endfor %}", "output longer than"),
    ):
        refused = await api.put("/v1/templates/incident.created.v1/slack", json={"body": body}, headers=auth)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert reason in refused.json()["detail"], refused.text
    assert (await api.get("/v1/templates", headers=auth)).json() == []


async def publish_created(producer: AIOKafkaProducer, stack: Stack, tenant: uuid.UUID, n: int) -> None:
    await publish_incidents(producer, stack.topic_prefix, tenant, n, first=100)


async def test_a_template_failing_on_real_data_fails_only_its_own_deliveries(
    api: httpx.AsyncClient, stack: Stack
) -> None:
    tenants = {"raises": uuid.uuid4(), "endless": uuid.uuid4(), "fine": uuid.uuid4()}
    bodies = {
        "raises": ON_REAL_DATA.replace("X", "{{ 1/0 }}"),
        "endless": ON_REAL_DATA.replace("X", ENDLESS),
        "fine": "{{ reference_code }} is down",
    }
    async with HttpReceiver().running() as slack:
        for name, tenant in tenants.items():
            auth = stack.auth(tenant_id=tenant, role="system_administrator")
            saved = await api.put(
                "/v1/templates/incident.created.v1/slack", json={"body": bodies[name]}, headers=auth
            )
            assert saved.status_code == 200, saved.text  # it renders on the sample data
            channel = await api.post(
                "/v1/channels",
                json={"kind": "slack", "name": "s", "config": {"webhook_url": f"{slack.url}/hooks/{name}"}},
                headers=auth,
            )
            assert channel.status_code == 201, channel.text
            rule = await api.post(
                "/v1/rules",
                json={"event_types": ["incident.created.v1"], "channel_ids": [channel.json()["id"]]},
                headers=auth,
            )
            assert rule.status_code == 201, rule.text

        producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers)
        await producer.start()
        try:
            for tenant in tenants.values():
                await publish_created(producer, stack, tenant, 2)
        finally:
            await producer.stop()

        async def outcome(tenant: uuid.UUID) -> list[dict[str, Any]] | None:
            auth = stack.auth(tenant_id=tenant, role="system_administrator")
            rows: list[dict[str, Any]] = (await api.get("/v1/deliveries", headers=auth)).json()
            done = [r for r in rows if r["status"] in ("sent", "failed")]
            return done if len(done) == 2 else None

        fine = await eventually(lambda: outcome(tenants["fine"]), what="the other tenant's deliveries")
        raised = await eventually(lambda: outcome(tenants["raises"]), what="the raising template's outcome")
        endless = await eventually(lambda: outcome(tenants["endless"]), what="the endless template's outcome")
        assert [r["status"] for r in fine] == ["sent", "sent"]
        for rows, reason in ((raised, "ZeroDivisionError"), (endless, "took longer than 1s")):
            assert [r["status"] for r in rows] == ["failed", "failed"]
            assert all(r["last_error"].startswith("the tenant's slack template failed") for r in rows)
            assert all(reason in r["last_error"] for r in rows), rows
        texts = sorted(r.json()["text"] for r in slack.requests)
        assert [r.path for r in slack.requests] == ["/hooks/fine"] * 2
        assert texts == ["INC-000100 is down", "INC-000101 is down"]

        # The service still answers and still renders.
        auth = stack.auth(tenant_id=tenants["fine"], role="system_administrator")
        again = await api.put(
            "/v1/templates/incident.created.v1/slack", json={"body": "{{ title }}"}, headers=auth
        )
        assert again.status_code == 200, again.text
