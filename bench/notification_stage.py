"""The notification stage alone, over the real Kafka and PostgreSQL (not a test: it prints figures).

    set -a && . .local/infra.env && set +a
    uv run python bench/notification_stage.py [--events 1000] [--replicas 1] [--channel-rate N]

N `incident.created.v1` events go on the incident topic; a rule routes them to one signed webhook
channel whose receiver runs in this script. notifications runs as `--replicas` separate processes
(uvicorn), with the settings it ships with (only the egress policy opened to loopback). Prints,
per delivery, the time from its row written (`created_at`) to its send recorded (`sent_at`),
both the database's clock, p50/p99/max; deliveries/s from the first row written to the last send
recorded; and the requests the receiver got (each delivery must arrive once).

Runs in a database and topic prefix of its own, removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import time
import uuid
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer
from cryptography.fernet import Fernet
from sqlalchemy import select

from backbone.db import Database
from backbone.testing import Stack, eventually, free_port, scratch_stack
from contracts.envelope import Envelope
from contracts.topics import Topic
from notifications.adapters.orm import deliveries
from notifications.config import Settings
from notifications.testing import (
    HttpReceiver,
    delivery_statuses,
    incident_created,
    ready,
    service_process,
    webhook_rule,
)

# What service_process sets for tests, back to the defaults a deployment gets.
SHIPPED = {
    name: str(Settings.model_fields[name].default)
    for name in (
        "delivery_poll_s",
        "delivery_lease_s",
        "send_timeout_s",
        "email_rate_per_minute",
        "db_pool_size",
    )
}


async def run(stack: Stack, n: int, count: int, channel_rate: int | None, log: Path) -> None:
    tenant = uuid.uuid4()
    auth = stack.auth(tenant_id=tenant, role="system_administrator")
    ports = [free_port() for _ in range(count)]
    secret_key = Fernet.generate_key().decode()
    hook = HttpReceiver()
    db = Database.connect(stack.database_url, "notifications", pool_size=2)
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers, linger_ms=5)
    await producer.start()
    try:
        async with hook.running():
            with contextlib.ExitStack() as processes:
                for port in ports:
                    # The settings it ships with, but for the egress policy (the receiver is local).
                    processes.enter_context(
                        service_process(stack, port, secret_key, log, **SHIPPED, egress_allow="127.0.0.1/32")
                    )
                for port in ports:
                    await eventually(lambda p=port: ready(f"http://127.0.0.1:{p}"), within=90)
                api = httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[0]}", timeout=10)
                channel_id, _ = await webhook_rule(
                    api, auth, hook.url, "bench-secret", ["incident.created.v1"]
                )
                if channel_rate:
                    changed = await api.patch(
                        f"/v1/channels/{channel_id}",
                        json={"config": {"url": hook.url, "secret": "***", "rate_per_minute": channel_rate}},
                        headers=auth,
                    )
                    assert changed.status_code == 200, changed.text
                await api.aclose()
                topic = stack.topic_prefix + Topic.INCIDENT_EVENTS
                started = time.perf_counter()
                for i in range(n):
                    env = Envelope.wrap(incident_created(number=i + 1), source="triage", tenant_id=tenant)
                    await producer.send(topic, env.model_dump_json().encode(), key=env.subject.encode())
                await producer.flush()
                while len(hook.unique_deliveries()) < n:
                    if time.perf_counter() - started > 900:
                        raise SystemExit(f"only {len(hook.unique_deliveries())} of {n} after 900 s")
                    await asyncio.sleep(0.1)
                wall = time.perf_counter() - started
                await asyncio.sleep(1)  # let a late copy arrive before counting
        async with db.sessions() as s:
            rows = (
                await s.execute(
                    select(deliveries.c.created_at, deliveries.c.sent_at).where(
                        deliveries.c.tenant_id == tenant
                    )
                )
            ).all()
            statuses = await delivery_statuses(s, tenant)
    finally:
        await producer.stop()
        await db.dispose()
    lags = sorted((r.sent_at - r.created_at).total_seconds() for r in rows if r.sent_at)
    span = (max(r.sent_at for r in rows if r.sent_at) - min(r.created_at for r in rows)).total_seconds()
    q = statistics.quantiles(lags, n=100)
    written = (max(r.created_at for r in rows) - min(r.created_at for r in rows)).total_seconds()
    print(
        f"replicas {count}, channel rate {channel_rate or 'default'}: {len(rows)} deliveries {statuses}; "
        f"{len(hook.requests)} requests, {len(hook.unique_deliveries())} distinct delivery ids"
    )
    print(
        f"  row written → sent: p50 {q[49] * 1000:,.0f} ms, p99 {q[98] * 1000:,.0f} ms, "
        f"max {lags[-1] * 1000:,.0f} ms; {len(lags) / span:,.0f} deliveries/s "
        f"(first row written → last sent {span:.2f} s; rows written over {written:.2f} s; "
        f"storm start → all received {wall:.2f} s)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--channel-rate", type=int, default=None, help="the channel's rate_per_minute")
    args = parser.parse_args()
    server = os.environ.get("DATABASE_URL", "postgresql+asyncpg://incident:incident@127.0.0.1:55432/incident")
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    log = Path(os.environ.get("BENCH_LOG", "/tmp/bench_notifications.log"))
    async with scratch_stack(server, kafka, services=("notifications",), prefix="bench_") as stack:
        print(f"== notifications benchmark: {args.events} events, {os.cpu_count()} cores, log {log}")
        await run(stack, args.events, args.replicas, args.channel_rate, log)


if __name__ == "__main__":
    asyncio.run(main())
