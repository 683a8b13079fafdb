"""Consuming events exactly once in effect (docs/adr/0002-outbox.md; faults, replay and the
DLQ: docs/adr/0009-fault-classification-replay-and-parking.md).

A batch of records is handled in one transaction: the inbox rows (event ids), the effects and
the outbox rows of all of it commit together, and only then are the Kafka offsets committed
(FastStream's MANUAL ack policy; ``ack()`` commits the consumer's positions). If the batch
fails for a reason that is not transient, each message is retried alone, with backoff, and a
message that still fails goes to the service's DLQ with the error and its original headers, so
the partition keeps flowing. A fault of the infrastructure (database or broker unreachable,
timeouts, lock waits, resource limits: ``is_transient``) sends nothing to the DLQ: the batch is
rewound (``nack()`` seeks every partition back to its first record of the batch) and tried
again after a pause that grows while the fault lasts. Anything unexpected is treated the same
way: no offset is ever committed past a message that was neither handled nor dead-lettered.

A message republished from the DLQ (``incidentctl dlq replay``, see backbone.dlq) carries the
header ``x-dlq-replay-for: <service>``: that service handles it again even though its inbox
says ``dead_lettered``; other services treat it as the redelivery it is for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import structlog
from aiokafka import AIOKafkaProducer, ConsumerRecord
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy
from prometheus_client import Counter, Histogram
from pydantic import ValidationError
from sqlalchemy import String, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.dialects.postgresql import UUID as PG_UUID

from backbone import telemetry
from backbone.db import is_transient
from backbone.settings import ServiceSettings
from backbone.tables import INBOX
from backbone.uow import UnitOfWork
from contracts.envelope import Envelope, EventData, is_known

log = structlog.get_logger(__name__)

EventHandler = Callable[[UnitOfWork, Envelope, Any], Awaitable[None]]
BatchFn = Callable[[UnitOfWork, list[tuple[Envelope, Any]]], Awaitable[None]]


@dataclass(frozen=True)
class Batched:
    """A handler given a run of consecutive events of its type at once, so it can use
    set-based SQL (one statement for the run instead of several per event). Runs never cross
    an event of another type, so per-key order holds."""

    fn: BatchFn


def batched(fn: BatchFn) -> Batched:
    return Batched(fn)


Handler = EventHandler | Batched
# What a service declares per event type: one handler, or several run in order in the same
# transaction (a replica first, then the service's own reaction, say).
Handlers = Mapping[str, Handler | Sequence[Handler]]
Chain = tuple[Handler, ...]


def chains(handlers: Handlers) -> dict[str, Chain]:
    """Each event type's handlers as a tuple. Types with the same handlers in the same order
    get equal tuples, so a run of their events is handled as one run."""
    result: dict[str, Chain] = {}
    for event_type, declared in handlers.items():
        chain = tuple(declared) if isinstance(declared, Sequence) else (declared,)
        if not chain:
            raise ValueError(f"no handler given for {event_type}")
        result[event_type] = chain
    return result


HANDLED = Counter("events_handled_total", "Events handled", ["service", "type"])
DUPLICATES = Counter("events_duplicate_total", "Redelivered events skipped by the inbox", ["service"])
SKIPPED = Counter(
    "events_skipped_total", "Events skipped: unknown or not handled here", ["service", "reason"]
)
DEAD = Counter("events_dead_lettered_total", "Messages sent to the DLQ", ["service"])
RETRIES = Counter("events_retried_total", "Retries of a failed message or batch", ["service", "kind"])
REWINDS = Counter(
    "events_rewound_total", "Batches rewound and retried later (fault, not message)", ["service", "cause"]
)
BATCH_SECONDS = Histogram("event_batch_seconds", "Time to handle one batch", ["service"])


# Headers of a message republished from a DLQ (backbone.dlq): the service whose DLQ it came
# from, and its offset there.
REPLAY_FOR = "x-dlq-replay-for"
REPLAY_OF = "x-dlq-replay-of"


# SQLAlchemy renders statement parameters into an error's text ("[parameters: ...]"); engines
# of backbone.db hide them, this strips them from errors of any other origin too.
_PARAMETERS = re.compile(r"\[parameters: .*?\](?=\n\(Background on this error|\n|\Z)", re.S)


def _scrub(text: str) -> str:
    return _PARAMETERS.sub("[parameters hidden]", text)


@dataclass
class _Work:
    record: ConsumerRecord[Any, Any]
    envelope: Envelope
    payload: EventData | dict[str, Any]  # a dict: an event type the contracts do not define
    handlers: Chain
    replay: bool = False  # republished from this service's DLQ: may take over a dead_lettered row


async def _dispatch(uow: UnitOfWork, items: Sequence[_Work]) -> None:
    """Call handlers in message order. Consecutive events with the same handlers form a run;
    each handler of the run's chain takes the run in turn, a Batched one all at once."""
    i = 0
    while i < len(items):
        chain = items[i].handlers
        j = i + 1
        while j < len(items) and items[j].handlers == chain:
            j += 1
        run = items[i:j]
        for handler in chain:
            if isinstance(handler, Batched):
                # A run of one: what it emits is that event's doing and continues its trace;
                # a longer run's handler names the cause (caused_by) where it matters.
                uow.cause = run[0].envelope if len(run) == 1 else None
                await handler.fn(uow, [(w.envelope, w.payload) for w in run])
            else:
                for w in run:
                    uow.cause = w.envelope  # what it emits continues this event's trace
                    await handler(uow, w.envelope, w.payload)
                uow.cause = None
        i = j


class _Rewind(Exception):
    """The whole batch must be re-read after a pause."""


class EventConsumer:
    """Dispatches a service's incoming events to their handlers (one or several per type)."""

    def __init__(
        self,
        settings: ServiceSettings,
        uow: Callable[[], UnitOfWork],
        handlers: Handlers,
        producer: AIOKafkaProducer,
        unknown: Handler | None = None,
    ) -> None:
        undefined = [t for t in handlers if not is_known(t)]
        if undefined:
            raise ValueError(f"handlers for event types the contracts do not define: {undefined}")
        self.settings = settings
        self.service = settings.service_name
        self.uow = uow
        self.handlers = chains(handlers)
        # Event types the contracts do not define go here, their data unvalidated (audit records
        # them); without it they are skipped.
        self.unknown: Chain | None = (unknown,) if unknown is not None else None
        self.producer = producer
        self._rewind_delay = 0.0  # the last pause after a rewind; 0 after a success

    # -- entry from FastStream ---------------------------------------------------------------
    async def on_batch(self, msg: KafkaMessage) -> None:
        """Handle one fetched batch; commit its offsets only if every message in it was handled
        or dead-lettered. Every exception is caught here: one that escaped would leave the
        consumer's positions past the batch, and the next batch's commit would skip it."""
        raw = msg.raw_message
        records: Sequence[ConsumerRecord[Any, Any]] = raw if isinstance(raw, tuple) else (raw,)
        started = time.perf_counter()
        try:
            await self.process(records)
        except Exception as exc:
            await self._rewind(msg, exc, len(records))
            return
        self._rewind_delay = 0.0
        try:
            await msg.ack()
        except Exception as exc:  # e.g. partitions revoked meanwhile: the new owner re-reads them
            log.warning("offset commit failed; the batch will be read again", error=repr(exc))
        BATCH_SECONDS.labels(self.service).observe(time.perf_counter() - started)

    async def _rewind(self, msg: KafkaMessage, exc: Exception, size: int) -> None:
        """Seek back to the batch's first records and pause, longer each time in a row."""
        fault = exc.__cause__ if isinstance(exc, _Rewind) and exc.__cause__ is not None else exc
        cause = "infrastructure" if isinstance(exc, _Rewind) else "unexpected"
        REWINDS.labels(self.service, cause).inc()
        RETRIES.labels(self.service, "batch").inc()
        delay = self._next_rewind_delay()
        log.warning(
            "batch rewound; retrying after a pause",
            cause=cause,
            error=_scrub(repr(fault))[:2000],
            error_type=type(fault).__name__,
            size=size,
            pause_s=delay,
            exc_info=cause == "unexpected",
        )
        try:
            await msg.nack()
        except Exception as nack_exc:  # revoked partitions are re-read by their new owner
            log.warning("seek back failed", error=repr(nack_exc))
        await asyncio.sleep(delay)

    def _next_rewind_delay(self) -> float:
        first = self.settings.consumer_rewind_backoff_s
        cap = max(first, self.settings.consumer_rewind_backoff_max_s)
        self._rewind_delay = first if self._rewind_delay <= 0 else min(self._rewind_delay * 2, cap)
        return self._rewind_delay

    # -- the work ----------------------------------------------------------------------------
    async def process(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        work: list[_Work] = []
        for record in records:
            item = await self._parse(record)
            if item is not None:
                work.append(item)
        if not work:
            return
        try:
            await self._handle_together(work)
        except _Rewind:
            raise
        except Exception as exc:
            if is_transient(exc):
                raise _Rewind() from exc
            log.warning("batch failed; handling its messages one by one", error=_scrub(repr(exc))[:2000])
            for item in work:
                await self._handle_alone(item)

    # What a message's bytes are validated as; a consumer of another envelope shape sets its own.
    envelope_model: type[Envelope] = Envelope

    async def _open(self, record: ConsumerRecord[Any, Any]) -> tuple[Envelope, str | None] | None:
        """The message's envelope and the service a DLQ replay is for; None when it is
        dead-lettered (not an envelope) or a replay meant for another service."""
        # One message at a time, from its bytes: validating a poll's bytes as one JSON array
        # (TypeAdapter(list[Envelope])) measured no cheaper per message (~15 µs either way); the
        # cost is building ``data``, which audit and notifications need as the raw dict.
        try:
            envelope = self.envelope_model.model_validate_json(record.value or b"")
        except ValidationError as exc:
            await self._dead_letter(record, exc, attempts=1)
            return None
        replay_for = _header(record, REPLAY_FOR)
        if replay_for is not None and replay_for != self.service:
            # Republished from another service's DLQ: this service had this event already.
            SKIPPED.labels(self.service, "replay_for_other").inc()
            return None
        return envelope, replay_for

    async def _parse(self, record: ConsumerRecord[Any, Any]) -> _Work | None:
        opened = await self._open(record)
        if opened is None:
            return None
        envelope, replay_for = opened
        if not is_known(envelope.type) and self.unknown is not None:
            return _Work(record, envelope, envelope.data, self.unknown, replay=replay_for is not None)
        if not is_known(envelope.type):
            SKIPPED.labels(self.service, "unknown_type").inc()
            # Debug only: a newer producer's events can arrive by the thousand.
            log.debug("unknown event type skipped", type=envelope.type, id=str(envelope.id))
            return None
        handlers = self.handlers.get(envelope.type)
        if handlers is None:
            SKIPPED.labels(self.service, "not_handled").inc()
            return None
        try:
            payload = envelope.payload()
        except ValidationError as exc:
            await self._dead_letter(record, exc, attempts=1)
            return None
        return _Work(record, envelope, payload, handlers, replay=replay_for is not None)

    async def _claim(self, uow: UnitOfWork, items: Iterable[_Work], outcome: str = "handled") -> set[UUID]:
        """Record the event ids in the inbox; returns those to handle now: not seen before, or
        dead-lettered before and replayed from the DLQ now. A concurrent consumer inserting the
        same id waits on the unique index until this commits."""
        rows: dict[UUID, str] = {}
        revive: dict[UUID, str] = {}
        for i in items:
            (revive if i.replay and outcome == "handled" else rows)[i.envelope.id] = i.envelope.type
        fresh: set[UUID] = set()
        for statement, group in ((_CLAIM, rows), (_REVIVE, revive)):
            if not group:
                continue
            # The ids and types as two array parameters of one cached statement: the same SQL for
            # any batch size, no per-row parameter rendering (docs/adr/0002-outbox.md).
            result = await uow.session.execute(
                statement, {"ids": list(group), "types": list(group.values()), "outcome": outcome}
            )
            fresh.update(result.scalars())
        total = len(rows) + len(revive)
        if len(fresh) < total:
            DUPLICATES.labels(self.service).inc(total - len(fresh))
        return fresh

    async def _handle_together(self, work: list[_Work]) -> None:
        async with self.uow() as uow:
            with self._traced(uow, work):
                fresh = await self._claim(uow, work)
                todo = []
                for item in work:
                    if item.envelope.id in fresh:
                        fresh.discard(item.envelope.id)  # a copy later in the same batch is a duplicate
                        todo.append(item)
                await _dispatch(uow, todo)
                await uow.commit()
        for item in work:
            HANDLED.labels(self.service, item.envelope.type).inc()

    def _traced(self, uow: UnitOfWork, work: Sequence[_Work]) -> contextlib.AbstractContextManager[None]:
        """A span per sampled message, child of its trace (docs/architecture.md "Tracing")."""
        return telemetry.consuming(
            self.service, uow.traces, ((w.envelope.id, w.envelope.type, w.record.headers) for w in work)
        )

    async def _handle_alone(self, item: _Work) -> None:
        attempts = self.settings.consumer_max_attempts
        delay = self.settings.consumer_retry_backoff_s
        for attempt in range(1, attempts + 1):
            try:
                async with self.uow() as uow:
                    with self._traced(uow, [item]):
                        if await self._claim(uow, [item]):
                            await _dispatch(uow, [item])
                        await uow.commit()
                HANDLED.labels(self.service, item.envelope.type).inc()
                return
            except Exception as exc:
                if is_transient(exc):
                    raise _Rewind() from exc
                if attempt == attempts:
                    await self._dead_letter(item.record, exc, attempts=attempt)
                    await self._remember_dead(item)
                    return
                RETRIES.labels(self.service, "message").inc()
                log.warning(
                    "event failed; retrying",
                    type=item.envelope.type,
                    attempt=attempt,
                    error=_scrub(repr(exc))[:2000],
                )
                await asyncio.sleep(delay)
                delay *= 2

    async def _remember_dead(self, item: _Work) -> None:
        """So a redelivery of a dead-lettered event is not tried (and dead-lettered) again."""
        try:
            async with self.uow() as uow:
                await self._claim(uow, [item], outcome="dead_lettered")
                await uow.commit()
        except Exception as exc:
            if is_transient(exc):
                raise _Rewind() from exc
            raise

    async def _dead_letter(
        self, record: ConsumerRecord[Any, Any], exc: BaseException, *, attempts: int
    ) -> None:
        headers = list(record.headers or ()) + [
            ("x-dlq-error", _scrub(repr(exc))[:2000].encode()),
            ("x-dlq-error-type", type(exc).__name__.encode()),
            ("x-dlq-traceback", _scrub("".join(traceback.format_exception(exc)))[-4000:].encode()),
            ("x-dlq-attempts", str(attempts).encode()),
            ("x-dlq-original-topic", record.topic.encode()),
            ("x-dlq-original-partition", str(record.partition).encode()),
            ("x-dlq-original-offset", str(record.offset).encode()),
            ("x-dlq-consumer", self.service.encode()),
        ]
        try:
            await self.producer.send_and_wait(
                self.settings.dlq_topic, value=record.value, key=record.key, headers=headers
            )
        except Exception as send_exc:
            raise _Rewind() from send_exc
        DEAD.labels(self.service).inc()
        log.error(
            "message dead-lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=_scrub(repr(exc))[:2000],
        )


def _header(record: ConsumerRecord[Any, Any], name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return bytes(value).decode(errors="replace")
    return None


# INSERT ... SELECT FROM unnest(ids, types): a batch's inbox rows in one statement.
_CLAIMED = (
    func.unnest(bindparam("ids", type_=ARRAY(PG_UUID(as_uuid=True))), bindparam("types", type_=ARRAY(String)))
    .table_valued("event_id", "event_type")
    .render_derived()
)
_CLAIM_ROWS = insert(INBOX).from_select(
    ["event_id", "event_type", "outcome"],
    select(_CLAIMED.c.event_id, _CLAIMED.c.event_type, cast(bindparam("outcome"), String)),
)
_CLAIM = _CLAIM_ROWS.on_conflict_do_nothing(index_elements=["event_id"]).returning(INBOX.c.event_id)
# A replayed event takes over its dead_lettered row (and only such a row: one handled already
# is not handled twice, however often it is replayed).
_REVIVE = _CLAIM_ROWS.on_conflict_do_update(
    index_elements=["event_id"],
    set_={"outcome": "handled", "received_at": func.now()},
    where=INBOX.c.outcome == "dead_lettered",
).returning(INBOX.c.event_id)


def _raw(msg: Any) -> Any:
    """Keep the bytes: parsing and validation happen in EventConsumer, where a bad message
    can be dead-lettered instead of failing inside the framework."""
    return msg.body


def subscribe(
    broker: KafkaBroker,
    consumer: EventConsumer,
    topics: Sequence[str],
    *,
    description: str,
    group_id: str | None = None,
    max_records: int | None = None,
    title: str | None = None,
) -> None:
    """One batch subscriber per service over all the topics it reads, in the service's group
    (a service's own stream, e.g. intake's accepted alerts, may use its own group and poll size)."""
    settings = consumer.settings

    @broker.subscriber(
        *[settings.topic(t) for t in topics],
        group_id=group_id or settings.group_id,
        batch=True,
        max_records=max_records or settings.consumer_max_records,
        batch_timeout_ms=settings.consumer_batch_timeout_ms,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        decoder=_raw,
        title=title or f"{settings.service_name}:events",
        description=description,
    )
    async def consume_events(body: list[bytes], msg: KafkaMessage) -> None:
        await consumer.on_batch(msg)
