"""One changes service over the session's real Kafka and PostgreSQL, with a world published to
it the way directory and triage would: users of every role in two tenants (one inactive), a
client and vendor with a component, open and closed incidents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from backbone.db import Database
from backbone.testing import Stack, eventually, serving
from changes.adapters.orm import components, incidents, outbox, principals
from changes.config import Settings
from changes.main import create
from changes.testing import World, incident_created
from contracts.enums import Role
from contracts.envelope import Envelope, new_id

# name -> (role, tenant, linked to the world's client/vendor); "inactive" is deactivated.
USERS: dict[str, tuple[Role, str]] = {
    "im": (Role.INCIDENT_MANAGER, "a"),
    "im2": (Role.INCIDENT_MANAGER, "a"),
    "ts": (Role.TECHNICAL_SUPPORT, "a"),
    "ts2": (Role.TECHNICAL_SUPPORT, "a"),
    "am": (Role.ACCOUNT_MANAGER, "a"),
    "exec": (Role.EXECUTIVE, "a"),
    "admin": (Role.SYSTEM_ADMINISTRATOR, "a"),
    "cc": (Role.CLIENT_CONTACT, "a"),
    "vc": (Role.VENDOR_CONTACT, "a"),
    "inactive": (Role.TECHNICAL_SUPPORT, "a"),
    "im_b": (Role.INCIDENT_MANAGER, "b"),
}


@dataclass
class Env:
    stack: Stack
    client: httpx.AsyncClient
    producer: AIOKafkaProducer
    db: Database
    tenant_a: UUID = field(default_factory=uuid4)
    tenant_b: UUID = field(default_factory=uuid4)
    client_id: UUID = field(default_factory=uuid4)
    other_client_id: UUID = field(default_factory=uuid4)
    vendor_id: UUID = field(default_factory=uuid4)
    component_id: UUID = field(default_factory=uuid4)
    users: dict[str, UUID] = field(default_factory=dict)
    incidents: dict[str, UUID] = field(default_factory=dict)

    def as_(self, name: str) -> dict[str, str]:
        role, tenant = USERS[name]
        return self.stack.auth(
            tenant_id=self.tenant_b if tenant == "b" else self.tenant_a,
            role=role.value,
            user_id=self.users[name],
            client_id=self.client_id if role is Role.CLIENT_CONTACT else None,
            vendor_id=self.vendor_id if role is Role.VENDOR_CONTACT else None,
        )

    async def post(self, path: str, who: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.client.post(path, json=body, headers=self.as_(who))

    async def count(self, table: Any, *where: Any) -> int:
        """Rows of ``table`` in this world's tenants: other test files' worlds share the database."""
        ours = table.c.tenant_id.in_((self.tenant_a, self.tenant_b))
        async with self.db.sessions() as s:
            return int(await s.scalar(select(func.count()).select_from(table).where(ours, *where)) or 0)

    async def events(self, subject: str | UUID) -> list[Envelope]:
        async with self.db.sessions() as s:
            values = (await s.scalars(select(outbox.c.value).where(outbox.c.key == str(subject)))).all()
        return sorted((Envelope.model_validate_json(v) for v in values), key=lambda e: e.id)


@pytest.fixture(scope="session")
async def env(stack: Stack) -> AsyncIterator[Env]:
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers, enable_idempotence=True)
    await producer.start()
    db = Database.connect(stack.database_url, "changes", pool_size=2)
    try:
        async with serving(create(stack.settings(Settings))) as client:
            e = Env(stack, client, producer, db)
            world = World(producer, stack.topic_prefix)
            for name, (role, tenant) in USERS.items():
                e.users[name] = uuid4()
                await world.user(
                    e.tenant_b if tenant == "b" else e.tenant_a,
                    e.users[name],
                    role,
                    active=name != "inactive",
                    client_id=e.client_id if role is Role.CLIENT_CONTACT else None,
                    vendor_id=e.vendor_id if role is Role.VENDOR_CONTACT else None,
                    name=name,
                )
            await world.component(e.tenant_a, e.component_id, e.client_id, vendor_id=e.vendor_id)
            e.incidents = {"open": new_id(), "closed": new_id(), "other_client": new_id(), "b": new_id()}
            on_component = {"client_id": e.client_id, "component_id": e.component_id}
            await world.incident(
                e.tenant_a, incident_created(e.incidents["open"], vendor_id=e.vendor_id, **on_component)
            )
            await world.incident(
                e.tenant_a, incident_created(e.incidents["closed"], **on_component), closed=True
            )
            await world.incident(
                e.tenant_a, incident_created(e.incidents["other_client"], client_id=e.other_client_id)
            )
            await world.incident(e.tenant_b, incident_created(e.incidents["b"]))

            async def replicated() -> bool:
                users, parts = await e.count(principals), await e.count(components)
                known = await e.count(incidents, incidents.c.status != "open")
                total = await e.count(incidents)
                return users == len(USERS) and known == 1 and parts == 1 and total == 4

            await eventually(replicated, what="the users, components and incidents replicas")
            yield e
    finally:
        await producer.stop()
        await db.dispose()
