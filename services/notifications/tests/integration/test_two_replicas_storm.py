"""A storm through two notifications processes: 1,000 incidents routed to one webhook channel
give exactly 1,000 deliveries, each received once, though both replicas claim, send
concurrently and record outcomes in batches from the same channel, and are woken only by the
deliveries being queued (docs/notifications.md, "Delivery")."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from backbone.db import Database
from backbone.testing import Stack, eventually, free_port
from contracts.envelope import Envelope
from contracts.topics import Topic
from notifications.adapters.orm import deliveries
from notifications.testing import HttpReceiver, incident_created, ready, service_process, webhook_rule

pytestmark = pytest.mark.integration

STORM = 1000
SECRET = "s3cret-" + uuid.uuid4().hex


async def test_a_thousand_incidents_through_two_replicas_arrive_once_each(
    stack: Stack, tmp_path: Path
) -> None:
    tenant = uuid.uuid4()
    auth = stack.auth(tenant_id=tenant, role="system_administrator")
    secret_key = Fernet.generate_key().decode()
    ports = [free_port(), free_port()]
    hook = HttpReceiver()
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers, linger_ms=5)
    await producer.start()
    db = Database.connect(stack.database_url, "notifications", pool_size=1)
    processes = contextlib.ExitStack()
    try:
        async with hook.running():
            for i, port in enumerate(ports):
                # Small batches and few sends in flight: the two replicas take turns on the channel.
                # No poll in the test's time: only the wake on queued deliveries starts workers.
                processes.enter_context(
                    service_process(
                        stack,
                        port,
                        secret_key,
                        tmp_path / f"replica{i}.log",
                        delivery_batch="20",
                        delivery_poll_s="3600",
                        # Leases as shipped: the 4 s service_process gives restart tests could run
                        # out on a loaded machine and hand a delivery to the other replica.
                        delivery_lease_s="60",
                        send_timeout_s="10",
                        delivery_in_flight="10",
                    )
                )
            for port in ports:
                await eventually(lambda p=port: ready(f"http://127.0.0.1:{p}"), within=90, what="a replica")
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[0]}", timeout=10) as api:
                await webhook_rule(api, auth, hook.url, SECRET, ["incident.created.v1"])

            events = []
            for i in range(STORM):
                envelope = Envelope.wrap(incident_created(number=i + 1), source="triage", tenant_id=tenant)
                events.append(envelope)
                await producer.send(
                    stack.topic_prefix + Topic.INCIDENT_EVENTS,
                    envelope.model_dump_json().encode(),
                    key=envelope.subject.encode(),
                )
            await producer.flush()

            async def all_sent() -> bool:
                async with db.sessions() as s:
                    sent = await s.scalar(
                        select(func.count()).where(
                            deliveries.c.tenant_id == tenant, deliveries.c.status == "sent"
                        )
                    )
                return sent == STORM

            await eventually(all_sent, within=300, interval=0.5, what="every delivery sent")
            await asyncio.sleep(0.5)  # a copy sent twice would arrive about now

        async with db.sessions() as s:
            rows = (
                await s.execute(
                    select(deliveries.c.event_id, deliveries.c.status, deliveries.c.attempts).where(
                        deliveries.c.tenant_id == tenant
                    )
                )
            ).all()
    finally:
        processes.close()
        await producer.stop()
        await db.dispose()

    # One delivery per event, each sent at its first attempt.
    assert len(rows) == STORM
    assert {r.event_id for r in rows} == {e.id for e in events}
    assert {(r.status, r.attempts) for r in rows} == {("sent", 1)}
    # Each received exactly once, signed, and every event there.
    assert len(hook.requests) == STORM
    assert len(hook.unique_deliveries()) == STORM
    assert len(hook.verified(SECRET)) == STORM
    assert sorted(r.json()["id"] for r in hook.requests) == sorted(str(e.id) for e in events)
