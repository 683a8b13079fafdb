"""Killing the notifications service (SIGKILL, a real crash) during a burst, then starting it
again, sends every notification exactly once in effect.

What holds, and why (docs/notifications.md, "Delivery guarantees"):
- no event is lost and none routed twice: the consumer commits its inbox rows and the delivery
  rows (unique per event, recipient and channel) in one transaction before Kafka offsets move;
- no delivery is lost: a worker records the attempt (claim + lease) before sending, so a crash
  leaves the delivery claimed, and after the lease another worker sends it;
- no delivery is sent twice, except those a worker had on the wire when it died, or sent but not
  yet recorded: at most NOTIFICATIONS_DELIVERY_IN_FLIGHT per channel (a send holds its slot
  until its outcome is recorded). SMTP and Slack have no idempotency keys, so those may arrive twice;
  webhooks carry `X-Delivery-Id` and emails a `Message-ID` that stay the same on every try, so
  receivers drop the copy. The test kills the service while the webhook receiver holds a
  request open, so it exercises exactly that window.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from cryptography.fernet import Fernet

from backbone.db import Database
from backbone.testing import Stack, eventually, free_port
from contracts.envelope import Envelope
from contracts.topics import Topic
from notifications.testing import (
    HttpReceiver,
    SmtpSink,
    delivery_statuses,
    incident_created,
    ready,
    service_process,
)

pytestmark = pytest.mark.integration

BURST = 30
IN_FLIGHT = 3  # sends per channel at once: the most a crash may send twice


async def test_killed_mid_burst_every_notification_arrives_exactly_once(stack: Stack, tmp_path: Path) -> None:
    tenant = uuid.uuid4()
    auth = stack.auth(tenant_id=tenant, role="system_administrator")
    secret_key = Fernet.generate_key().decode()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "notifications.log"
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers)
    await producer.start()
    hook = HttpReceiver(delay_s=0.15)  # holds each request open a moment: the crash window
    try:
        async with hook.running(), httpx.AsyncClient(base_url=base, timeout=10) as api:
            with SmtpSink().running() as smtp:
                with service_process(
                    stack, port, secret_key, log, delivery_in_flight=str(IN_FLIGHT)
                ) as first:
                    await eventually(lambda: ready(base), within=90, what="the service to start")
                    channel_ids = []
                    for kind, config in (
                        ("webhook", {"url": hook.url, "secret": "s3cret"}),
                        (
                            "email",
                            {
                                "host": "127.0.0.1",
                                "port": smtp.port,
                                "security": "none",
                                "from_address": "noc@platform.example",
                                "to": ["oncall@ops.example"],
                            },
                        ),
                    ):
                        created = await api.post(
                            "/v1/channels", json={"kind": kind, "name": kind, "config": config}, headers=auth
                        )
                        assert created.status_code == 201, created.text
                        channel_ids.append(created.json()["id"])
                    rule = await api.post(
                        "/v1/rules",
                        json={"event_types": ["incident.created.v1"], "channel_ids": channel_ids},
                        headers=auth,
                    )
                    assert rule.status_code == 201, rule.text

                    events = []
                    for i in range(BURST):
                        incident_id = uuid.uuid4()
                        envelope = Envelope.wrap(
                            incident_created(
                                incident_id, number=i + 1, title=f"Burst {i + 1}", severity_flags={}
                            ),
                            source="triage",
                            tenant_id=tenant,
                        )
                        events.append(envelope)
                        await producer.send(
                            stack.topic_prefix + Topic.INCIDENT_EVENTS,
                            envelope.model_dump_json().encode(),
                            key=str(incident_id).encode(),
                        )
                    await producer.flush()

                    async def some_arrived() -> bool:
                        return len(hook.requests) >= 5

                    await eventually(some_arrived, within=60, what="the first webhooks")
                    # A request is open at the receiver now (it answers after 0.15 s): crash.
                    first.send_signal(signal.SIGKILL)
                    first.wait(timeout=10)
                    at_crash = len(hook.requests)
                    assert at_crash < BURST, "the burst finished before the crash; nothing was tested"

                with service_process(stack, port, secret_key, log, delivery_in_flight=str(IN_FLIGHT)):
                    await eventually(lambda: ready(base), within=90, what="the service to restart")

                    async def all_unique() -> bool:
                        mails = {m["Message-ID"] for m in smtp.messages}
                        return len(hook.unique_deliveries()) >= BURST and len(mails) >= BURST

                    await eventually(all_unique, within=120, what="every notification after the restart")
                    await asyncio.sleep(0.5)  # let any late copy arrive before counting

                    db = Database.connect(stack.database_url, "notifications", pool_size=1)
                    try:
                        async with db.sessions() as s:
                            by_status = await delivery_statuses(s, tenant)
                    finally:
                        await db.dispose()

        # One delivery per event and channel, every one sent.
        assert by_status == {"sent": 2 * BURST}, by_status
        # Webhook: each event under exactly one delivery id, every event there.
        unique = hook.unique_deliveries()
        assert sorted(r.json()["id"] for r in unique.values()) == sorted(str(e.id) for e in events)
        # At most the requests on the wire at the crash arrived twice (the documented window).
        assert len(hook.requests) - BURST <= IN_FLIGHT, len(hook.requests)
        # Email: one message per event, each with its own stable Message-ID.
        ids = [m["Message-ID"] for m in smtp.messages]
        assert len(set(ids)) == BURST and len(ids) - BURST <= IN_FLIGHT
        subjects = {m["Subject"] for m in smtp.messages}
        assert len(subjects) == BURST
    finally:
        await producer.stop()
