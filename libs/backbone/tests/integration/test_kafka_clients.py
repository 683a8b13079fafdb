"""The platform's Kafka client (aiokafka) against the pinned broker (docs/adr/0001-kafka-version.md).

Everything here runs over a real broker: Kafka 4 removed old protocol versions (KIP-896)
and aiokafka's own CI does not cover 4.x, so these tests are the evidence that the
calls the platform relies on still work. Topic and group names are unique per run, so
the module can be rerun against the same long-lived broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.protocol.api import Response

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

PARTITIONS = 3
TOPIC_ALREADY_EXISTS = 36  # Kafka protocol error code


def _unique(prefix: str) -> str:
    return f"it-backbone-{prefix}-{uuid.uuid4().hex[:12]}"


async def _wait_until(predicate: Callable[[], bool], what: str, limit_s: float = 20.0) -> None:
    """Poll a cheap condition with a bound; fail with a message instead of hanging."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {limit_s}s waiting for {what}")
        await asyncio.sleep(0.05)


async def _topic_ready(admin: AIOKafkaAdminClient, topic: str) -> bool:
    [meta] = await admin.describe_topics([topic])
    partitions = meta.get("partitions") or []
    return (
        meta["error_code"] == 0
        and len(partitions) == PARTITIONS
        and all(p["error_code"] == 0 and p["leader"] >= 0 for p in partitions)
    )


async def _create_topic(admin: AIOKafkaAdminClient, topic: str) -> Response:
    response = await admin.create_topics(
        [NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)], timeout_ms=10_000
    )
    # Creation returns once the controller committed it; wait until the broker serves it
    # too, so producers and group assignments see all partitions right away.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while not await _topic_ready(admin, topic):
        assert loop.time() < deadline, f"topic {topic} has no leaders after 15s"
        await asyncio.sleep(0.1)
    return response


async def _take(
    consumer: AIOKafkaConsumer, into: list[ConsumerRecord], enough: Callable[[], bool], what: str, **poll: Any
) -> None:
    """Poll ``consumer`` into ``into`` until ``enough()``; fail with ``what`` after 20 s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while not enough():
        assert loop.time() < deadline, what
        for batch in (await consumer.getmany(timeout_ms=500, **poll)).values():
            into.extend(batch)


def _tps(topic: str) -> set[TopicPartition]:
    return {TopicPartition(topic, p) for p in range(PARTITIONS)}


@pytest.fixture
async def admin(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap, request_timeout_ms=10_000)
    try:
        await asyncio.wait_for(client.start(), 15)
    except Exception as exc:  # a clear message beats a stack of connection retries
        pytest.fail(
            f"no Kafka broker answers at {kafka_bootstrap} ({exc!r}); "
            "run `bash deploy/local/infra.sh up && source .local/infra.env`"
        )
    yield client
    await client.close()


@pytest.fixture
async def topic(admin: AIOKafkaAdminClient) -> AsyncIterator[str]:
    name = _unique("topic")
    await _create_topic(admin, name)
    yield name
    with contextlib.suppress(Exception):  # cleanup only; unique names make leftovers harmless
        await admin.delete_topics([name])


@contextlib.asynccontextmanager
async def _producer(bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    # enable_idempotence=True is what the platform's outbox relay uses (it implies acks=all).
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


def _consumer(bootstrap: str, group_id: str | None) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        # Short heartbeats so members notice a rebalance quickly; the session timeout
        # must stay >= the broker's group.min.session.timeout.ms (6 s).
        heartbeat_interval_ms=300,
        session_timeout_ms=10_000,
    )


async def test_admin_creates_topic_with_three_partitions(
    admin: AIOKafkaAdminClient, kafka_bootstrap: str
) -> None:
    name = _unique("admin")
    try:
        response = await _create_topic(admin, name)
        assert [(t[0], t[1]) for t in response.topic_errors] == [(name, 0)]

        [meta] = await admin.describe_topics([name])
        assert sorted(p["partition"] for p in meta["partitions"]) == [0, 1, 2]
        assert name in await admin.list_topics()

        # Creating it again is reported, not silently accepted.
        again = await admin.create_topics([NewTopic(name, num_partitions=PARTITIONS, replication_factor=1)])
        assert again.topic_errors[0][1] == TOPIC_ALREADY_EXISTS

        cluster = await admin.describe_cluster()
        assert cluster["brokers"], "describe_cluster returned no brokers"
    finally:
        with contextlib.suppress(Exception):
            await admin.delete_topics([name])


async def test_idempotent_producer_keeps_per_key_order(kafka_bootstrap: str, topic: str) -> None:
    keys = [f"incident-{i}" for i in range(6)]
    per_key = 25
    async with _producer(kafka_bootstrap) as producer:
        # The transaction manager holds the producer id the broker handed out
        # (InitProducerId); -1 would mean idempotence silently did not engage.
        txn = producer._txn_manager
        assert txn is not None
        # Interleave keys and send without awaiting each delivery, so several batches are
        # in flight at once: the case where ordering could break without idempotence.
        futures = []
        for seq in range(per_key):
            for key in keys:
                futures.append(await producer.send(topic, key=key.encode(), value=f"{key}:{seq}".encode()))
        metadata = await asyncio.gather(*futures)
        assert txn.producer_id >= 0

    sent: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for i, meta in enumerate(metadata):
        sent[keys[i % len(keys)]].append((meta.partition, meta.offset))
    for key, placements in sent.items():
        assert len({p for p, _ in placements}) == 1, f"{key} spread over partitions"
        offsets = [o for _, o in placements]
        assert offsets == sorted(offsets), f"{key} acknowledged out of order"
    assert len({p for placements in sent.values() for p, _ in placements}) >= 2, "keys not spread"

    # Read it all back from the log (no group) and check what a consumer sees.
    consumer = _consumer(kafka_bootstrap, group_id=None)
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        consumer.assign(sorted(_tps(topic)))
        await consumer.seek_to_beginning()
        await _take(consumer, records, lambda: len(records) >= len(keys) * per_key, "the whole log")
    finally:
        await consumer.stop()

    assert len(records) == len(keys) * per_key
    seen: dict[str, list[int]] = defaultdict(list)
    for record in records:
        key, seq = record.value.decode().split(":")
        assert record.key == key.encode()
        seen[key].append(int(seq))
    assert {k: v for k, v in seen.items()} == {k: list(range(per_key)) for k in keys}


async def test_group_resumes_after_committed_offset(kafka_bootstrap: str, topic: str) -> None:
    total = 30
    async with _producer(kafka_bootstrap) as producer:
        await asyncio.gather(
            *[
                await producer.send(topic, key=f"k{i % 7}".encode(), value=f"m{i}".encode())
                for i in range(total)
            ]
        )
    group = _unique("group")

    # First member: process part of the log, commit exactly that, leave.
    first: list[ConsumerRecord] = []
    c1 = _consumer(kafka_bootstrap, group)
    await c1.start()
    try:
        c1.subscribe([topic])
        await _take(c1, first, lambda: len(first) >= 12, "first consumer got too few records", max_records=4)
        await c1.commit()  # commits the positions after the records handed out above
        assert c1.assignment() == _tps(topic)
        committed = {tp: await c1.committed(tp) for tp in _tps(topic)}
    finally:
        await c1.stop()

    last_seen: dict[int, int] = {}
    for record in first:
        last_seen[record.partition] = max(last_seen.get(record.partition, -1), record.offset)
    for tp, offset in committed.items():
        assert (offset or 0) == last_seen.get(tp.partition, -1) + 1, f"unexpected commit for {tp}"

    # A new member of the same group resumes after the committed offsets.
    second: list[ConsumerRecord] = []
    c2 = _consumer(kafka_bootstrap, group)
    await c2.start()
    try:
        c2.subscribe([topic])
        rest = total - len(first)
        await _take(c2, second, lambda: len(second) >= rest, "second consumer did not get the rest")
        # One more poll: anything now would be a duplicate of what c1 committed.
        for batch in (await c2.getmany(timeout_ms=300)).values():
            second.extend(batch)
    finally:
        await c2.stop()

    first_offset: dict[int, int] = {}
    for record in second:
        first_offset.setdefault(record.partition, record.offset)
    for partition, offset in first_offset.items():
        assert offset == (committed[TopicPartition(topic, partition)] or 0), f"partition {partition}"
    positions_1 = {(r.partition, r.offset) for r in first}
    positions_2 = {(r.partition, r.offset) for r in second}
    assert not positions_1 & positions_2, "committed records were delivered again"
    assert sorted(r.value for r in first + second) == sorted(f"m{i}".encode() for i in range(total))


async def test_rebalance_shares_partitions_then_hands_them_over(
    kafka_bootstrap: str, topic: str, admin: AIOKafkaAdminClient
) -> None:
    group = _unique("group")
    all_tps = _tps(topic)
    seen: list[tuple[str, int, int, bytes]] = []  # (member, partition, offset, value)

    async def consume(name: str, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> None:
        # At-least-once loop as the services run it: handle the batch, then commit.
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                seen.extend((name, r.partition, r.offset, r.value) for r in records)
            if batches:
                await consumer.commit()

    async def produce(batch: str) -> set[bytes]:
        values = {f"{batch}-{p}-{i}".encode() for p in range(PARTITIONS) for i in range(10)}
        async with _producer(kafka_bootstrap) as producer:
            await asyncio.gather(
                *[
                    await producer.send(topic, value=v, partition=int(v.decode().split("-")[1]))
                    for v in sorted(values)
                ]
            )
        return values

    async def committed_offsets() -> dict[TopicPartition, int]:
        offsets = await admin.list_consumer_group_offsets(group, partitions=sorted(all_tps))
        return {tp: (meta.offset if meta is not None else -1) for tp, meta in offsets.items()}

    async def wait_committed(expected: int) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while any(o != expected for o in (await committed_offsets()).values()):
            assert loop.time() < deadline, f"group did not commit up to {expected}"
            await asyncio.sleep(0.1)

    c1, c2 = _consumer(kafka_bootstrap, group), _consumer(kafka_bootstrap, group)
    stop1, stop2 = asyncio.Event(), asyncio.Event()
    await c1.start()
    await c2.start()
    tasks: list[asyncio.Task[None]] = []
    try:
        c1.subscribe([topic])
        c2.subscribe([topic])
        tasks = [
            asyncio.create_task(consume("c1", c1, stop1)),
            asyncio.create_task(consume("c2", c2, stop2)),
        ]

        # (1) Two members share the three partitions: disjoint, both non-empty, covering all.
        def shared() -> bool:
            a, b = c1.assignment(), c2.assignment()
            return bool(a) and bool(b) and not (a & b) and (a | b) == all_tps

        await _wait_until(shared, "both members to hold disjoint shares of all partitions")
        owner = {tp.partition: "c1" for tp in c1.assignment()}
        owner |= {tp.partition: "c2" for tp in c2.assignment()}

        batch1 = await produce("b1")
        await _wait_until(lambda: {v for *_, v in seen} >= batch1, "batch 1 to be consumed")
        assert all(owner[partition] == member for member, partition, _, _ in seen), "read outside own share"
        assert {member for member, *_ in seen} == {"c1", "c2"}
        await wait_committed(10)

        # (2) c2 leaves (LeaveGroup on stop); c1 must take over every partition.
        stop2.set()
        await tasks[1]
        await c2.stop()
        await _wait_until(lambda: c1.assignment() == all_tps, "c1 to own all partitions", limit_s=20)

        batch2 = await produce("b2")
        await _wait_until(lambda: {v for *_, v in seen} >= batch1 | batch2, "batch 2 to be consumed")
        await wait_committed(20)
        # A short grace poll, so a late duplicate would be caught below.
        await asyncio.sleep(0.5)
    finally:
        stop1.set()
        stop2.set()
        for task in tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 5)
        await c1.stop()
        await c2.stop()

    # No loss and, in this orderly hand-over (everything committed before c2 left), no duplicates.
    values = [v for *_, v in seen]
    assert set(values) == batch1 | batch2
    assert len(values) == len(batch1 | batch2), "records delivered twice"
    assert {v for member, _, _, v in seen if v in batch2} == batch2
    assert all(member == "c1" for member, _, _, v in seen if v in batch2)
