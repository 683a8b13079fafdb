"""One running sla service per test module on a ManualClock (real Kafka and PostgreSQL), and a
fresh tenant per test (helpers in sla.testing)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from backbone.clock import ManualClock
from backbone.db import Database
from backbone.testing import Stack, serving
from sla.config import Settings
from sla.main import create
from sla.testing import Sla, Tenant

pytestmark = pytest.mark.integration

# A Monday, 10:00 UTC: inside the default business hours.
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def sla(stack: Stack) -> AsyncIterator[Sla]:
    clock = ManualClock(T0)
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers, enable_idempotence=True)
    await producer.start()
    db = Database.connect(stack.database_url, "sla", pool_size=2)
    try:
        async with serving(create(stack.settings(Settings), clock=clock)) as client:
            yield Sla(stack, client, producer, db, clock)
    finally:
        await producer.stop()
        await db.dispose()


@pytest.fixture
def api(sla: Sla) -> httpx.AsyncClient:
    return sla.client


@pytest.fixture
def db(sla: Sla) -> Database:
    return sla.db


@pytest.fixture
def tenant(sla: Sla) -> Tenant:
    return Tenant(sla, uuid4())
