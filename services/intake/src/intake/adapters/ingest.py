"""The ``intake.alerts`` topic (docs/adr/0013-durable-fast-ingest.md): the request path appends
accepted batches to it (idempotent producer, acks=all, one message per partition touched), and
intake's consumer reads them back in large polls through backbone's EventConsumer (inbox by
message id, one transaction per poll, offsets after commit, poison to the DLQ)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from aiokafka import AIOKafkaProducer, ConsumerRecord
from pydantic_core import to_json

from backbone import telemetry
from backbone.consumer import Batched, EventConsumer, _Work
from backbone.settings import ServiceSettings
from backbone.uow import UnitOfWork
from intake.domain.ingest import RECEIVED, AlertBatch, Received

# Under Kafka's default 1 MiB limit on a message, with room for headers and the record batch.
MAX_MESSAGE_BYTES = 900_000


def encode(message_id: UUID, tenant_id: UUID, batch: AlertBatch, time: datetime) -> bytes:
    """The message: a CloudEvents envelope whose data is the batch (``Received``)."""
    return to_json(
        {
            "specversion": "1.0",
            "id": message_id,
            "type": RECEIVED,
            "source": "intake",
            "time": time,
            "subject": batch.integration_id,
            "tenantid": tenant_id,
            "datacontenttype": "application/json",
            "data": batch,
        }
    )


def _chunks(message_id: UUID, tenant_id: UUID, batch: AlertBatch) -> list[bytes]:
    """One message, or several when it would be too large (halves, in order; ids derived from
    the first, so a retried request with an Idempotency-Key makes the same ones)."""
    out: list[bytes] = []
    pending = [batch]
    while pending:
        part = pending.pop(0)
        mid = message_id if not out else uuid.uuid5(message_id, str(len(out)))
        value = encode(mid, tenant_id, part, part.received_at)
        if len(value) > MAX_MESSAGE_BYTES and len(part.alerts) > 1:
            half = len(part.alerts) // 2
            pending[:0] = [
                part.model_copy(update={"alerts": part.alerts[:half]}),
                part.model_copy(update={"alerts": part.alerts[half:]}),
            ]
            continue
        out.append(value)
    return out


async def partitions(producer: AIOKafkaProducer, topic: str) -> int:
    """The topic's partition count (from the producer's metadata, fetched once)."""
    return len(await producer.partitions_for(topic))


async def append(
    producer: AIOKafkaProducer,
    topic: str,
    tenant_id: UUID,
    parts: Sequence[tuple[int, UUID, AlertBatch]],
    *,
    timeout_s: float,
) -> None:
    """Append each (partition, message id, batch) and wait until the broker has acknowledged
    every one (acks=all: on every in-sync replica). All are sent before any is awaited, so a
    request waits one round trip however many partitions it touches."""
    kafka_headers = [("ce_type", RECEIVED.encode())]
    traceparent = telemetry.current_traceparent()  # a sampled request's trace goes on in the consumer
    if traceparent is not None:
        kafka_headers.append((telemetry.TRACEPARENT, traceparent.encode()))

    async def send_all() -> None:
        acks = []
        for partition, message_id, batch in parts:
            key = str(batch.integration_id).encode()
            for value in _chunks(message_id, tenant_id, batch):
                sent = await producer.send(topic, value, key, partition=partition, headers=kafka_headers)
                acks.append(sent)
        await asyncio.gather(*acks)

    await asyncio.wait_for(send_all(), timeout_s)


class BatchConsumer(EventConsumer):
    """Backbone's consumer over ``intake.alerts``: each message is parsed as ``Received`` (the
    envelope and its alerts in one pass) and every message of a poll goes to one Batched handler,
    in one transaction. A message that is not a valid batch goes to the DLQ at once."""

    envelope_model = Received

    def __init__(
        self,
        settings: ServiceSettings,
        uow: Callable[[], UnitOfWork],
        handler: Batched,
        producer: AIOKafkaProducer,
    ) -> None:
        super().__init__(settings, uow, {}, producer)
        self.chain = (handler,)

    async def _parse(self, record: ConsumerRecord[Any, Any]) -> _Work | None:
        opened = await self._open(record)
        if opened is None:
            return None
        envelope, replay_for = opened
        # The payload is the batch itself (not an EventData): only ``ingest`` reads it.
        batch: Any = envelope.data
        return _Work(record, envelope, batch, self.chain, replay=replay_for is not None)
