"""The outbox relay: publishes committed outbox rows to Kafka in id order and marks them sent.

Written here rather than taken from faststream-outbox: see docs/adr/0002-outbox.md. One relay
per service publishes at a time (a transaction-scoped advisory lock), so rows go out in id
order and one aggregate's events keep their order; the producer is idempotent (acks=all).
A crash after publishing but before marking re-publishes those rows once more on restart;
consumers drop the copies through their inbox (same event id).

Ids are taken when a transaction inserts its rows, not when it commits: a transaction holding
id 10 may commit after one holding id 11. So writers insert outbox rows under a shared
transaction lock (``WRITE_LOCK``, see uow.py), and each round first passes a barrier: it takes
the same lock exclusively, which waits for the writers inserting at that moment, and reads the
highest id then committed. Every id up to it is committed or rolled back for good, so the
round publishes only those and never passes a lower id still in flight.

A row the broker will never take (too large, invalid) is counted (``attempts``) and parked
after ``outbox_max_attempts`` (``parked_at``; metric ``outbox_parked_total``): the rows after
it go on. A fault of the broker or the network is not the row's: nothing is counted and the
round is retried with backoff. See docs/adr/0009-fault-classification-replay-and-parking.md.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka import errors as kafka_errors
from prometheus_client import Counter, Gauge
from sqlalchemy import case, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.db import Database, advisory_key
from backbone.settings import ServiceSettings
from backbone.tables import INBOX, OUTBOX

log = structlog.get_logger(__name__)

PUBLISHED = Counter("outbox_published_total", "Outbox rows published to Kafka", ["service"])
PENDING = Gauge("outbox_pending", "Outbox rows not yet published (last seen)", ["service"])
RELAY_ERRORS = Counter("outbox_relay_errors_total", "Relay rounds that failed", ["service"])
ROW_FAILURES = Counter("outbox_row_failures_total", "Outbox rows the broker refused", ["service", "error"])
PARKED = Counter(
    "outbox_parked_total", "Outbox rows parked after failing outbox_max_attempts times", ["service"]
)

# Writers hold it shared while inserting outbox rows; the relay's barrier takes it exclusively.
# Computed by the server from the connection's schema (search_path), so writer and relay agree.
WRITE_LOCK_KEY = "hashtextextended('outbox-write:' || current_schema(), 0)"
WRITE_LOCK = text(f"SELECT pg_advisory_xact_lock_shared({WRITE_LOCK_KEY})")
_BARRIER = text(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")

# Errors that are the row's own: the broker will never take it, however often it is sent.
_ROW_FAULTS: tuple[type[BaseException], ...] = (
    kafka_errors.MessageSizeTooLargeError,
    kafka_errors.RecordTooLargeError,
    kafka_errors.RecordListTooLargeError,
    kafka_errors.InvalidTopicError,
    kafka_errors.InvalidMessageError,
    kafka_errors.CorruptRecordException,
    TypeError,  # key, value or a header cannot be encoded
    ValueError,
)


class RelayFault(Exception):
    """Some rows could not be published for a reason that is not theirs (broker, network)."""


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
        """Publish one batch of unpublished rows; returns how many were sent. Raises
        RelayFault (after marking what was sent) when the broker failed some rows."""
        schema = self.db.schema
        async with self.db.sessions() as session, session.begin():
            got = await session.scalar(select(func.pg_try_advisory_xact_lock(self._lock_key)))
            if not got:
                return 0  # another replica is relaying this service's outbox
            horizon = await self._barrier()
            rows = (
                await session.execute(
                    select(OUTBOX.c.id, OUTBOX.c.topic, OUTBOX.c.key, OUTBOX.c.value, OUTBOX.c.headers)
                    .where(
                        OUTBOX.c.published_at.is_(None), OUTBOX.c.parked_at.is_(None), OUTBOX.c.id <= horizon
                    )
                    .order_by(OUTBOX.c.id)
                    .limit(self.settings.outbox_batch_size)
                )
            ).all()
            if not rows:
                PENDING.labels(schema).set(0)
                return 0
            outcomes = await self._publish(rows)
            sent = [row.id for row, error in zip(rows, outcomes, strict=True) if error is None]
            if sent:
                await session.execute(
                    update(OUTBOX).where(OUTBOX.c.id.in_(sent)).values(published_at=func.now())
                )
            faults = []
            for row, error in zip(rows, outcomes, strict=True):
                if error is None:
                    continue
                if isinstance(error, _ROW_FAULTS):
                    await self._count_failure(session, row.id, error)
                else:
                    faults.append(error)
        PUBLISHED.labels(schema).inc(len(sent))
        if faults:
            raise RelayFault(f"{len(faults)} row(s) not published") from faults[0]
        return len(sent)

    async def _barrier(self) -> int:
        """The highest id below which no transaction is still inserting outbox rows: taking the
        writers' lock exclusively waits for those inserting now (writers arriving meanwhile
        wait for this short transaction), so every id up to the one read here is final."""
        timeout_ms = max(1, int(self.settings.outbox_barrier_timeout_s * 1000))
        async with self.db.sessions() as session, session.begin():
            await session.execute(text(f"SET LOCAL lock_timeout = {timeout_ms}"))
            await session.execute(_BARRIER)
            return int(await session.scalar(select(func.coalesce(func.max(OUTBOX.c.id), 0))) or 0)

    async def _publish(self, rows: Sequence[Any]) -> list[BaseException | None]:
        """Send every row (pipelined), then wait for each acknowledgement; the error of each
        row that failed, None for those the broker took."""
        pending: list[asyncio.Future[Any] | BaseException] = []
        for row in rows:
            try:
                pending.append(
                    await self.producer.send(
                        self.settings.topic(row.topic),
                        value=row.value,
                        key=row.key.encode(),
                        headers=[(k, str(v).encode()) for k, v in row.headers.items()],
                    )
                )
            except Exception as exc:  # refused before sending, e.g. larger than max_request_size
                pending.append(exc)
        outcomes: list[BaseException | None] = []
        for item in pending:
            if isinstance(item, BaseException):
                outcomes.append(item)
                continue
            try:
                await item  # acknowledged by the broker (acks=all)
                outcomes.append(None)
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    async def _count_failure(self, session: AsyncSession, row_id: int, error: BaseException) -> None:
        limit = self.settings.outbox_max_attempts
        attempts = OUTBOX.c.attempts + 1
        result = await session.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == row_id)
            .values(
                attempts=attempts,
                last_error=repr(error)[:2000],
                parked_at=case((attempts >= limit, func.now()), else_=None),
            )
            .returning(OUTBOX.c.attempts, OUTBOX.c.parked_at, OUTBOX.c.event_id, OUTBOX.c.event_type)
        )
        row = result.one()
        ROW_FAILURES.labels(self.db.schema, type(error).__name__).inc()
        if row.parked_at is not None:
            PARKED.labels(self.db.schema).inc()
            log.error(
                "outbox row parked: the broker refuses it",
                outbox_id=row_id,
                event_id=str(row.event_id),
                event_type=row.event_type,
                attempts=row.attempts,
                error=repr(error)[:500],
            )
        else:
            log.warning(
                "outbox row refused by the broker; will retry",
                outbox_id=row_id,
                attempts=row.attempts,
                max_attempts=limit,
                error=repr(error)[:500],
            )

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
                select(func.count())
                .select_from(OUTBOX)
                .where(OUTBOX.c.published_at.is_(None), OUTBOX.c.parked_at.is_(None))
            )
            PENDING.labels(self.db.schema).set(pending or 0)
