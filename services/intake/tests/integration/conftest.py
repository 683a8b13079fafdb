"""Fixtures of intake's alert tests: an intake served in-process, a producer to play directory
(integration.created.v1) and triage (incident.resolved.v1), and reads of intake's own tables.
An alert request is answered once its alerts are appended to Kafka; ``sent`` also waits until
intake's consumer has deduplicated them (docs/adr/0013-durable-fast-ingest.md)."""

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
from contracts.topics import Topic
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


async def settled(stack: Stack, settings: Settings, *, within: float = 30) -> None:
    """Once intake's consumer has handled every batch accepted so far (the answer to a request
    does not wait for that)."""
    await eventually(
        lambda: stack.caught_up(settings, Topic.INTAKE_ALERTS, group_id=settings.alerts_group_id),
        within=within,
        what="intake's consumer to handle the accepted alerts",
    )


@dataclass
class Alerting:
    stack: Stack
    client: httpx.AsyncClient
    producer: AIOKafkaProducer
    db: Database
    settings: Settings

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

    async def settled(self) -> None:
        await settled(self.stack, self.settings)

    async def posted(self, url: str, **request: Any) -> httpx.Response:
        """``client.post``, then wait until whatever it had accepted is handled."""
        r = await self.client.post(url, **request)
        await self.settled()
        return r

    async def sent(self, url: str, body: Any, headers: dict[str, str]) -> httpx.Response:
        """Post alerts, expect 202, and wait until they are handled."""
        r = await self.posted(url, json=body, headers=headers)
        assert r.status_code == 202, r.text
        return r

    async def key(self, tenant_id: UUID, dedup_key: str) -> Any:
        """The newest row of a dedup key (open, resolved or closed), None when it never opened."""
        async with self.db.sessions() as s:
            return (
                await s.execute(
                    select(dedup_keys)
                    .where(dedup_keys.c.tenant_id == tenant_id, dedup_keys.c.dedup_key == dedup_key)
                    .order_by(dedup_keys.c.first_seen_at.desc(), dedup_keys.c.id.desc())
                    .limit(1)
                )
            ).first()

    async def tenant_of(self, token: str) -> UUID:
        async with self.db.sessions() as s:
            tenant: UUID = await s.scalar(
                select(integrations.c.tenant_id).where(integrations.c.token_sha256 == token_sha256(token))
            )
            return tenant

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
        yield Alerting(stack, client, producer, db, settings)
