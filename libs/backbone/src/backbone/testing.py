"""Helpers for tests that run services in-process against the real Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaProducer
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import Table, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from backbone.auth import TokenSigner, generate_keypair
from backbone.browser import browser_fixture as browser_fixture  # re-exported: tests import it from here
from backbone.browser import chromium as chromium
from backbone.clock import ManualClock
from backbone.db import Database
from backbone.kafka import create_topics, delete_topics
from backbone.migrations import upgrade
from backbone.settings import ServiceSettings
from backbone.tables import OUTBOX
from backbone.uow import UnitOfWork
from contracts.enums import IncidentSource
from contracts.envelope import Envelope, EventData, new_id
from contracts.events import IncidentReported
from contracts.topics import SERVICES, TOPIC_SPECS, Topic, TopicSpec

T = TypeVar("T")
S = TypeVar("S", bound=ServiceSettings)

REPO_ROOT = Path(__file__).resolve().parents[4]


@dataclass(frozen=True)
class Infra:
    database_url: str  # the server-level URL given by the environment
    kafka_bootstrap_servers: str


def _docker_engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def discover_infra(stack: contextlib.ExitStack) -> Infra:
    """Environment variables first, then testcontainers (when a Docker engine answers), then
    the project's own scripts (docs/architecture.md "Running locally and testing")."""
    db, kafka = os.environ.get("DATABASE_URL"), os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if db and kafka:
        return Infra(db, kafka)
    if _docker_engine_answers():
        from testcontainers.kafka import KafkaContainer
        from testcontainers.postgres import PostgresContainer

        pg = stack.enter_context(PostgresContainer("postgres:15"))
        kc = stack.enter_context(KafkaContainer())
        return Infra(pg.get_connection_url(driver="asyncpg"), kc.get_bootstrap_server())
    subprocess.run(["bash", str(REPO_ROOT / "deploy/local/infra.sh"), "up"], check=True)
    values = {}
    for line in (REPO_ROOT / ".local/infra.env").read_text().splitlines():
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").partition("=")
            values[key] = value.strip("'\"")
    return Infra(values["DATABASE_URL"], values["KAFKA_BOOTSTRAP_SERVERS"])


async def _on_server(server_url: str, statement: str) -> None:
    # CREATE/DROP DATABASE cannot run inside a transaction.
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def create_database(server_url: str, name: str) -> str:
    """A fresh database for one test session, so runs never see each other's rows."""
    await _on_server(server_url, f'CREATE DATABASE "{name}"')
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def drop_database(server_url: str, name: str) -> None:
    await _on_server(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def migrate_all(database_url: str, services: tuple[str, ...] = SERVICES) -> None:
    for service in services:
        # alembic's env runs its own event loop, so it runs in a thread here.
        await asyncio.to_thread(upgrade, service, database_url)


@dataclass
class Stack:
    """One test session's slice of the infrastructure: its own database and topic prefix."""

    database_url: str
    kafka_bootstrap_servers: str
    topic_prefix: str
    # One signing key pair per test session: directory signs with it, every service verifies.
    keypair: tuple[str, str] = field(default_factory=generate_keypair)

    def settings(self, cls: type[S], **overrides: Any) -> S:
        values: dict[str, Any] = {
            "database_url": self.database_url,
            "kafka_bootstrap_servers": self.kafka_bootstrap_servers,
            "kafka_topic_prefix": self.topic_prefix,
            "log_json": False,
            "db_pool_size": 5,
            "outbox_poll_interval_s": 0.1,
            "consumer_retry_backoff_s": 0.05,
            "auth_public_key": self.keypair[1],
            "signing_key": self.keypair[0],  # read by directory only
        }
        values.update(overrides)
        return cls(**values)

    def token(
        self,
        *,
        tenant_id: uuid.UUID,
        role: str = "system_administrator",
        user_id: uuid.UUID | None = None,
        client_id: uuid.UUID | None = None,
        vendor_id: uuid.UUID | None = None,
        ttl_s: int = 600,
        now: float | None = None,
    ) -> str:
        """An access token as directory would sign it, for tests of other services."""
        claims: dict[str, Any] = {
            "sub": str(user_id or uuid.uuid4()),
            "tid": str(tenant_id),
            "role": role,
            "cid": str(client_id) if client_id else None,
            "vid": str(vendor_id) if vendor_id else None,
        }
        return TokenSigner(self.keypair[0].encode(), ttl_s).issue(claims, now=now)

    def auth(self, **kwargs: Any) -> dict[str, str]:
        """Authorization header for ``token(**kwargs)``."""
        return {"Authorization": f"Bearer {self.token(**kwargs)}"}

    def environ(self, **extra: str) -> dict[str, str]:
        """This process's environment pointed at this stack, for a service run as a subprocess."""
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers,
            "KAFKA_TOPIC_PREFIX": self.topic_prefix,
            "AUTH_PUBLIC_KEY": self.keypair[1],
            **extra,
        }

    async def create_topics(
        self, prefix: str | None = None, specs: tuple[TopicSpec, ...] = TOPIC_SPECS
    ) -> None:
        await create_topics(self.kafka_bootstrap_servers, prefix=prefix or self.topic_prefix, specs=specs)

    async def delete_topics(self, prefix: str | None = None) -> None:
        await delete_topics(self.kafka_bootstrap_servers, prefix=prefix or self.topic_prefix)

    async def caught_up(
        self, settings: ServiceSettings, topic: Topic, *, group_id: str | None = None
    ) -> bool:
        """Whether the service's consumer group (or ``group_id``) has committed every offset of
        ``topic``: it has handled (or dropped as seen) every message there now, so a test may
        assert on what did not happen."""
        from aiokafka import AIOKafkaConsumer, TopicPartition
        from aiokafka.admin import AIOKafkaAdminClient

        name = settings.topic(topic.value)
        admin = AIOKafkaAdminClient(bootstrap_servers=self.kafka_bootstrap_servers)
        consumer = AIOKafkaConsumer(bootstrap_servers=self.kafka_bootstrap_servers, enable_auto_commit=False)
        await admin.start()
        await consumer.start()
        try:
            (described,) = await admin.describe_topics([name])
            partitions = [TopicPartition(name, p["partition"]) for p in described["partitions"]]
            ends = await consumer.end_offsets(partitions)
            done = await admin.list_consumer_group_offsets(
                group_id or settings.group_id, partitions=partitions
            )
            return bool(partitions) and all(
                ends[tp] == 0 or (tp in done and done[tp].offset >= ends[tp]) for tp in partitions
            )
        finally:
            await consumer.stop()
            await admin.close()


@contextlib.asynccontextmanager
async def scratch_stack(
    server_url: str,
    kafka_bootstrap_servers: str,
    *,
    services: tuple[str, ...] = SERVICES,
    prefix: str = "it_",
) -> AsyncIterator[Stack]:
    """A database and a topic prefix of their own, migrated for ``services``, removed afterwards:
    a test session or a benchmark never sees another's rows or messages."""
    name = unique(prefix)
    url = await create_database(server_url, name)
    stack = Stack(url, kafka_bootstrap_servers, f"{name}.")
    try:
        await migrate_all(url, services)
        await stack.create_topics()
        yield stack
    finally:
        with contextlib.suppress(Exception):  # the broker may be gone; the database goes anyway
            await stack.delete_topics()
        await drop_database(server_url, name)


@contextlib.asynccontextmanager
async def bench_stack(*services: str) -> AsyncIterator[Stack]:
    """A benchmark's scratch stack, on the servers the environment names (else the local ones
    deploy/local/infra.sh starts)."""
    server = os.environ.get("DATABASE_URL", "postgresql+asyncpg://incident:incident@127.0.0.1:55432/incident")
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    async with scratch_stack(server, kafka, services=services, prefix="bench_") as stack:
        yield stack


async def outbox_events(
    db: Database,
    *,
    event_type: str | None = None,
    key: str | uuid.UUID | None = None,
    tenant_id: uuid.UUID | None = None,
) -> list[Envelope]:
    """The events a service committed to its outbox (``db`` is connected to that service), in
    the order they are published; only those of ``event_type``, ``key`` and ``tenant_id`` given."""
    query = select(OUTBOX.c.value).order_by(OUTBOX.c.id)
    if event_type is not None:
        query = query.where(OUTBOX.c.event_type == event_type)
    if key is not None:
        query = query.where(OUTBOX.c.key == str(key))
    if tenant_id is not None:
        tenant = text("convert_from(value, 'UTF8')::jsonb ->> 'tenantid' = :tenant_id")
        query = query.where(tenant.bindparams(tenant_id=str(tenant_id)))
    async with db.sessions() as s:
        return [Envelope.model_validate_json(v) for v in (await s.scalars(query)).all()]


async def count_rows(db: Database, table: Table, tenant_id: uuid.UUID) -> int:
    """How many rows of ``table`` one tenant has (for polling what another component writes)."""
    async with db.sessions() as s:
        query = select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id)
        return int(await s.scalar(query) or 0)


@contextlib.asynccontextmanager
async def scratch_database(server_url: str, service: str, *, prefix: str = "ht_") -> AsyncIterator[Database]:
    """A database of its own migrated for one service, connected to its schema and dropped
    afterwards: the handler tier, which needs no broker."""
    name = unique(prefix)
    url = await create_database(server_url, name)
    db: Database | None = None
    try:
        await migrate_all(url, (service,))
        db = Database.connect(url, service, pool_size=2)
        yield db
    finally:
        if db is not None:
            await db.dispose()
        await drop_database(server_url, name)


def handler_fixtures(service: str, start: datetime) -> tuple[Any, Any, Any]:
    """The fixtures of a service's handler tier (docs/architecture.md "Conventions"), for its
    tests/handlers/conftest.py: ``db, clock, uow = handler_fixtures("audit", start)``. ``db``: the
    session's migrated database; ``clock``: a ManualClock at ``start``, fresh per test; ``uow``: a
    unit of work on that clock, rolled back after the test unless the test commits."""
    import pytest

    @pytest.fixture(scope="session", name="db")
    async def db(infra: Infra) -> AsyncIterator[Database]:
        async with scratch_database(infra.database_url, service) as database:
            yield database

    @pytest.fixture(name="clock")
    def clock() -> ManualClock:
        return ManualClock(start)

    @pytest.fixture(name="uow")
    async def uow(db: Database, clock: ManualClock) -> AsyncIterator[UnitOfWork]:
        async with UnitOfWork(db.sessions, source=service, clock=clock) as unit:
            yield unit

    return db, clock, uow


# The service that owns each topic: who a test publishing "as the owner would" pretends to be.
OWNERS = {
    Topic.DIRECTORY_EVENTS: "directory",
    Topic.DIRECTORY_STATE: "directory",
    Topic.INTAKE_EVENTS: "intake",
    Topic.INCIDENT_EVENTS: "triage",
    Topic.SLA_EVENTS: "sla",
    Topic.CHANGE_EVENTS: "changes",
    Topic.NOTIFICATION_EVENTS: "notifications",
    Topic.AUDIT_EVENTS: "audit",
}


async def send(producer: AIOKafkaProducer, topic_prefix: str, envelope: Envelope) -> Envelope:
    """An envelope on its topic, keyed by its subject, as the outbox relay sends it."""
    await producer.send_and_wait(
        topic_prefix + envelope.topic.value,
        envelope.model_dump_json().encode(),
        key=envelope.subject.encode(),
    )
    return envelope


async def publish(
    producer: AIOKafkaProducer,
    topic_prefix: str,
    data: EventData,
    *,
    tenant_id: uuid.UUID | None,
    source: str | None = None,
) -> Envelope:
    """Publish an event as its owner would (``source`` defaults to the topic's owner)."""
    envelope = Envelope.wrap(data, source=source or OWNERS[data.topic], tenant_id=tenant_id)
    return await send(producer, topic_prefix, envelope)


async def report_incident(
    producer: AIOKafkaProducer, topic_prefix: str, tenant_id: uuid.UUID, title: str
) -> uuid.UUID:
    """A person's report of an incident, published as intake would (intake.incident_reported.v1);
    the incident's id."""
    incident_id = new_id()
    reported = IncidentReported(
        incident_id=incident_id, source=IncidentSource.MANUAL, title=title, detected_at=datetime.now(UTC)
    )
    await publish(producer, topic_prefix, reported, tenant_id=tenant_id)
    return incident_id


async def created(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    """POST ``body`` to ``path``, expecting 201 Created; the created resource."""
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    resource: dict[str, Any] = response.json()
    return resource


def free_port() -> int:
    """A TCP port on loopback nobody listens on now (for servers a test or benchmark starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def stop_process(proc: subprocess.Popen[Any], within_s: float) -> None:
    """End a child process: asked to stop, killed if it has not within ``within_s``."""
    proc.terminate()
    try:
        proc.wait(within_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@contextlib.asynccontextmanager
async def producer_and_db(
    stack: Stack, service: str, *, pool_size: int = 2
) -> AsyncIterator[tuple[AIOKafkaProducer, Database]]:
    """A producer to play the other services on the broker, and the service's database as a test
    reads it; both closed afterwards."""
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers, enable_idempotence=True)
    await producer.start()
    db = Database.connect(stack.database_url, service, pool_size=pool_size)
    try:
        yield producer, db
    finally:
        await db.dispose()
        await producer.stop()


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run an app's lifespan (broker, consumers, relay) and give an HTTP client to it."""
    async with (
        LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://test") as client,
    ):
        yield client


async def incident_for(
    triage: httpx.AsyncClient, headers: dict[str, str], dedup_key: str, *, alert_count: int = 1
) -> dict[str, Any] | None:
    """The incident triage opened for an alert's dedup key once it counts ``alert_count`` alerts
    (an alert's answer names its key, not its incident: docs/adr/0013-durable-fast-ingest.md)."""
    response = await triage.get("/v1/incidents", headers=headers, params={"limit": 200})
    found = [i for i in response.json() if i["dedup_key"] == dedup_key] if response.is_success else []
    return found[0] if found and found[0]["alert_count"] >= alert_count else None


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, within: float = 30.0, interval: float = 0.1, what: str = ""
) -> T:
    """Poll until ``probe`` returns something truthy; fail with ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {within}s waiting for {what or probe!r}; last={last!r}")


@dataclass(frozen=True)
class TenantAdmin:
    tenant_id: str
    slug: str
    api_key: str


async def sign_in(directory: httpx.AsyncClient, api_key: str) -> dict[str, str]:
    """Exchange an API key at directory; the Authorization header for the token."""
    response = await directory.post("/v1/auth/token", json={"api_key": api_key})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def new_tenant(directory: httpx.AsyncClient, operator_key: str, slug: str | None = None) -> TenantAdmin:
    """A fresh tenant (and its administrator) per test, created by the platform operator."""
    slug = slug or unique("t-")
    response = await directory.post(
        "/v1/tenants", json={"slug": slug, "name": slug}, headers=await sign_in(directory, operator_key)
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return TenantAdmin(body["tenant_id"], slug, body["api_key"])


def assert_problem(response: httpx.Response, status: int, mentions: str | None = None) -> dict[str, Any]:
    """The answer is an RFC 9457 problem with this status and a detail (naming ``mentions``, in
    the detail or as its field, when given); returns the problem document."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    if mentions is not None:
        assert mentions in body["detail"] or mentions == body.get("field"), body
    return body


@contextlib.asynccontextmanager
async def on_a_port(app: FastAPI) -> AsyncIterator[str]:
    """Serve the app (lifespan included) with uvicorn on a free loopback port, for clients that
    need a real socket (a browser); its base URL."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        if task.done():
            task.result()  # raises what stopped it
        return bool(server.started)

    try:
        await eventually(started, within=60, what="uvicorn to start")
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
