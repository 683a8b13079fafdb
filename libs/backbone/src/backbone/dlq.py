"""A service's dead-letter topic: read and replay it (``incidentctl dlq list|replay SERVICE``).

``read`` shows what is there (offset, event type and id, error, attempts, time). ``replay``
republishes messages to the topic they came from, with their key and original headers and the
header ``x-dlq-replay-for: <service>``: that service handles the event again even though its
inbox says ``dead_lettered`` (an event it handled meanwhile is still skipped), and every other
service on the topic skips it, having had it already. Replaying twice has one effect. See
docs/adr/0009-fault-classification-replay-and-parking.md.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from pydantic import ValidationError

from backbone.consumer import REPLAY_FOR, REPLAY_OF
from contracts.envelope import Envelope


@dataclass(frozen=True)
class DeadLetter:
    offset: int
    partition: int
    time: str
    event_type: str | None
    event_id: str | None
    error_type: str | None
    error: str | None
    attempts: int | None
    original_topic: str | None
    original_offset: int | None
    replay_of: int | None  # set when this message had itself been replayed before


def _headers(record: ConsumerRecord[Any, Any]) -> dict[str, str]:
    return {k: bytes(v).decode(errors="replace") for k, v in record.headers or ()}


def _int(text: str | None) -> int | None:
    return int(text) if text is not None and text.lstrip("-").isdigit() else None


def describe(record: ConsumerRecord[Any, Any]) -> DeadLetter:
    headers = _headers(record)
    try:
        envelope: Envelope | None = Envelope.model_validate_json(record.value or b"")
    except ValidationError:
        envelope = None  # dead-lettered because it is not an envelope at all
    return DeadLetter(
        offset=record.offset,
        partition=record.partition,
        time=datetime.fromtimestamp(record.timestamp / 1000, UTC).isoformat(),
        event_type=envelope.type if envelope else None,
        event_id=str(envelope.id) if envelope else None,
        error_type=headers.get("x-dlq-error-type"),
        error=headers.get("x-dlq-error"),
        attempts=_int(headers.get("x-dlq-attempts")),
        original_topic=headers.get("x-dlq-original-topic"),
        original_offset=_int(headers.get("x-dlq-original-offset")),
        replay_of=_int(headers.get(REPLAY_OF)),
    )


async def read(bootstrap_servers: str, topic: str) -> list[ConsumerRecord[Any, Any]]:
    """Every record on the topic, from the beginning up to its end when called (no group)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            raise LookupError(f"topic {topic!r} does not exist")
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord[Any, Any]] = []
        for tp in partitions:
            while await consumer.position(tp) < ends[tp]:
                batch = await consumer.getmany(tp, timeout_ms=1000)
                records.extend(r for r in batch.get(tp, []) if r.offset < ends[tp])
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        await consumer.stop()


async def replay(
    bootstrap_servers: str, dlq_topic: str, service: str, offsets: Collection[int] | None = None
) -> list[DeadLetter]:
    """Republish the DLQ's messages at ``offsets`` (all if None) to their original topics."""
    records = [r for r in await read(bootstrap_servers, dlq_topic) if offsets is None or r.offset in offsets]
    missing = set(offsets or ()) - {r.offset for r in records}
    if missing:
        raise LookupError(f"no message at offset(s) {sorted(missing)} of {dlq_topic}")
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, enable_idempotence=True)
    await producer.start()
    try:
        replayed = []
        for record in records:
            topic = _headers(record).get("x-dlq-original-topic")
            if not topic:
                raise LookupError(f"message at offset {record.offset} does not name its original topic")
            # The original headers (trace context, content type), none of the DLQ's own.
            headers = [(k, v) for k, v in record.headers or () if not k.startswith("x-dlq-")]
            headers += [(REPLAY_FOR, service.encode()), (REPLAY_OF, str(record.offset).encode())]
            await producer.send_and_wait(topic, value=record.value, key=record.key, headers=headers)
            replayed.append(describe(record))
        return replayed
    finally:
        await producer.stop()
