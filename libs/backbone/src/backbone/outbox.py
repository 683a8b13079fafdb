"""The outbox relay: publishes committed outbox rows to Kafka in id order and marks them sent.

Written here rather than taken from faststream-outbox: see docs/adr/0002-outbox.md. One relay
per service publishes at a time (a transaction-scoped advisory lock), so rows go out in id
order and one aggregate's events keep their order; the producer is idempotent (acks=all).
A crash after publishing but before marking re-publishes those rows once more on restart;
consumers drop the copies through their inbox (same event id).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import structlog
from aiokafka import AIOKafkaProducer
from prometheus_client import Counter, Gauge
from sqlalchemy import delete, func, select, update

from backbone.db import Database, advisory_key
from backbone.settings import ServiceSettings
from backbone.tables import INBOX, OUTBOX

log = structlog.get_logger(__name__)

PUBLISHED = Counter("outbox_published_total", "Outbox rows published to Kafka", ["service"])
PENDING = Gauge("outbox_pending", "Outbox rows not yet published (last seen)", ["service"])
RELAY_ERRORS = Counter("outbox_relay_errors_total", "Relay rounds that failed", ["service"])


def make_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_idempotence=True,  # implies acks=all; no duplicates from producer retries
        client_id=f"{settings.service_name}-relay",
        linger_ms=2,
    )


class OutboxRelay:
    def __init__(self, db: Database, settings: ServiceSettings, producer: AIOKafkaProducer) -> None:
        self.db = db
        self.settings = settings
        self.producer = producer
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock_key = advisory_key(f"outbox:{db.schema}")
        self._last_cleanup = 0.0

    def wake(self) -> None:
        """Called after a commit that wrote outbox rows, so they go out without waiting a poll."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.db.schema}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                sent = await self.relay_once()
                backoff = 0.1
                await self._maybe_cleanup()
            except asyncio.CancelledError:
                raise
            except Exception:
                RELAY_ERRORS.labels(self.db.schema).inc()
                log.exception("outbox relay round failed; retrying", backoff_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if sent < self.settings.outbox_batch_size:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.outbox_poll_interval_s)

    async def relay_once(self) -> int:
        """Publish one batch of unpublished rows; returns how many were sent."""
        async with self.db.sessions() as session, session.begin():
            got = await session.scalar(select(func.pg_try_advisory_xact_lock(self._lock_key)))
            if not got:
                return 0  # another replica is relaying this service's outbox
            rows = (
                await session.execute(
                    select(OUTBOX.c.id, OUTBOX.c.topic, OUTBOX.c.key, OUTBOX.c.value, OUTBOX.c.headers)
                    .where(OUTBOX.c.published_at.is_(None))
                    .order_by(OUTBOX.c.id)
                    .limit(self.settings.outbox_batch_size)
                )
            ).all()
            if not rows:
                PENDING.labels(self.db.schema).set(0)
                return 0
            futures = [
                await self.producer.send(
                    self.settings.topic(row.topic),
                    value=row.value,
                    key=row.key.encode(),
                    headers=[(k, str(v).encode()) for k, v in row.headers.items()],
                )
                for row in rows
            ]
            await asyncio.gather(*futures)  # every row acknowledged by the broker (acks=all)
            await session.execute(
                update(OUTBOX).where(OUTBOX.c.id.in_([r.id for r in rows])).values(published_at=func.now())
            )
        PUBLISHED.labels(self.db.schema).inc(len(rows))
        return len(rows)

    async def _maybe_cleanup(self) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._last_cleanup < 300:
            return
        self._last_cleanup = now
        async with self.db.sessions() as session, session.begin():
            await session.execute(
                delete(OUTBOX).where(
                    OUTBOX.c.published_at < func.now() - timedelta(hours=self.settings.outbox_retention_hours)
                )
            )
            await session.execute(
                delete(INBOX).where(
                    INBOX.c.received_at < func.now() - timedelta(days=self.settings.inbox_retention_days)
                )
            )
            pending = await session.scalar(
                select(func.count()).select_from(OUTBOX).where(OUTBOX.c.published_at.is_(None))
            )
            PENDING.labels(self.db.schema).set(pending or 0)
