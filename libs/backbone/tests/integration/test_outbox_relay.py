"""The outbox relay over the real broker and database (docs/adr/0002-outbox.md,
docs/adr/0009-fault-classification-replay-and-parking.md): a row the broker refuses is parked
after outbox_max_attempts and the rows after it still go out; the relay never passes a lower
id that a transaction still in flight commits later."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import UUID, uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import insert, select, text

from backbone.db import Database
from backbone.outbox import OutboxRelay, RelayFault, make_producer
from backbone.tables import OUTBOX
from backbone.testing import Stack, eventually, unique
from backbone.uow import UnitOfWork
from contracts.envelope import Envelope
from contracts.events import TenantCreated
from contracts.topics import TOPIC_SPECS, Topic
from sla.config import Settings as SlaSettings

pytestmark = pytest.mark.integration


@dataclass
class Relay:
    stack: Stack
    prefix: str
    db: Database
    relay: OutboxRelay

    async def drain(self) -> int:
        """Relay rounds until nothing is left to send; rows sent."""
        total = 0
        while n := await self.relay.relay_once():
            total += n
        return total

    async def published(self) -> list[UUID]:
        """Event ids on directory.events, in the order of its (one) partition."""
        topic = self.prefix + Topic.DIRECTORY_EVENTS
        consumer = AIOKafkaConsumer(bootstrap_servers=self.stack.kafka_bootstrap_servers)
        await consumer.start()
        try:
            tp = TopicPartition(topic, 0)
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            end = (await consumer.end_offsets([tp]))[tp]
            out: list[UUID] = []
            while await consumer.position(tp) < end:
                for record in (await consumer.getmany(tp, timeout_ms=1000)).get(tp, []):
                    out.append(Envelope.model_validate_json(record.value).id)
            return out
        finally:
            await consumer.stop()


@pytest.fixture
async def relay(stack: Stack) -> AsyncIterator[Relay]:
    prefix = unique("relay_") + "."
    # One partition, so the order of publication is the order on the topic.
    spec = next(s for s in TOPIC_SPECS if s.name == Topic.DIRECTORY_EVENTS.value)
    await stack.create_topics(prefix, (type(spec)(spec.name, 1, retention_ms=spec.retention_ms),))
    schema = unique("relay_")
    admin = Database.connect(stack.database_url, "sla", pool_size=1)
    async with admin.sessions() as s, s.begin():
        # A schema of its own with the sla service's outbox layout, so no other test's rows mix in.
        await s.execute(text(f'CREATE SCHEMA "{schema}"'))
        await s.execute(text(f'CREATE TABLE "{schema}".outbox (LIKE sla.outbox INCLUDING ALL)'))
    await admin.dispose()
    settings = stack.settings(SlaSettings, kafka_topic_prefix=prefix, outbox_max_attempts=2)
    db = Database.connect(stack.database_url, schema, pool_size=4)
    producer = make_producer(settings)
    await producer.start()
    try:
        yield Relay(stack, prefix, db, OutboxRelay(db, settings, producer))
    finally:
        await producer.stop()
        async with db.sessions() as s, s.begin():
            await s.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await db.dispose()
        await stack.delete_topics(prefix)


def _event(slug: str) -> TenantCreated:
    return TenantCreated(tenant_id=uuid4(), slug=slug, name=slug)


async def _emit(db: Database, slug: str) -> Envelope:
    async with UnitOfWork(db.sessions, source="sla") as uow:
        event = _event(slug)
        envelope = uow.emit(event, tenant_id=event.tenant_id)
        await uow.commit()
    return envelope


async def _raw_row(db: Database, event_id: UUID, topic: str, value: bytes) -> None:
    """An outbox row written as is, bypassing the unit of work (what it would never write)."""
    async with db.sessions() as s, s.begin():
        row = {"event_id": event_id, "topic": topic, "key": "k", "value": value, "headers": {}}
        await s.execute(insert(OUTBOX).values(event_type="tenant.created.v1", **row))


async def test_a_row_the_broker_refuses_is_parked_and_the_rest_go_out(relay: Relay) -> None:
    before = await _emit(relay.db, "before")
    huge = uuid4()
    # Larger than the producer's max_request_size (1 MiB): the broker will never take it.
    await _raw_row(relay.db, huge, Topic.DIRECTORY_EVENTS.value, b"x" * (2 * 1024 * 1024))
    after = await _emit(relay.db, "after")

    assert await relay.relay.relay_once() == 2  # both neighbours sent, the huge one counted
    async with relay.db.sessions() as s:
        row = (await s.execute(select(OUTBOX).where(OUTBOX.c.event_id == huge))).one()
    assert (row.attempts, row.parked_at, row.published_at) == (1, None, None)
    assert "MessageSizeTooLarge" in row.last_error

    later = await _emit(relay.db, "later")
    assert await relay.relay.relay_once() == 1
    async with relay.db.sessions() as s:
        row = (await s.execute(select(OUTBOX).where(OUTBOX.c.event_id == huge))).one()
    assert row.attempts == 2 and row.parked_at is not None and row.published_at is None  # parked
    assert await relay.drain() == 0  # not tried again
    assert await relay.published() == [before.id, after.id, later.id]


async def test_the_relay_never_passes_a_lower_id_still_in_flight(relay: Relay) -> None:
    """T1 inserts its outbox row first (lower id) but commits after T2: the relay waits for T1
    and publishes in id order, never T2's row before T1's."""
    async with UnitOfWork(relay.db.sessions, source="sla") as first:
        e1 = _event("first")
        one = first.emit(e1, tenant_id=e1.tenant_id)
        await first.flush_events()  # id taken, not committed
        two = await _emit(relay.db, "second")  # a higher id, committed at once
        async with relay.db.sessions() as s:
            ids = dict((await s.execute(select(OUTBOX.c.event_id, OUTBOX.c.id))).all())
        assert ids == {two.id: ids[two.id]}  # T1's row is invisible yet

        round_ = asyncio.create_task(relay.drain())
        await eventually(lambda: _waiting_on_barrier(relay.db), what="the relay to wait for the writer")
        assert not round_.done()
        await first.session.commit()
    await round_
    assert await relay.drain() == 0
    assert await relay.published() == [one.id, two.id]


async def _waiting_on_barrier(db: Database) -> bool:
    async with db.sessions() as s:
        waiting = await s.scalar(
            text(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                "WHERE l.locktype = 'advisory' AND NOT l.granted AND a.datname = current_database() "
                "AND a.application_name = :app"
            ),
            {"app": db.schema},
        )
        return bool(waiting)


async def test_a_broker_fault_counts_nothing(relay: Relay) -> None:
    """A fault that is not the row's (here: its topic was never created, and topics are not
    created by publishing) fails the round without counting attempts on any row; the rows
    beside it still go out."""
    producer = AIOKafkaProducer(
        bootstrap_servers=relay.stack.kafka_bootstrap_servers,
        enable_idempotence=True,
        request_timeout_ms=1000,
    )
    await producer.start()
    relay.relay.producer = producer
    try:
        lost = uuid4()
        await _raw_row(relay.db, lost, "not.created", b"{}")
        beside = await _emit(relay.db, "beside")
        for _ in range(3):
            with pytest.raises(RelayFault):
                await relay.relay.relay_once()
        async with relay.db.sessions() as s:
            row = (await s.execute(select(OUTBOX).where(OUTBOX.c.event_id == lost))).one()
        assert (row.attempts, row.parked_at, row.published_at) == (0, None, None)
        assert await relay.published() == [beside.id]
    finally:
        await producer.stop()
