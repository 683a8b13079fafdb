"""Helpers for tests that drive a running sla service: incidents and subscriptions arrive as
triage's and directory's events over the real Kafka broker, at instants the test chooses; what
the service announced is read from its outbox."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
from aiokafka import AIOKafkaProducer
from sqlalchemy import Table, func, select

from backbone.clock import ManualClock
from backbone.db import Database
from backbone.testing import OWNERS, Stack, eventually, send
from contracts.enums import IncidentSource, Role, Severity, SubscriptionTier
from contracts.envelope import Envelope, EventData
from contracts.events import IncidentCreated, SubscriptionChanged
from sla.adapters.orm import outbox


@dataclass
class Sla:
    stack: Stack
    client: httpx.AsyncClient
    producer: AIOKafkaProducer
    db: Database
    clock: ManualClock

    async def publish(self, data: EventData, tenant_id: UUID, at: datetime | None = None) -> Envelope:
        """As the owner would, stamped ``at`` (default: the service clock's now)."""
        envelope = Envelope.wrap(data, source=OWNERS[data.topic], tenant_id=tenant_id)
        envelope = envelope.model_copy(update={"time": at or self.clock.now()})
        return await send(self.producer, self.stack.topic_prefix, envelope)

    async def events(self, incident_id: UUID, event_type: str | None = None) -> list[dict[str, Any]]:
        """What the service announced about the incident, oldest first."""
        query = select(outbox.c.event_type, outbox.c.value).where(outbox.c.key == str(incident_id))
        if event_type is not None:
            query = query.where(outbox.c.event_type == event_type)
        async with self.db.sessions() as s:
            rows = (await s.execute(query.order_by(outbox.c.id))).all()
        return [{"type": r.event_type, **Envelope.model_validate_json(r.value).data} for r in rows]


@dataclass
class Tenant:
    s: Sla
    id: UUID

    def auth(self, role: Role = Role.INCIDENT_MANAGER, **links: Any) -> dict[str, str]:
        return self.s.stack.auth(tenant_id=self.id, role=role.value, **links)

    async def subscribe(self, tier: SubscriptionTier) -> UUID:
        client_id = uuid4()
        await self.s.publish(
            SubscriptionChanged(
                client_id=client_id, tenant_id=self.id, tier=tier, valid_from=date(2026, 1, 1)
            ),
            self.id,
        )
        return client_id

    async def incident(
        self, severity: Severity, client_id: UUID | None = None, at: datetime | None = None, clocks: int = 2
    ) -> UUID:
        """A new incident (triage's incident.created.v1 at ``at``), once its clocks show."""
        incident_id = uuid4()
        moment = at or self.s.clock.now()
        await self.s.publish(
            IncidentCreated(
                **headline(incident_id, severity, client_id),
                severity_flags={},
                source=IncidentSource.MANUAL,
                detected_at=moment,
            ),
            self.id,
            at=moment,
        )
        await eventually(lambda: self.clocks_shown(incident_id, clocks), what=f"clocks of {incident_id}")
        return incident_id

    async def sla(self, incident_id: UUID) -> dict[str, Any]:
        response = await self.s.client.get(f"/v1/incidents/{incident_id}/sla", headers=self.auth())
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def clocks_shown(self, incident_id: UUID, count: int) -> bool:
        response = await self.s.client.get(f"/v1/incidents/{incident_id}/sla", headers=self.auth())
        return response.status_code == 200 and len(response.json()["clocks"]) == count

    def clock(self, body: dict[str, Any], kind: str) -> dict[str, Any]:
        return next(c for c in body["clocks"] if c["kind"] == kind)


async def announced(db: Database, tenant_id: UUID, event_type: str) -> list[dict[str, Any]]:
    """The data of every ``event_type`` the service announced for the tenant, oldest first."""
    async with db.sessions() as s:
        query = select(outbox.c.value).where(outbox.c.event_type == event_type)
        values = (await s.scalars(query.order_by(outbox.c.id))).all()
    return [e["data"] for e in map(json.loads, values) if e["tenantid"] == str(tenant_id)]


async def stored(db: Database, table: Table, tenant_id: UUID) -> int:
    """How many rows of ``table`` the tenant has."""
    async with db.sessions() as s:
        return int(await s.scalar(select(func.count()).where(table.c.tenant_id == tenant_id)) or 0)


def headline(
    incident_id: UUID, severity: Severity, client_id: UUID | None = None, status: str = "new"
) -> dict[str, Any]:
    return {
        "incident_id": incident_id,
        "reference_code": "INC-000001",
        "title": "Checkout down",
        "severity": severity,
        "status": status,
        "client_id": client_id,
    }
