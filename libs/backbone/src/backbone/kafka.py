"""Kafka plumbing: the FastStream router with its metrics middleware, and topic creation."""

from __future__ import annotations

import contextlib
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY

from backbone.settings import ServiceSettings
from contracts.topics import TOPIC_SPECS, TopicSpec


def make_broker(settings: ServiceSettings, *, description: str) -> KafkaBroker:
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=settings.service_name,
        # Topics are created explicitly (incidentctl topics), never by a stray publish.
        allow_auto_create_topics=False,
        enable_idempotence=True,
        # No FastStream tracing middleware: it made a new trace per fetched batch, never the
        # messages' own; the consumer continues each sampled message's trace instead
        # (backbone.telemetry.consuming, docs/architecture.md "Tracing").
        middlewares=[KafkaPrometheusMiddleware(registry=REGISTRY, app_name=settings.service_name)],
        description=description,
        # FastStream's per-message access lines go to DEBUG; our own logs say what matters.
        log_level=logging.DEBUG,
    )


async def create_topics(
    bootstrap_servers: str, *, prefix: str = "", specs: tuple[TopicSpec, ...] = TOPIC_SPECS
) -> list[str]:
    """Create every topic that is missing; returns the names created. Idempotent."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="incidentctl")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = []
        for spec in specs:
            name = f"{prefix}{spec.name}"
            if name in existing:
                continue
            config = {"cleanup.policy": "compact" if spec.compacted else "delete"}
            if spec.retention_ms is not None:
                config["retention.ms"] = str(spec.retention_ms)
            wanted.append(NewTopic(name, spec.partitions, 1, topic_configs=config))
        if wanted:
            # Another starter may create them at the same moment.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(wanted)
        return [t.name for t in wanted]
    finally:
        await admin.close()


async def delete_topics(bootstrap_servers: str, *, prefix: str) -> None:
    """For tests: remove one run's prefixed topics."""
    if not prefix:
        raise ValueError("refusing to delete unprefixed topics")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="incidentctl")
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if names:
            await admin.delete_topics(names)
    finally:
        await admin.close()
