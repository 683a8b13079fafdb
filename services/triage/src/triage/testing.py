"""Helpers for tests that drive a running triage service (tests/integration): incidents arrive
as intake's events, users as directory's, over the real Kafka broker; everything else goes
through the HTTP API. Each test takes a fresh tenant, so tests never see each other's rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from backbone.db import Database
from backbone.testing import (
    Stack,
    eventually,
    publish,
)
from contracts.enums import IncidentSource, Role
from contracts.envelope import Envelope, EventData, new_id
from contracts.events import IncidentReported, UserRegistered
from contracts.events.intake import ImpactFacts
from triage.adapters.orm import outbox, principals


@dataclass
class Triage:
    stack: Stack
    client: httpx.AsyncClient
    producer: AIOKafkaProducer
    db: Database
    attachments_dir: Path

    async def publish(self, data: EventData, tenant_id: UUID) -> Envelope:
        return await publish(self.producer, self.stack.topic_prefix, data, tenant_id=tenant_id)


@dataclass
class Tenant:
    """One fresh tenant of the running triage, with helpers speaking its HTTP API."""

    t: Triage
    id: UUID

    @property
    def client(self) -> httpx.AsyncClient:
        return self.t.client

    def auth(
        self,
        role: Role | str = Role.INCIDENT_MANAGER,
        user_id: UUID | None = None,
        client_id: UUID | None = None,
        vendor_id: UUID | None = None,
    ) -> dict[str, str]:
        return self.t.stack.auth(
            tenant_id=self.id,
            role=Role(role).value,
            user_id=user_id,
            client_id=client_id,
            vendor_id=vendor_id,
        )

    async def user(self, role: Role = Role.TECHNICAL_SUPPORT, **links: Any) -> UUID:
        """A user of the tenant, as directory would announce them; once triage knows them."""
        user_id = uuid4()
        await self.t.publish(UserRegistered(user_id=user_id, tenant_id=self.id, role=role, **links), self.id)

        async def known() -> bool:
            async with self.t.db.sessions() as s:
                return (
                    await s.scalar(select(principals.c.user_id).where(principals.c.user_id == user_id))
                    is not None
                )

        await eventually(known, what=f"triage to replicate user {user_id}")
        return user_id

    async def report(
        self,
        *,
        title: str = "database down",
        impact: ImpactFacts | None = None,
        client_id: UUID | None = None,
        component_id: UUID | None = None,
        dedup_key: str | None = None,
        detected_at: datetime | None = None,
        **extra: Any,
    ) -> UUID:
        """Intake reports an incident; its id once triage has opened it."""
        incident_id = new_id()
        await self.t.publish(
            IncidentReported(
                incident_id=incident_id,
                source=IncidentSource.ALERTMANAGER if dedup_key else IncidentSource.MANUAL,
                title=title,
                impact=impact or ImpactFacts(),
                client_id=client_id,
                component_id=component_id,
                dedup_key=dedup_key,
                detected_at=detected_at or datetime.now(UTC),
                **extra,
            ),
            self.id,
        )
        await self.opened(incident_id)
        return incident_id

    async def opened(self, incident_id: UUID) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            r = await self.client.get(f"/v1/incidents/{incident_id}", headers=self.auth())
            return r.json() if r.status_code == 200 else None

        return await eventually(probe, what=f"triage to open incident {incident_id}")

    async def get(self, incident_id: UUID) -> dict[str, Any]:
        r = await self.client.get(f"/v1/incidents/{incident_id}", headers=self.auth())
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def updates(self, incident_id: UUID) -> list[dict[str, Any]]:
        r = await self.client.get(f"/v1/incidents/{incident_id}/updates", headers=self.auth())
        assert r.status_code == 200, r.text
        body: list[dict[str, Any]] = r.json()
        return body

    async def events(self, incident_id: UUID, *types: str) -> list[dict[str, Any]]:
        """The events triage committed for the incident (its outbox), oldest first."""
        async with self.t.db.sessions() as s:
            query = select(outbox.c.event_type, outbox.c.value).where(outbox.c.key == str(incident_id))
            if types:
                query = query.where(outbox.c.event_type.in_(types))
            rows = (await s.execute(query.order_by(outbox.c.id))).all()
        return [{"type": r.event_type, **json.loads(r.value)["data"]} for r in rows]

    async def post(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.client.post(path, json=body, headers=headers or self.auth())

    async def patch(self, path: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.patch(path, json=body, headers=headers or self.auth())
