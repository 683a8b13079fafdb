"""Delivery backbone throughput, over the real Kafka and PostgreSQL (not a test: it prints figures).

    source .local/infra.env && uv run python bench/delivery.py [--events 20000]

1. outbox relay: N events committed to triage's outbox in transactions of 100, then the
   relay publishes them; prints events/s from first publish to last ack.
2. consumer: N `intake.incident_reported.v1` events on the topic, then triage (batches,
   inbox, effects, outbox in one transaction per batch) turns them into incidents; prints
   incidents/s from consumer start to the last incident committed.

Runs in a database and topic prefix of its own, removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from datetime import UTC, datetime

from sqlalchemy import func, select

from backbone.db import Database
from backbone.outbox import OutboxRelay, make_producer
from backbone.tables import OUTBOX
from backbone.testing import Stack, bench_stack, count_rows, serving
from backbone.uow import UnitOfWork
from contracts.enums import IncidentSource
from contracts.envelope import Envelope, new_id
from contracts.events import IncidentReported
from contracts.topics import Topic
from triage.adapters.orm import incidents
from triage.config import Settings as TriageSettings
from triage.main import create as create_triage


def reported(tenant: object) -> IncidentReported:
    return IncidentReported(
        incident_id=new_id(),
        source=IncidentSource.ALERTMANAGER,
        title="bench",
        dedup_key=f"am:{new_id()}",
        detected_at=datetime.now(UTC),
    )


async def bench_relay(stack: Stack, n: int) -> None:
    settings = stack.settings(TriageSettings, log_json=True)
    db = Database.connect(settings.database_url, "triage", pool_size=4)
    tenant = new_id()
    started = time.perf_counter()
    for start in range(0, n, 100):
        async with UnitOfWork(db.sessions, source="bench") as uow:
            for _ in range(min(100, n - start)):
                uow.emit(reported(tenant), tenant_id=tenant)
            await uow.commit()
    write_s = time.perf_counter() - started
    producer = make_producer(settings)
    await producer.start()
    relay = OutboxRelay(db, settings, producer)
    started = time.perf_counter()
    sent = 0
    while batch := await relay.relay_once():
        sent += batch
    relay_s = time.perf_counter() - started
    await producer.stop()
    async with db.sessions() as s:
        pending = await s.scalar(
            select(func.count()).select_from(OUTBOX).where(OUTBOX.c.published_at.is_(None))
        )
    await db.dispose()
    print(
        f"outbox write   : {n} events in {write_s:.2f}s = {n / write_s:,.0f} events/s (transactions of 100)"
    )
    rate = sent / relay_s
    print(f"outbox relay   : {sent} events in {relay_s:.2f}s = {rate:,.0f} events/s (acks=all, idempotent)")
    assert pending == 0


async def bench_consumer(stack: Stack, n: int) -> None:
    from aiokafka import AIOKafkaProducer

    tenant = new_id()
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers, linger_ms=5)
    await producer.start()
    topic = stack.topic_prefix + Topic.INTAKE_EVENTS
    for _ in range(n):
        env = Envelope.wrap(reported(tenant), source="bench", tenant_id=tenant)
        await producer.send(topic, env.model_dump_json().encode(), key=env.subject.encode())
    await producer.flush()
    await producer.stop()

    db = Database.connect(stack.database_url, "triage", pool_size=2)

    started = time.perf_counter()
    async with serving(create_triage(stack.settings(TriageSettings, log_json=True, log_level="WARNING"))):
        while (done := await count_rows(db, incidents, tenant)) < n:  # noqa: ASYNC110 - polling another component's table
            await asyncio.sleep(0.2)
    elapsed = time.perf_counter() - started
    await db.dispose()
    print(
        f"consumer       : {done} incidents in {elapsed:.2f}s = {done / elapsed:,.0f} incidents/s "
        "(triage: batch of ≤200 per transaction, inbox + effects + outbox)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    async with bench_stack("triage") as stack:
        print(f"== delivery benchmark: {args.events} events, {os.cpu_count()} cores")
        await bench_relay(stack, args.events)
        await bench_consumer(stack, args.events)


if __name__ == "__main__":
    asyncio.run(main())
