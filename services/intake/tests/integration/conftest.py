"""Fixtures of intake's alert tests: an intake served in-process, a producer to play directory
(integration.created.v1) and triage (incident.resolved.v1), and reads of intake's own tables."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from backbone.db import Database
from backbone.testing import Stack, eventually, outbox_events, producer_and_db, publish, serving, unique
from contracts.enums import IntegrationKind
from contracts.envelope import Envelope, EventData
from contracts.events import IntegrationCreated, token_sha256
from intake.adapters.orm import dedup_keys, integrations
from intake.config import Settings
from intake.main import create


def new_integration(
    kind: IntegrationKind = IntegrationKind.ALERTMANAGER, **fields: Any
) -> tuple[str, IntegrationCreated]:
    """A token and the integration.created.v1 directory would announce for it."""
    token = unique("tok-") + uuid4().hex
    event = IntegrationCreated(
        integration_id=fields.pop("integration_id", uuid4()),
        tenant_id=fields.pop("tenant_id", uuid4()),
        kind=kind,
        name=fields.pop("name", unique("int-")),
        token_sha256=token_sha256(token),
        **fields,
    )
    return token, event


@dataclass
class Alerting:
    stack: Stack
    client: httpx.AsyncClient
    producer: AIOKafkaProducer
    db: Database

    async def publish(self, event: EventData, tenant_id: UUID) -> Envelope:
        """As its owner would: the envelope's JSON on the event's topic, keyed by the subject."""
        return await publish(self.producer, self.stack.topic_prefix, event, tenant_id=tenant_id)

    async def integration(
        self, kind: IntegrationKind = IntegrationKind.ALERTMANAGER, **fields: Any
    ) -> tuple[str, IntegrationCreated]:
        """A new integration as directory announces it, once intake's replica holds it."""
        token, event = new_integration(kind, **fields)
        await self.publish(event, event.tenant_id)
        await eventually(lambda: self.replicated(token), what="the integration in intake's replica")
        return token, event

    async def replicated(self, token: str) -> UUID | None:
        async with self.db.sessions() as s:
            found: UUID | None = await s.scalar(
                select(integrations.c.id).where(integrations.c.token_sha256 == token_sha256(token))
            )
            return found

    async def events(self, event_type: str, tenant_id: UUID) -> list[Envelope]:
        """The tenant's events of a type in intake's outbox, oldest first."""
        return await outbox_events(self.db, event_type=event_type, tenant_id=tenant_id)

    async def keys(self, tenant_id: UUID) -> list[Any]:
        async with self.db.sessions() as s:
            return list(
                (
                    await s.execute(
                        select(dedup_keys)
                        .where(dedup_keys.c.tenant_id == tenant_id)
                        .order_by(dedup_keys.c.first_seen_at)
                    )
                ).all()
            )

    async def count_keys(self, tenant_id: UUID, status: str | None = None) -> int:
        query = select(func.count()).select_from(dedup_keys).where(dedup_keys.c.tenant_id == tenant_id)
        if status is not None:
            query = query.where(dedup_keys.c.status == status)
        async with self.db.sessions() as s:
            return int(await s.scalar(query) or 0)


@pytest.fixture(scope="module")
async def alerting(stack: Stack) -> AsyncIterator[Alerting]:
    # Every repeat announced, so tests can see each (the default announces one a minute).
    settings = stack.settings(Settings, log_level="WARNING", alert_repeat_event_interval_s=0)
    async with producer_and_db(stack, "intake") as (producer, db), serving(create(settings)) as client:
        yield Alerting(stack, client, producer, db)
