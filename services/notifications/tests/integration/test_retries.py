"""Retries and isolation over the real broker and database: a channel that fails transiently is
retried (backoff with jitter) and then succeeds; one that keeps failing ends, after its last
try, in notification.failed.v1; a slow channel and the failing ones never hold up a healthy
channel (asserted by the order in which things happen, not by how fast)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from backbone.db import Database
from backbone.testing import Stack, eventually, serving
from contracts.enums import Severity
from contracts.envelope import Envelope
from notifications import testing as notifications_testing
from notifications.adapters.orm import deliveries, inbox
from notifications.main import create
from notifications.testing import HttpReceiver, Received, local_settings, outbox_json

pytestmark = pytest.mark.integration

EVENTS = 3


@pytest.fixture
async def producer(stack: Stack) -> AsyncIterator[AIOKafkaProducer]:
    p = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers)
    await p.start()
    yield p
    await p.stop()


async def publish_incidents(
    producer: AIOKafkaProducer, stack: Stack, tenant: uuid.UUID, n: int, severity: Severity = Severity.P1
) -> list[Envelope]:
    """As triage would: incident.created.v1 on incident.events, keyed by the incident id."""
    return await notifications_testing.publish_incidents(
        producer, stack.topic_prefix, tenant, n, severity=severity
    )


class Flaky:
    """Answers 503 to the first ``failures`` requests, then 200."""

    def __init__(self, failures: int) -> None:
        self.left = failures

    def __call__(self, received: Received) -> tuple[int, Any] | None:
        if self.left > 0:
            self.left -= 1
            return 503, "try later"
        return None


async def test_transient_failures_retry_permanent_ones_fail_and_channels_stay_independent(
    stack: Stack, producer: AIOKafkaProducer
) -> None:
    settings = local_settings(
        stack,
        delivery_poll_s=0.05,
        max_attempts=3,
        retry_initial_s=0.3,
        retry_jitter_s=0.05,
        send_timeout_s=10,
    )
    tenant = uuid.uuid4()
    auth = stack.auth(tenant_id=tenant, role="system_administrator")
    receivers = {
        "healthy": HttpReceiver(),
        "flaky": HttpReceiver(behaviour=Flaky(2)),
        "dead": HttpReceiver(behaviour=lambda r: (500, "broken")),
        "slow": HttpReceiver(delay_s=1.0),
    }
    async with (
        serving(create(settings)) as api,
        receivers["healthy"].running(),
        receivers["flaky"].running(),
        receivers["dead"].running(),
        receivers["slow"].running(),
    ):
        ids: dict[str, str] = {}
        for name, rx in receivers.items():
            created = await api.post(
                "/v1/channels",
                json={"kind": "webhook", "name": name, "config": {"url": rx.url, "secret": "s"}},
                headers=auth,
            )
            assert created.status_code == 201, created.text
            ids[name] = created.json()["id"]
        rule = await api.post(
            "/v1/rules",
            json={"event_types": ["incident.created.v1"], "channel_ids": list(ids.values())},
            headers=auth,
        )
        assert rule.status_code == 201, rule.text

        events = await publish_incidents(producer, stack, tenant, EVENTS)
        event_ids = {str(e.id) for e in events}

        async def settled() -> list[dict[str, Any]] | None:
            rows: list[dict[str, Any]] = (await api.get("/v1/deliveries", headers=auth)).json()
            done = [r for r in rows if r["status"] in ("sent", "failed")]
            return rows if len(rows) == 4 * EVENTS and len(done) == len(rows) else None

        rows = await eventually(settled, within=60, what="every delivery to end")
        by_channel: dict[str, list[dict[str, Any]]] = {n: [] for n in ids}
        names = {v: k for k, v in ids.items()}
        for r in rows:
            assert r["event_id"] in event_ids
            by_channel[names[r["channel_id"]]].append(r)

        # Healthy and slow: every delivery sent at the first try.
        for name in ("healthy", "slow"):
            assert [(r["status"], r["attempts"]) for r in by_channel[name]] == [("sent", 1)] * EVENTS, name
        # Flaky: two 503s were retried, then everything went through, with no copy lost or doubled.
        flaky = by_channel["flaky"]
        assert all(r["status"] == "sent" for r in flaky)
        assert sum(r["attempts"] for r in flaky) == EVENTS + 2
        assert len(receivers["flaky"].requests) == EVENTS + 2
        assert len(receivers["flaky"].unique_deliveries()) == EVENTS
        # Dead: three tries each, then failed for good, with the receiver's answer as the error.
        for r in by_channel["dead"]:
            assert (r["status"], r["attempts"]) == ("failed", 3)
            assert r["last_error"].startswith("HTTP 500")
        assert len(receivers["dead"].requests) == 3 * EVENTS

        # Isolation, by order of events: the healthy channel had everything while the slow one
        # still held its first message open, before the flaky one's retried message went
        # through and before the dead one's last try.
        healthy_done = max(r.at for r in receivers["healthy"].requests)
        assert healthy_done < min(r.at for r in receivers["slow"].requests) + receivers["slow"].delay_s
        assert healthy_done < max(r.at for r in receivers["flaky"].requests)
        assert healthy_done < max(r.at for r in receivers["dead"].requests)

        # notification.failed.v1 for each dead delivery (and only those), sent.v1 for the others.
        db = Database.connect(stack.database_url, "notifications", pool_size=1)
        try:
            announced = await outbox_json(db, "notification.failed.v1", "notification.sent.v1")
            async with db.sessions() as s:
                count = len(
                    (await s.scalars(select(deliveries.c.id).where(deliveries.c.tenant_id == tenant))).all()
                )
        finally:
            await db.dispose()
        assert count == 4 * EVENTS
        mine = [e for e in announced if e["tenantid"] == str(tenant)]
        failed = [e for e in mine if e["type"] == "notification.failed.v1"]
        assert sorted(e["data"]["delivery_id"] for e in failed) == sorted(r["id"] for r in by_channel["dead"])
        assert all(e["data"]["attempts"] == 3 and "HTTP 500" in e["data"]["error"] for e in failed)
        assert len([e for e in mine if e["type"] == "notification.sent.v1"]) == 3 * EVENTS


async def test_rules_filter_by_severity_and_client(stack: Stack, producer: AIOKafkaProducer) -> None:
    settings = local_settings(stack, delivery_poll_s=0.05)
    tenant = uuid.uuid4()
    auth = stack.auth(tenant_id=tenant, role="system_administrator")
    async with serving(create(settings)) as api, HttpReceiver().running() as rx:
        hook = await api.post(
            "/v1/channels",
            json={"kind": "webhook", "name": "p1 only", "config": {"url": rx.url, "secret": "s"}},
            headers=auth,
        )
        await api.post(
            "/v1/rules",
            json={
                "event_types": ["incident.created.v1"],
                "min_severity": "P2",
                "channel_ids": [hook.json()["id"]],
            },
            headers=auth,
        )
        low = await publish_incidents(producer, stack, tenant, 2, Severity.P3)
        high = await publish_incidents(producer, stack, tenant, 1, Severity.P2)

        async def arrived() -> list[Received] | None:
            return rx.requests or None

        (first,) = await eventually(arrived, what="the P2 incident's webhook")
        assert first.json()["id"] == str(high[0].id)
        db = Database.connect(stack.database_url, "notifications", pool_size=1)
        try:

            async def all_consumed() -> bool:
                async with db.sessions() as s:
                    seen = set(
                        await s.scalars(
                            select(inbox.c.event_id).where(inbox.c.event_id.in_([e.id for e in low]))
                        )
                    )
                return len(seen) == len(low)

            await eventually(all_consumed, what="the P3 incidents to be consumed")
        finally:
            await db.dispose()
        rows = (await api.get("/v1/deliveries", headers=auth)).json()
        assert {r["event_id"] for r in rows} == {str(high[0].id)}
        assert not {str(e.id) for e in low} & {r["event_id"] for r in rows}
