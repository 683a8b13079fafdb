"""Delivery guarantees over the real broker and database (docs/architecture.md "Delivery
guarantees"): the outbox survives a crash between commit and publish; a redelivered event has
one effect; a poison message goes to the DLQ while later messages on the same partition are
still handled; a transient fault is retried without dead-lettering."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from backbone.app import Service, create_app
from backbone.db import Database, TransientError
from backbone.outbox import OutboxRelay, make_producer
from backbone.tables import INBOX, OUTBOX
from backbone.testing import Stack, eventually, serving, unique
from backbone.uow import UnitOfWork
from contracts.enums import Role
from contracts.envelope import Envelope
from contracts.events import TenantCreated, UserRegistered
from contracts.topics import TOPIC_SPECS, Topic, dlq_topic
from incidentctl import cli
from sla.config import Settings as SlaSettings

pytestmark = pytest.mark.integration

SERVICE = "sla"  # a service whose schema holds only the delivery tables: a clean test bed


@dataclass
class Bed:
    """A service (the sla schema) consuming directory.events, on a topic prefix of its own."""

    stack: Stack
    prefix: str
    settings: SlaSettings
    db: Database
    calls: dict[str, int] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)  # slugs whose handling raises until removed
    # Run inside the handler's transaction first, to inject database faults.
    fault: Callable[[UnitOfWork, TenantCreated], Awaitable[None]] | None = None

    def topic(self, logical: str) -> str:
        return self.prefix + logical

    async def effects(self, key: UUID) -> int:
        """The handler's effect is one outbox row keyed by the incoming tenant id."""
        async with self.db.sessions() as s:
            return int(
                await s.scalar(select(func.count()).select_from(OUTBOX).where(OUTBOX.c.key == str(key))) or 0
            )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """One run of the service: consumers, relay; stopping it is a clean shutdown."""

        async def handler(uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
            await handle_tenant(self, uow, envelope, event)

        app = create_app(
            Service(
                settings=self.settings,
                title="test bed",
                description="delivery test bed",
                handlers={TenantCreated.event_type: handler},
                subscribes=[Topic.DIRECTORY_EVENTS],
            )
        )
        async with serving(app):
            yield

    async def inbox_outcome(self, event_id: UUID) -> str | None:
        async with self.db.sessions() as s:
            return await s.scalar(select(INBOX.c.outcome).where(INBOX.c.event_id == event_id))


async def handle_tenant(bed: Bed, uow: UnitOfWork, envelope: Envelope, event: TenantCreated) -> None:
    bed.calls[event.slug] = bed.calls.get(event.slug, 0) + 1
    if bed.fault is not None:
        await bed.fault(uow, event)
    if event.slug in bed.broken:
        raise ValueError(f"cannot handle {event.slug} yet")
    if event.slug.startswith("poison"):
        raise ValueError(f"cannot handle {event.slug}")
    if event.slug.startswith("flaky") and bed.calls[event.slug] <= 2:
        raise TransientError("database hiccup")
    if event.slug.startswith("slow-pair"):
        # Long enough (about 12 s for one replica alone) that a second one joining mid-stream
        # is surely assigned partitions before the first runs out of work.
        await asyncio.sleep(0.1)
    elif event.slug.startswith("slow"):
        await asyncio.sleep(0.05)
    uow.emit(
        UserRegistered(user_id=event.tenant_id, tenant_id=event.tenant_id, role=Role.EXECUTIVE),
        tenant_id=event.tenant_id,
        caused_by=envelope,
    )


async def _topics(stack: Stack, name: str) -> str:
    """A topic prefix of its own with the topics the bed reads and dead-letters to."""
    prefix = unique(name) + "."
    specs = tuple(s for s in TOPIC_SPECS if s.name in (Topic.DIRECTORY_EVENTS.value, dlq_topic(SERVICE)))
    await stack.create_topics(prefix, specs)
    return prefix


async def _produce(producer: AIOKafkaProducer, prefix: str, events: list[Envelope]) -> None:
    """The events on the prefix's directory.events, keyed by subject, as the relay sends them."""
    topic = prefix + Topic.DIRECTORY_EVENTS
    for e in events:
        await producer.send(topic, e.model_dump_json().encode(), key=e.subject.encode())
    await producer.flush()


@pytest.fixture
async def bed(stack: Stack) -> AsyncIterator[Bed]:
    prefix = await _topics(stack, "bed_")
    settings = stack.settings(
        SlaSettings,
        kafka_topic_prefix=prefix,
        consumer_max_attempts=3,
        consumer_rewind_backoff_s=0.05,
        consumer_rewind_backoff_max_s=0.2,
    )
    db = Database.connect(settings.database_url, SERVICE, pool_size=2)
    b = Bed(stack, prefix, settings, db)

    try:
        async with b.running():
            yield b
    finally:
        await db.dispose()
        await stack.delete_topics(prefix)


def tenant_event(slug: str, tenant_id: UUID | None = None) -> Envelope:
    tid = tenant_id or uuid4()
    return Envelope.wrap(TenantCreated(tenant_id=tid, slug=slug, name=slug), source="test", tenant_id=tid)


@pytest.fixture
async def producer(stack: Stack) -> AsyncIterator[AIOKafkaProducer]:
    p = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers, enable_idempotence=True)
    await p.start()
    try:
        yield p
    finally:
        await p.stop()


async def read_all(bootstrap: str, topic: str, *, idle: float = 1.5) -> list[Any]:
    """Every record on the topic, from the beginning, until nothing new arrives for ``idle`` s."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or set())]
        if not partitions:
            await consumer._client.force_metadata_update()  # first use of the topic
            partitions = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or set())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list[Any] = []
        while True:
            batch = await consumer.getmany(timeout_ms=int(idle * 1000))
            if not batch:
                return records
            for part in batch.values():
                records.extend(part)
    finally:
        await consumer.stop()


async def test_redelivered_event_has_one_effect(bed: Bed, producer: AIOKafkaProducer) -> None:
    event = tenant_event("twice")
    raw, key = event.model_dump_json().encode(), event.subject.encode()
    topic = bed.topic(Topic.DIRECTORY_EVENTS)
    # Two copies back to back (likely one batch), then a third after the first was handled.
    await producer.send_and_wait(topic, raw, key=key)
    await producer.send_and_wait(topic, raw, key=key)
    await eventually(lambda: bed.effects(event.payload().tenant_id), what="first effect")  # type: ignore[attr-defined]
    await producer.send_and_wait(topic, raw, key=key)
    marker = tenant_event("after-copies")
    await producer.send_and_wait(topic, marker.model_dump_json().encode(), key=key)
    await eventually(lambda: bed.effects(marker.payload().tenant_id), what="marker handled")  # type: ignore[attr-defined]

    assert await bed.effects(event.payload().tenant_id) == 1  # type: ignore[attr-defined]
    assert bed.calls["twice"] == 1
    assert await bed.inbox_outcome(event.id) == "handled"


async def test_poison_goes_to_dlq_and_partition_keeps_flowing(bed: Bed, producer: AIOKafkaProducer) -> None:
    topic = bed.topic(Topic.DIRECTORY_EVENTS)
    key = b"same-key-same-partition"
    before, after, poison = tenant_event("before"), tenant_event("after"), tenant_event("poison-1")
    bad_data = Envelope.model_validate({**tenant_event("x").model_dump(mode="json"), "data": {"slug": 5}})
    sent = [
        await producer.send_and_wait(topic, before.model_dump_json().encode(), key=key),
        await producer.send_and_wait(topic, b"{not json", key=key, headers=[("origin", b"test")]),
        await producer.send_and_wait(topic, bad_data.model_dump_json().encode(), key=key),
        await producer.send_and_wait(topic, poison.model_dump_json().encode(), key=key),
        await producer.send_and_wait(topic, after.model_dump_json().encode(), key=key),
    ]
    assert len({m.partition for m in sent}) == 1

    await eventually(lambda: bed.effects(after.payload().tenant_id), what="the message after the poison")  # type: ignore[attr-defined]
    assert await bed.effects(before.payload().tenant_id) == 1  # type: ignore[attr-defined]
    assert bed.calls["poison-1"] == 1 + 3  # once in its batch, then consumer_max_attempts alone
    assert await bed.inbox_outcome(poison.id) == "dead_lettered"

    dead = await read_all(bed.stack.kafka_bootstrap_servers, bed.topic(dlq_topic(SERVICE)))
    assert [r.offset for r in dead] == [0, 1, 2]
    headers = [dict(r.headers) for r in dead]
    assert [int(h["x-dlq-original-offset"]) for h in headers] == [m.offset for m in sent[1:4]]
    assert [h["x-dlq-error-type"] for h in headers] == [b"ValidationError", b"ValidationError", b"ValueError"]
    assert headers[0]["origin"] == b"test"  # original headers kept
    assert dead[0].value == b"{not json" and dead[0].key == key
    assert b"cannot handle poison-1" in headers[2]["x-dlq-error"]

    # Offsets are committed past everything, poison included.
    partition = TopicPartition(topic, sent[0].partition)

    async def committed() -> int | None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bed.stack.kafka_bootstrap_servers, group_id=bed.settings.group_id
        )
        await consumer.start()
        try:
            offset = await consumer.committed(partition)
            # The relay also publishes the handler's own events to this topic, so the partition's
            # end can lie past our last message: the group must have committed up to that end.
            end = (await consumer.end_offsets([partition]))[partition]
            return offset if offset is not None and offset > sent[-1].offset and offset == end else None
        finally:
            await consumer.stop()

    await eventually(committed, what="the group's committed offset to pass the last message")


async def test_transient_fault_is_retried_not_dead_lettered(bed: Bed, producer: AIOKafkaProducer) -> None:
    flaky = tenant_event("flaky-1")
    await producer.send_and_wait(
        bed.topic(Topic.DIRECTORY_EVENTS), flaky.model_dump_json().encode(), key=flaky.subject.encode()
    )
    await eventually(lambda: bed.effects(flaky.payload().tenant_id), what="the flaky event's effect")  # type: ignore[attr-defined]
    assert bed.calls["flaky-1"] == 3  # two transient failures (batch rewound each time), then success
    assert await bed.effects(flaky.payload().tenant_id) == 1  # type: ignore[attr-defined]
    assert await read_all(bed.stack.kafka_bootstrap_servers, bed.topic(dlq_topic(SERVICE)), idle=0.5) == []


async def test_shutdown_mid_stream_loses_nothing_and_doubles_nothing(
    stack: Stack, producer: AIOKafkaProducer
) -> None:
    """Stopping the service while it works through a backlog must not commit offsets of
    messages it has not handled (faststream#2999), nor repeat effects after the restart."""
    prefix = await _topics(stack, "stop_")
    # Small batches, so the stop lands between and inside batches.
    settings = stack.settings(SlaSettings, kafka_topic_prefix=prefix, consumer_max_records=5)
    db = Database.connect(settings.database_url, SERVICE, pool_size=2)
    bed = Bed(stack, prefix, settings, db)
    events = [tenant_event(f"slow-{i}") for i in range(60)]
    try:
        await _produce(producer, prefix, events)

        async def some_handled() -> int:
            counts = [await bed.effects(e.payload().tenant_id) for e in events]  # type: ignore[attr-defined]
            return sum(counts) if 5 <= sum(counts) < len(events) else 0

        async with bed.running():
            await eventually(some_handled, interval=0.02, what="part of the backlog to be handled")
        # Stopped mid-backlog; a new run picks up where the committed offsets are.
        async with bed.running():

            async def all_handled() -> bool:
                counts = [await bed.effects(e.payload().tenant_id) for e in events]  # type: ignore[attr-defined]
                return all(c >= 1 for c in counts)

            await eventually(all_handled, what="every event to be handled after the restart")
        counts = [await bed.effects(e.payload().tenant_id) for e in events]  # type: ignore[attr-defined]
        assert counts == [1] * len(events)
    finally:
        await db.dispose()
        await stack.delete_topics(prefix)


async def test_two_replicas_share_the_work_without_doubling(stack: Stack, producer: AIOKafkaProducer) -> None:
    """Two replicas in one consumer group, one joining mid-stream (a rebalance): every event
    has exactly one effect, and both replicas did part of the work."""
    prefix = await _topics(stack, "pair_")
    settings = stack.settings(SlaSettings, kafka_topic_prefix=prefix, consumer_max_records=10)
    db = Database.connect(settings.database_url, SERVICE, pool_size=2)
    first, second = Bed(stack, prefix, settings, db), Bed(stack, prefix, settings, db)
    events = [tenant_event(f"slow-pair-{i}") for i in range(120)]
    try:
        await _produce(producer, prefix, events)

        async def handled() -> list[int]:
            return [await first.effects(e.payload().tenant_id) for e in events]  # type: ignore[attr-defined]

        async with first.running():
            await eventually(lambda: _some(handled), interval=0.02, what="the first replica to start")
            async with second.running():
                await eventually(lambda: _all(handled), within=60, what="every event to be handled")
        assert await handled() == [1] * len(events)
        assert first.calls and second.calls, "both replicas should have handled part of the stream"
    finally:
        await db.dispose()
        await stack.delete_topics(prefix)


async def _some(probe: Callable[[], Any]) -> bool:
    return sum(await probe()) >= 1


async def _all(probe: Callable[[], Any]) -> bool:
    return all(c >= 1 for c in await probe())


CRASHING_WRITER = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from uuid import UUID
    from backbone.db import Database
    from backbone.uow import UnitOfWork
    from contracts.events import TenantCreated

    async def main():
        db = Database.connect(os.environ["DATABASE_URL"], "sla", pool_size=1)
        tid = UUID(sys.argv[1])
        async with UnitOfWork(db.sessions, source="sla") as uow:
            envelope = uow.emit(TenantCreated(tenant_id=tid, slug="crash", name="crash"), tenant_id=tid)
            await uow.commit()
        print(envelope.id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # die after the commit, before any relay runs

    asyncio.run(main())
    """
)


async def test_outbox_survives_crash_between_commit_and_publish(stack: Stack) -> None:
    prefix = unique("crash_") + "."
    await stack.create_topics(prefix, tuple(s for s in TOPIC_SPECS if s.name == Topic.DIRECTORY_EVENTS.value))
    tenant_id = uuid4()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CRASHING_WRITER,
        str(tenant_id),
        env={**os.environ, "DATABASE_URL": stack.database_url},
        stdout=subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    assert proc.returncode == -9, "the writer was meant to die by SIGKILL"
    event_id = UUID(out.decode().strip())

    settings = stack.settings(SlaSettings, kafka_topic_prefix=prefix)
    db = Database.connect(settings.database_url, SERVICE, pool_size=2)
    try:
        async with db.sessions() as s:
            row = (await s.execute(select(OUTBOX).where(OUTBOX.c.event_id == event_id))).one()
            assert row.published_at is None  # committed, never published

        async def restart_relay_once() -> int:
            producer = make_producer(settings)
            await producer.start()
            try:
                sent = 0
                while n := await OutboxRelay(db, settings, producer).relay_once():
                    sent += n
                return sent
            finally:
                await producer.stop()

        assert await restart_relay_once() >= 1
        assert await restart_relay_once() == 0  # a second restart publishes nothing again

        records = await read_all(stack.kafka_bootstrap_servers, prefix + Topic.DIRECTORY_EVENTS)
        ours = [r for r in records if Envelope.model_validate_json(r.value).id == event_id]
        assert len(ours) == 1
        assert ours[0].key == str(tenant_id).encode()
        async with db.sessions() as s:
            published = await s.scalar(select(OUTBOX.c.published_at).where(OUTBOX.c.event_id == event_id))
            assert published is not None
    finally:
        await db.dispose()
        await stack.delete_topics(prefix)


# -- faults of the infrastructure, the DLQ and its replay ----------------------------------------
# (docs/adr/0009-fault-classification-replay-and-parking.md)


async def _send(producer: AIOKafkaProducer, bed: Bed, *events: Envelope, headers: Any = None) -> None:
    for e in events:
        await producer.send_and_wait(
            bed.topic(Topic.DIRECTORY_EVENTS),
            e.model_dump_json().encode(),
            key=e.subject.encode(),
            headers=headers,
        )


async def _dead(bed: Bed, *, idle: float = 0.5) -> list[Any]:
    return await read_all(bed.stack.kafka_bootstrap_servers, bed.topic(dlq_topic(SERVICE)), idle=idle)


async def _statement_timeout(uow: UnitOfWork) -> None:
    await uow.session.execute(text("SET LOCAL statement_timeout = 1"))
    await uow.session.execute(text("SELECT pg_sleep(1)"))  # 57014 query_canceled


def _raising(error: type[asyncpg.PostgresError]) -> Callable[[UnitOfWork], Awaitable[None]]:
    async def fault(uow: UnitOfWork) -> None:
        # As SQLAlchemy hands asyncpg's errors over: a plain DBAPIError carrying the SQLSTATE.
        raise sa_exc.DBAPIError("SELECT 1", None, error(f"injected {error.sqlstate}"))

    return fault


FAULTS: dict[str, Callable[[UnitOfWork], Awaitable[None]]] = {
    "57014-statement-timeout": _statement_timeout,
    "53300-too-many-connections": _raising(asyncpg.exceptions.TooManyConnectionsError),
    "53100-disk-full": _raising(asyncpg.exceptions.DiskFullError),
    "53200-out-of-memory": _raising(asyncpg.exceptions.OutOfMemoryError),
    "XX000-internal-error": _raising(asyncpg.exceptions.InternalServerError),
    "08006-connection-failure": _raising(asyncpg.exceptions.ConnectionFailureError),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_database_fault_is_retried_never_dead_lettered(
    bed: Bed, producer: AIOKafkaProducer, fault: str
) -> None:
    """A fault of the database is not the message's: the batch is rewound and retried (more
    often than a message's max attempts) until the fault clears; nothing is dead-lettered."""
    event = tenant_event(f"fault-{fault}")
    inject = FAULTS[fault]

    async def hook(uow: UnitOfWork, e: TenantCreated) -> None:
        if e.slug == event.payload().slug and bed.calls[e.slug] <= 5:  # type: ignore[attr-defined]
            await inject(uow)

    bed.fault = hook
    await _send(producer, bed, event)
    await eventually(lambda: bed.effects(event.payload().tenant_id), what="handled after the fault")  # type: ignore[attr-defined]
    assert bed.calls[event.payload().slug] == 6  # type: ignore[attr-defined]
    assert await bed.inbox_outcome(event.id) == "handled"
    assert await _dead(bed) == []


async def test_lock_timeout_is_retried_never_dead_lettered(bed: Bed, producer: AIOKafkaProducer) -> None:
    """55P03: the handler's lock wait times out while another transaction holds the lock;
    the event is handled once the lock is released, never dead-lettered."""
    event = tenant_event("locked")
    key = uuid4().int % 2**62
    holder = await bed.db.engine.connect()
    await holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})

    async def hook(uow: UnitOfWork, e: TenantCreated) -> None:
        if e.slug == "locked":
            await uow.session.execute(text("SET LOCAL lock_timeout = 1"))
            await uow.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})

    bed.fault = hook
    try:
        await _send(producer, bed, event)
        await eventually(lambda: asyncio.sleep(0, bed.calls.get("locked", 0) > 5), what="several lock waits")
    finally:
        await holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        await holder.close()
    await eventually(lambda: bed.effects(event.payload().tenant_id), what="handled after the lock")  # type: ignore[attr-defined]
    assert await bed.inbox_outcome(event.id) == "handled"
    assert await _dead(bed) == []


async def test_failing_dead_letter_bookkeeping_commits_nothing_past_the_batch(
    bed: Bed, producer: AIOKafkaProducer
) -> None:
    """The poison message reaches the DLQ, but recording it in the inbox fails: the batch must
    not be acknowledged (the next commit would skip it and the messages after it); once the
    fault clears it is read again, and every message ends handled or dead-lettered."""
    async with bed.db.sessions() as s, s.begin():
        await s.execute(
            text(
                "CREATE FUNCTION refuse_dead() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'inbox refuses dead letters'; END $$"
            )
        )
        await s.execute(
            text(
                "CREATE TRIGGER refuse_dead BEFORE INSERT ON inbox FOR EACH ROW "
                "WHEN (NEW.outcome = 'dead_lettered') EXECUTE FUNCTION refuse_dead()"
            )
        )
    poison, after = tenant_event("poison-bookkeeping"), tenant_event("after-bookkeeping")
    try:
        await _send(producer, bed, poison, after)
        await eventually(lambda: _dead(bed), what="the poison in the DLQ")
        # Offsets committed now would skip the poison's bookkeeping (and maybe `after`).
        await eventually(
            lambda: asyncio.sleep(0, bed.calls.get("poison-bookkeeping", 0) >= 8),
            what="the batch to be read again",
        )
    finally:
        async with bed.db.sessions() as s, s.begin():
            await s.execute(text("DROP TRIGGER refuse_dead ON inbox"))
            await s.execute(text("DROP FUNCTION refuse_dead()"))
    await eventually(lambda: bed.effects(after.payload().tenant_id), what="the message after")  # type: ignore[attr-defined]
    await eventually(lambda: bed.inbox_outcome(poison.id), what="the poison's inbox row")
    assert await bed.inbox_outcome(poison.id) == "dead_lettered"
    assert await bed.effects(after.payload().tenant_id) == 1  # type: ignore[attr-defined]


async def test_dlq_headers_carry_no_statement_parameters(bed: Bed, producer: AIOKafkaProducer) -> None:
    secret = "s3cret-" + uuid4().hex

    async def hook(uow: UnitOfWork, e: TenantCreated) -> None:
        if e.slug == "leaky":
            await uow.session.execute(
                text("SELECT 1 / 0 WHERE length(CAST(:secret AS text)) > 0"), {"secret": secret}
            )

    bed.fault = hook
    await _send(producer, bed, tenant_event("leaky"))
    dead = await eventually(lambda: _dead(bed), what="the failing event in the DLQ")
    headers = dict(dead[0].headers)
    assert b"division by zero" in headers["x-dlq-error"]
    assert b"division by zero" in headers["x-dlq-traceback"]
    assert all(secret.encode() not in value for value in headers.values())


def _incidentctl(bed: Bed, *args: str) -> list[dict[str, Any]]:
    """Run `incidentctl <args>` against the bed's topics; its JSON lines."""
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": bed.stack.kafka_bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": bed.prefix,
        "DATABASE_URL": bed.stack.database_url,
    }
    result = CliRunner().invoke(cli.app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


async def test_replayed_dead_letter_is_handled_once(bed: Bed, producer: AIOKafkaProducer) -> None:
    """An event dead-lettered by a bug is handled after the fix when replayed from the DLQ,
    once however often it is replayed; another service's replay is not handled here."""
    event = tenant_event("fixable")
    bed.broken.add("fixable")
    await _send(producer, bed, event)
    await eventually(lambda: _dead(bed), what="the event in the DLQ")
    assert await bed.inbox_outcome(event.id) == "dead_lettered"

    listed = await asyncio.to_thread(_incidentctl, bed, "dlq", "list", SERVICE)
    assert [(d["event_id"], d["event_type"], d["error_type"], d["attempts"]) for d in listed] == [
        (str(event.id), TenantCreated.event_type, "ValueError", 3)
    ]
    offset = listed[0]["offset"]

    bed.broken.discard("fixable")  # the fix is deployed
    calls = bed.calls["fixable"]
    replayed = await asyncio.to_thread(_incidentctl, bed, "dlq", "replay", SERVICE, "--offset", str(offset))
    assert replayed == [
        {"replayed": offset, "event_id": str(event.id), "to": bed.topic(Topic.DIRECTORY_EVENTS)}
    ]
    await eventually(lambda: bed.effects(event.payload().tenant_id), what="the replay handled")  # type: ignore[attr-defined]
    assert await bed.inbox_outcome(event.id) == "handled"

    # Replayed again (and a stranger's replay of an event this service never had): no effect.
    await asyncio.to_thread(_incidentctl, bed, "dlq", "replay", SERVICE, "--all")
    stranger = tenant_event("strangers-replay", event.payload().tenant_id)  # type: ignore[attr-defined]
    await _send(producer, bed, stranger, headers=[("x-dlq-replay-for", b"triage")])
    marker = tenant_event("after-replays", event.payload().tenant_id)  # type: ignore[attr-defined]
    await _send(producer, bed, marker)  # same key, same partition: read after the replays
    await eventually(lambda: asyncio.sleep(0, "after-replays" in bed.calls), what="the marker handled")
    assert bed.calls["fixable"] == calls + 1
    assert "strangers-replay" not in bed.calls
    assert await bed.effects(event.payload().tenant_id) == 1 + 1  # type: ignore[attr-defined]  # + the marker's
