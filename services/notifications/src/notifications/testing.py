"""Receivers for tests of delivery: a real SMTP server (aiosmtpd), a Slack-like HTTP receiver
(incoming webhook and chat.postMessage) and a webhook receiver that verifies signatures and,
like any well-behaved webhook consumer, deduplicates by the delivery id; and the incidents
triage would announce, for tests to route."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
from aiohttp import web
from aiokafka import AIOKafkaProducer
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.db import Database
from backbone.testing import Stack, eventually, free_port, publish
from contracts.enums import IncidentSource, Role, Severity, UserStatus
from contracts.envelope import Envelope
from contracts.events import IncidentCreated, UserRegistered
from notifications.adapters.orm import deliveries, outbox, principals
from notifications.config import Settings
from notifications.domain import signing


@dataclass
class Received:
    at: float
    headers: dict[str, str]
    body: bytes
    path: str
    query: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


# What a receiver answers: (status, body) per request; returning None means 200.
Behaviour = Callable[[Received], "tuple[int, Any] | None"]


@dataclass
class HttpReceiver:
    """An aiohttp server recording every request; ``behaviour`` decides each answer and may
    delay it (``delay_s``) to play a slow receiver."""

    behaviour: Behaviour | None = None
    delay_s: float = 0.0
    requests: list[Received] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        received = Received(
            time.monotonic(), dict(request.headers), await request.read(), request.path, dict(request.query)
        )
        self.requests.append(received)  # on arrival: a sender killed before the answer still counts
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        answer = self.behaviour(received) if self.behaviour else None
        status, body = answer or (200, self.default_body(received))
        return (
            web.json_response(body, status=status)
            if not isinstance(body, str)
            else web.Response(text=body, status=status)
        )

    def default_body(self, received: Received) -> Any:
        if received.path.endswith("chat.postMessage"):
            return {"ok": True, "channel": "C1", "ts": "1.0"}
        return "ok"

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[HttpReceiver]:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        self.port = self.port or free_port()
        site = web.TCPSite(runner, "127.0.0.1", self.port)
        await site.start()
        try:
            yield self
        finally:
            await runner.cleanup()

    def verified(self, secret: str, *, now: float | None = None) -> list[Received]:
        """Requests whose signature checks out with ``secret``."""
        good = []
        for r in self.requests:
            ts = r.headers.get(signing.TIMESTAMP_HEADER)
            sig = r.headers.get(signing.SIGNATURE_HEADER, "")
            if ts and signing.verify(secret, int(ts), r.body, sig, now=now or time.time()):
                good.append(r)
        return good

    def unique_deliveries(self) -> dict[str, Received]:
        """The first request per ``X-Delivery-Id``: what a deduplicating receiver acts on."""
        seen: dict[str, Received] = {}
        for r in self.requests:
            seen.setdefault(r.headers.get(signing.DELIVERY_HEADER, ""), r)
        return seen


@dataclass
class SmtpSink:
    """A real SMTP server (aiosmtpd) on a free local port, keeping every message it accepts."""

    messages: list[EmailMessage] = field(default_factory=list)
    # The envelope recipients (RCPT TO) of each message, in the order of ``messages``: where the
    # mail really goes, whatever its To header says (a Bcc or a stray RCPT shows only here).
    recipients: list[list[str]] = field(default_factory=list)
    port: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.recipients.append(list(envelope.rcpt_tos))
        self.messages.append(parsed)
        return "250 OK"

    @contextlib.contextmanager
    def running(self) -> Any:
        from aiosmtpd.controller import Controller

        self.port = self.port or free_port()
        controller = Controller(self, hostname="127.0.0.1", port=self.port)
        controller.start()
        try:
            yield self
        finally:
            controller.stop()


def documented_receiver(doc: Path) -> Callable[[str, dict[str, str], bytes], bool]:
    """The ``verify`` of the receiver snippet docs/notifications.md gives users (the first
    Python block after "## Webhook signatures"), run as they would paste it."""
    text = doc.read_text(encoding="utf-8")
    section = text[text.index("## Webhook signatures") :]
    start = section.index("```python\n") + len("```python\n")
    code = section[start : section.index("```", start)]
    scope: dict[str, Any] = {}
    exec(compile(code, f"{doc}:webhook-receiver", "exec"), scope)  # the doc is ours, as users paste it
    verify: Callable[[str, dict[str, str], bytes], bool] = scope["verify"]
    return verify


def incident_created(incident_id: UUID | None = None, *, number: int = 1, **fields: Any) -> IncidentCreated:
    """incident.created.v1 as triage sends it: an alert's complete outage, P1, unless ``fields``
    say otherwise; ``number`` gives the reference code and title."""
    values: dict[str, Any] = {
        "incident_id": incident_id or uuid4(),
        "reference_code": f"INC-{number:06d}",
        "title": f"Outage {number}",
        "severity": Severity.P1,
        "status": "open",
        "severity_flags": {"p1_complete_outage": True},
        "source": IncidentSource.ALERTMANAGER,
        "detected_at": datetime.now(UTC),
    }
    return IncidentCreated(**(values | fields))


def manual_incident(incident_id: UUID, **fields: Any) -> IncidentCreated:
    """incident.created.v1 of an incident a person reported (no severity flags), its reference
    the id's last digits."""
    values: dict[str, Any] = {
        "reference_code": f"INC-{str(incident_id)[-6:]}",
        "severity_flags": {},
        "source": IncidentSource.MANUAL,
    }
    return incident_created(incident_id, **(values | fields))


async def publish_incidents(
    producer: AIOKafkaProducer, topic_prefix: str, tenant_id: UUID, n: int, *, first: int = 1, **fields: Any
) -> list[Envelope]:
    """``n`` incidents created (numbered from ``first``), on incident.events as triage publishes
    them, keyed by the incident id."""
    return [
        await publish(
            producer, topic_prefix, incident_created(number=first + i, **fields), tenant_id=tenant_id
        )
        for i in range(n)
    ]


async def webhook_rule(
    api: Any, headers: dict[str, str], url: str, secret: str, event_types: list[str], *, name: str = "hook"
) -> tuple[str, str]:
    """A signed webhook channel to ``url`` and a rule routing ``event_types`` to it, through
    notifications' API (``api``: an HTTP client of the service); their ids."""
    channel = await api.post(
        "/v1/channels",
        json={"kind": "webhook", "name": name, "config": {"url": url, "secret": secret}},
        headers=headers,
    )
    assert channel.status_code == 201, channel.text
    rule = await api.post(
        "/v1/rules",
        json={"name": name, "event_types": event_types, "channel_ids": [channel.json()["id"]]},
        headers=headers,
    )
    assert rule.status_code == 201, rule.text
    return str(channel.json()["id"]), str(rule.json()["id"])


def local_settings(stack: Stack, **overrides: Any) -> Settings:
    """The service's settings for a test: a fresh secret key, quick delivery polls, and egress
    opened to the test's own receivers on 127.0.0.1 as an operator would."""
    values: dict[str, Any] = {
        "secret_key": Fernet.generate_key().decode(),
        "delivery_poll_s": 0.1,
        "egress_allow": "127.0.0.1/32",
    }
    return stack.settings(Settings, **(values | overrides))


def registered_user(
    name: str,
    tenant_id: UUID,
    role: Role,
    *,
    active: bool = True,
    client_id: UUID | None = None,
    vendor_id: UUID | None = None,
) -> UserRegistered:
    """Directory's user.registered for a new test user called ``name`` (mailed at example.com)."""
    return UserRegistered(
        user_id=uuid4(),
        tenant_id=tenant_id,
        role=role,
        status=UserStatus.ACTIVE if active else UserStatus.INACTIVE,
        client_id=client_id,
        vendor_id=vendor_id,
        name=name,
        email=f"{name}@example.com",
    )


async def register_users(
    producer: AIOKafkaProducer, stack: Stack, db: Database, users: list[UserRegistered]
) -> dict[str, UUID]:
    """Publishes users as directory would and waits until the service's replica holds them all;
    their ids by name."""
    for user in users:
        await publish(producer, stack.topic_prefix, user, tenant_id=user.tenant_id, source="directory")
    ids = [u.user_id for u in users]

    async def replicated() -> bool:
        async with db.sessions() as s:
            n = await s.scalar(
                select(func.count()).select_from(principals).where(principals.c.user_id.in_(ids))
            )
        return n == len(ids)

    await eventually(replicated, what="the users replica")
    return {u.name: u.user_id for u in users}


async def outbox_json(db: Database, *event_types: str) -> list[dict[str, Any]]:
    """Every event of these types the service has written to its outbox, as its JSON."""
    async with db.sessions() as s:
        values = (await s.scalars(select(outbox.c.value).where(outbox.c.event_type.in_(event_types)))).all()
    return [json.loads(v) for v in values]


async def outbox_envelopes(db: Database, event_type: str) -> list[Envelope]:
    """Every event of one type the service has written to its outbox."""
    return [Envelope.model_validate(e) for e in await outbox_json(db, event_type)]


async def delivery_statuses(session: AsyncSession, tenant_id: UUID) -> dict[str, int]:
    """How many of the tenant's deliveries are in each status."""
    rows = await session.execute(
        select(deliveries.c.status, func.count())
        .where(deliveries.c.tenant_id == tenant_id)
        .group_by(deliveries.c.status)
    )
    return {status: count for status, count in rows.tuples()}


@contextlib.contextmanager
def service_process(
    stack: Stack, port: int, secret_key: str, log: Path, **settings: str
) -> Iterator[subprocess.Popen[bytes]]:
    """notifications as its own process (uvicorn), configured through the environment
    (``settings``: more NOTIFICATIONS_ variables, or other values for these)."""
    env = {
        **os.environ,
        "DATABASE_URL": stack.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": stack.topic_prefix,
        "AUTH_PUBLIC_KEY": stack.keypair[1],
        "LOG_JSON": "false",
        "NOTIFICATIONS_SECRET_KEY": secret_key,
        "NOTIFICATIONS_DELIVERY_POLL_S": "0.1",
        "NOTIFICATIONS_DELIVERY_LEASE_S": "3",
        "NOTIFICATIONS_SEND_TIMEOUT_S": "2",
        "NOTIFICATIONS_EMAIL_RATE_PER_MINUTE": "100000",
        "NOTIFICATIONS_DB_POOL_SIZE": "4",
        "NOTIFICATIONS_EGRESS_ALLOW": "127.0.0.1/32",  # the test's receivers
        **{f"NOTIFICATIONS_{name.upper()}": value for name, value in settings.items()},
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "notifications.main:create", "--factory", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


async def ready(base: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            return (await client.get(f"{base}/readyz")).status_code == 200
    except httpx.HTTPError:
        return False
