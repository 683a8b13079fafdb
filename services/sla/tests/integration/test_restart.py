"""A breach due while the service is down fires once after it restarts, even with two replicas
polling the same timer rows (docs/architecture.md "Delivery guarantees", timers)."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer

from backbone.clock import ManualClock
from backbone.db import Database
from backbone.testing import Stack, eventually, serving
from contracts.enums import Severity
from sla.config import Settings
from sla.main import create
from sla.testing import Sla, Tenant

pytestmark = pytest.mark.integration


async def test_a_breach_due_while_down_fires_once_after_restart(stack: Stack) -> None:
    clock = ManualClock()
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers, enable_idempotence=True)
    await producer.start()
    db = Database.connect(stack.database_url, "sla", pool_size=2)
    try:
        async with serving(create(stack.settings(Settings), clock=clock)) as client:
            tenant = Tenant(Sla(stack, client, producer, db, clock), uuid4())
            incident_id = await tenant.incident(Severity.P1)  # basic P1: business hours
            due = tenant.clock(await tenant.sla(incident_id), "response")["due_at"]
        assert due is not None
        # Down: the due time passes with no service running.
        clock.advance(days=30)
        assert await tenant.s.events(incident_id, "sla.breached.v1") == []
        async with contextlib.AsyncExitStack() as replicas:
            for _ in range(2):
                client = await replicas.enter_async_context(
                    serving(create(stack.settings(Settings), clock=clock))
                )
            tenant.s.client = client

            async def both_breached() -> bool:
                return len(await tenant.s.events(incident_id, "sla.breached.v1")) >= 2

            await eventually(both_breached, what="the response and resolution breaches")
            for _ in range(3):  # more ticks on both replicas
                clock.advance(seconds=1)
            clock.advance(timedelta(minutes=1))
            breaches = await tenant.s.events(incident_id, "sla.breached.v1")
            assert sorted(b["clock"] for b in breaches) == ["resolution", "response"]
    finally:
        await producer.stop()
        await db.dispose()
