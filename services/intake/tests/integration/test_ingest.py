"""The fast ingest path over the real broker and database (docs/adr/0013-durable-fast-ingest.md):
a batch delivered again has one effect (the inbox by message id), and a batch intake's consumer
cannot handle goes to intake's DLQ while the others are handled."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from aiokafka import ConsumerRecord
from sqlalchemy import func, select

from backbone import dlq
from contracts.enums import IncidentSource, IntegrationKind
from contracts.envelope import new_id
from contracts.events import IncidentReported
from contracts.topics import Topic
from intake.adapters.ingest import encode
from intake.adapters.orm import dedup_keys, inbox
from intake.domain.ingest import AlertBatch, Received
from intake.domain.signals import Signal

from .conftest import Alerting

pytestmark = pytest.mark.integration

URL = "/v1/alerts/alertmanager"


def webhook(*fingerprints: str) -> dict[str, Any]:
    alerts = [{"status": "firing", "fingerprint": fp, "labels": {"alertname": fp}} for fp in fingerprints]
    return {"version": "4", "status": "firing", "alerts": alerts}


async def written(alerting: Alerting, tenant: UUID) -> tuple[int, int, int]:
    """Open keys, the alerts counted on them, and incidents reported, of the tenant."""
    async with alerting.db.sessions() as s:
        keys, total = (
            await s.execute(
                select(func.count(), func.coalesce(func.sum(dedup_keys.c.alert_count), 0)).where(
                    dedup_keys.c.tenant_id == tenant
                )
            )
        ).one()
    reported = await alerting.events(IncidentReported.event_type, tenant)
    return int(keys), int(total), len(reported)


async def records_of(alerting: Alerting, topic: str, integration_id: UUID) -> list[ConsumerRecord[Any, Any]]:
    """The integration's messages on the topic, as the broker holds them."""
    mine = []
    for record in await dlq.read(alerting.stack.kafka_bootstrap_servers, topic):
        try:
            received = Received.model_validate_json(record.value)
        except ValueError:
            continue
        if received.data.integration_id == integration_id:
            mine.append(record)
    return mine


async def test_a_batch_delivered_again_has_one_effect(alerting: Alerting) -> None:
    token, integration = await alerting.integration(IntegrationKind.ALERTMANAGER)
    tenant = integration.tenant_id
    fingerprints = [f"fp{i}" for i in range(12)]
    await alerting.sent(URL, webhook(*fingerprints, *fingerprints), {"Authorization": f"Bearer {token}"})
    assert await written(alerting, tenant) == (12, 24, 12)

    # The same messages again, byte for byte, where they were (a producer retry, a consumer
    # that crashed after its commit but before its offsets): the inbox knows their ids.
    topic = alerting.settings.topic(Topic.INTAKE_ALERTS)
    records = await records_of(alerting, topic, integration.integration_id)
    assert len(records) > 1  # one message per partition the request's keys fall in
    for r in records:
        await alerting.producer.send_and_wait(topic, r.value, key=r.key, partition=r.partition)
    await alerting.settled()
    assert await written(alerting, tenant) == (12, 24, 12)
    ids = [Received.model_validate_json(r.value).id for r in records]
    async with alerting.db.sessions() as s:
        assert await s.scalar(select(func.count()).where(inbox.c.event_id.in_(ids))) == len(ids)


async def test_a_batch_that_cannot_be_handled_goes_to_the_dlq_and_the_rest_is_handled(
    alerting: Alerting,
) -> None:
    _, integration = await alerting.integration(IntegrationKind.ALERTMANAGER)
    tenant = integration.tenant_id
    topic = alerting.settings.topic(Topic.INTAKE_ALERTS)

    def message(key: str, **labels: str) -> bytes:
        batch = AlertBatch(
            integration_id=integration.integration_id,
            source=IncidentSource.ALERTMANAGER,
            received_at=datetime.now(UTC),
            alerts=[Signal(key, key, True, key, labels)],
        )
        return encode(new_id(), tenant, batch, batch.received_at)

    # Between two good batches, on one partition: bytes that are no batch, and a batch
    # PostgreSQL refuses (jsonb cannot hold a NUL), as no request could have appended.
    garbage, refused = b'{"not": "a batch"}', message("am:nul", x="a\x00b")
    for value in (message("am:before"), garbage, refused, message("am:after")):
        await alerting.producer.send_and_wait(topic, value, partition=0)
    await alerting.settled()

    assert await alerting.key(tenant, "am:before") is not None
    assert await alerting.key(tenant, "am:after") is not None
    assert await alerting.key(tenant, "am:nul") is None
    dead = await dlq.read(alerting.stack.kafka_bootstrap_servers, alerting.settings.dlq_topic)
    from_here = {r.value for r in dead if dict(r.headers).get("x-dlq-original-topic") == topic.encode()}
    assert {garbage, refused} <= from_here
