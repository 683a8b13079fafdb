"""Helpers for tests that run services in-process against the real Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from backbone.kafka import create_topics, delete_topics
from backbone.migrations import upgrade
from backbone.settings import ServiceSettings
from contracts.topics import SERVICES, TOPIC_SPECS, TopicSpec

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
    the project's own scripts (DESIGN §9)."""
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


async def create_database(server_url: str, name: str) -> str:
    """A fresh database for one test session, so runs never see each other's rows."""
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def drop_database(server_url: str, name: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


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

    def settings(self, cls: type[S], **overrides: Any) -> S:
        values: dict[str, Any] = {
            "database_url": self.database_url,
            "kafka_bootstrap_servers": self.kafka_bootstrap_servers,
            "kafka_topic_prefix": self.topic_prefix,
            "log_json": False,
            "db_pool_size": 5,
            "outbox_poll_interval_s": 0.1,
            "consumer_retry_backoff_s": 0.05,
        }
        values.update(overrides)
        return cls(**values)

    async def create_topics(
        self, prefix: str | None = None, specs: tuple[TopicSpec, ...] = TOPIC_SPECS
    ) -> None:
        await create_topics(self.kafka_bootstrap_servers, prefix=prefix or self.topic_prefix, specs=specs)

    async def delete_topics(self, prefix: str | None = None) -> None:
        await delete_topics(self.kafka_bootstrap_servers, prefix=prefix or self.topic_prefix)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run an app's lifespan (broker, consumers, relay) and give an HTTP client to it."""
    async with (
        LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://test") as client,
    ):
        yield client


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
