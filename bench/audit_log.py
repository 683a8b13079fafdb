"""Audit's transparency log, over the real Kafka and PostgreSQL (not a test: it prints figures).

    source .local/infra.env && uv run python bench/audit_log.py [--events 20000] [--entries 1000000]

1. appends: N events on directory.events, then audit (batches, inbox, one head lock, leaves
   and stored tree hashes per tenant per batch) appends them; prints appends/s from consumer
   start to the last entry committed, and from the first commit on (the steady rate).
2. verify: M entries appended directly through audit's adapter, 20,000 per transaction
   (leaves and stored hashes computed as the handler does, without Kafka), one checkpoint;
   prints the time of GET /v1/audit/verify's streaming pass. --events 0 or --entries 0 skips
   a part.
3. proofs: 1,000 inclusion proofs at random indexes of the M-entry log; prints p50 and p99.

Runs in a database and topic prefix of its own, removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
from datetime import UTC, datetime

from sqlalchemy import insert, select

from audit.adapters import log as log_repo
from audit.adapters.orm import heads
from audit.config import Settings as AuditSettings
from audit.domain import log, tlog
from audit.domain.checkpoint import Signer
from audit.handlers.log import sign_checkpoints
from audit.main import create as create_audit
from audit.views.log import inclusion, verify
from backbone.db import Database
from backbone.outbox import make_producer
from backbone.testing import Stack, bench_stack, serving
from backbone.uow import UnitOfWork
from contracts.enums import VendorType
from contracts.envelope import Envelope, new_id
from contracts.events import VendorRegistered


async def bench_appends(stack: Stack, n: int) -> None:
    settings = stack.settings(AuditSettings, log_json=True, log_level="WARNING")
    db = Database.connect(settings.database_url, "audit", pool_size=2)
    tenants = [new_id() for _ in range(4)]
    producer = make_producer(settings)
    await producer.start()
    sent = []
    for i in range(n):
        event = VendorRegistered(
            vendor_id=new_id(),
            tenant_id=tenants[i % 4],
            vendor_name=f"bench {i}",
            vendor_email="ops@bench.example",
            vendor_phone="+1 555 010 9988",
            vendor_type=VendorType.CLOUD_PROVIDER,
        )
        envelope = Envelope.wrap(event, source="directory", tenant_id=tenants[i % 4])
        topic = stack.topic_prefix + envelope.topic.value
        sent.append(
            await producer.send(topic, envelope.model_dump_json().encode(), key=envelope.subject.encode())
        )
    await asyncio.gather(*sent)
    await producer.stop()

    async def count() -> int:
        async with db.sessions() as s:
            return sum((await s.scalars(select(heads.c.size).where(heads.c.tenant_id.in_(tenants)))).all())

    started, cpu = time.perf_counter(), time.process_time()
    first: tuple[float, int] | None = None
    async with serving(create_audit(settings)):
        while (done := await count()) < n:
            if done and first is None:
                first = (time.perf_counter(), done)
            await asyncio.sleep(0.05)
    ended, cpu = time.perf_counter(), time.process_time() - cpu
    await db.dispose()
    print(
        f"appends        : {done} events in {ended - started:.2f}s = "
        f"{done / (ended - started):,.0f} appends/s (4 tenants, from the consumer's start)"
    )
    # On a shared machine the wall clock says more about the neighbours than about audit.
    print(f"appends cpu    : {cpu:.1f}s of this process's CPU = {cpu / n * 1e6:.0f} µs/event ({load()})")
    if first is not None and first[1] < n:
        steady = (n - first[1]) / (ended - first[0])
        print(f"appends steady : {n - first[1]} events after the first commit at {steady:,.0f} appends/s")


def load() -> str:
    with open("/proc/loadavg") as f:
        return "load average " + " ".join(f.read().split()[:3])


async def bench_verify_and_proofs(stack: Stack, m: int) -> None:
    settings = stack.settings(AuditSettings)
    db = Database.connect(settings.database_url, "audit", pool_size=2)
    tenant, now = new_id(), datetime.now(UTC)
    tree, chunk = tlog.Frontier(), 20_000
    started = time.perf_counter()
    async with db.sessions() as s, s.begin():
        await s.execute(insert(heads).values(tenant_id=tenant, size=0, grew_at=now))
    for start in range(0, m, chunk):
        leaves = [
            log.leaf(
                log.entry(
                    event_id=new_id(), event_type="vendor.registered.v1", action="create", source="bench",
                    subject=str(i), actor={"user_id": None, "role": None}, occurred_at=now, recorded_at=now,
                    data={"vendor_name": f"bench {i}"},
                )
            )
            for i in range(start, min(m, start + chunk))
        ]  # fmt: skip
        async with db.sessions() as s, s.begin():
            await log_repo.append(s, tenant, start, leaves, tree.extend(leaves), now)
    print(f"bulk insert    : {m} entries in {time.perf_counter() - started:.1f}s")
    async with UnitOfWork(db.sessions, source="bench") as uow:
        await sign_checkpoints(uow, now, Signer.generate())
        await uow.commit()
    async with UnitOfWork(db.sessions, source="bench") as uow:
        started = time.perf_counter()
        result = await verify(uow, tenant_id=tenant)
        took = time.perf_counter() - started
        print(f"verify         : {result['checked']} entries in {took:.1f}s, ok={result['ok']} ({load()})")
        latencies = []
        for _ in range(1000):
            t = time.perf_counter()
            await inclusion(uow, tenant_id=tenant, index=random.randrange(m), size=m)
            latencies.append((time.perf_counter() - t) * 1000)
    q = statistics.quantiles(latencies, n=100)
    print(f"inclusion proof: p50 {q[49]:.2f} ms, p99 {q[98]:.2f} ms at {m} entries (view, no HTTP)")
    await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    args = parser.parse_args()
    async with bench_stack("audit") as stack:
        print(f"== audit log benchmark: {args.events} events, {args.entries} entries, {os.cpu_count()} cores")
        if args.events:
            await bench_appends(stack, args.events)
        if args.entries:
            await bench_verify_and_proofs(stack, args.entries)


if __name__ == "__main__":
    asyncio.run(main())
