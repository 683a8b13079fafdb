"""Fixtures of the incident-record tests: one running triage per test module (real Kafka and
PostgreSQL), and a fresh tenant per test (helpers in triage.testing)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer

from backbone.db import Database
from backbone.testing import Stack, serving
from triage.config import Settings as TriageSettings
from triage.main import create as create_triage
from triage.testing import Tenant, Triage


@pytest.fixture(scope="module")
async def triage(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Triage]:
    attachments = tmp_path_factory.mktemp("attachments")
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers, enable_idempotence=True)
    await producer.start()
    db = Database.connect(stack.database_url, "triage", pool_size=2)
    settings = stack.settings(
        TriageSettings, attachments_dir=str(attachments), attachment_max_bytes=64 * 1024
    )
    try:
        async with serving(create_triage(settings)) as client:
            yield Triage(stack, client, producer, db, attachments)
    finally:
        await producer.stop()
        await db.dispose()


@pytest.fixture
def tenant(triage: Triage) -> Tenant:
    return Tenant(triage, uuid4())
