"""An alert storm through the whole platform to a webhook receiver (bench/alert_storm.py and
tests/e2e/test_alert_storm.py).

``batches`` makes the storm (Alertmanager alerts over label sets, one group per ``instance``);
``Sender`` posts it to intake replicas as Alertmanager would (retrying a batch on connection
errors, 429 and 5xx, on the next replica) and records when each group was first accepted;
``WebhookReceiver`` is the end of the path: it records when each incident was first notified and
under which delivery ids; ``route_to`` sets the path up through the APIs (an Alertmanager
integration at directory, a webhook channel and a rule for ``incident.created.v1`` at
notifications); ``fleet`` runs services as processes (``incidentctl serve``) on a stack.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiohttp import web

from backbone import faults
from backbone.testing import Stack, eventually, free_port

Alert = dict[str, Any]
INCIDENT_CREATED = "incident.created.v1"


def batches(
    alerts: int, groups: int, batch: int, *, label: str = "Storm", seed: int = 4
) -> list[list[Alert]]:
    """``alerts`` firing alerts over ``groups`` label sets, shuffled, in batches of ``batch``."""
    order = [i % groups for i in range(alerts)]
    random.Random(seed).shuffle(order)
    return [[alert(label, g) for g in order[start : start + batch]] for start in range(0, alerts, batch)]


def alert(label: str, group: int) -> Alert:
    return {
        "status": "firing",
        "labels": {"alertname": label, "instance": group_name(group), "severity": "warning"},
        "annotations": {"summary": f"{label} on {group_name(group)}"},
        "startsAt": "2026-01-01T00:00:00Z",
    }


def group_name(group: int) -> str:
    return f"host-{group:05d}"


def webhook(alerts: list[Alert], receiver: str = "storm") -> dict[str, Any]:
    """Alertmanager's webhook body, as intake's /v1/alerts/alertmanager takes it."""
    return {"version": "4", "status": "firing", "receiver": receiver, "alerts": alerts}


@dataclass
class Sender:
    """Posts webhook bodies to intake replicas, ``in_flight`` at once; like Alertmanager it
    retries a batch on connection errors, 429 and 5xx, on the next replica."""

    urls: Sequence[str]
    token: str
    http: httpx.AsyncClient
    in_flight: int = 8
    give_up_s: float = 300.0
    accepted_at: dict[str, float] = field(default_factory=dict)  # group -> first 2xx (time.time())
    first_sent: float | None = None
    last_answered: float | None = None
    requests: int = 0
    retries: int = 0
    failures: list[str] = field(default_factory=list)
    # Called with the replica's URL and the batch right after a 2xx (a test kills a replica there).
    on_accepted: Callable[[str, list[Alert]], Awaitable[None]] | None = None

    async def post(self, alerts: list[Alert], replica: int | None = None) -> None:
        turn = random.randrange(len(self.urls)) if replica is None else replica
        deadline, backoff = time.monotonic() + self.give_up_s, 0.1
        body, headers = webhook(alerts), {"Authorization": f"Bearer {self.token}"}
        while True:
            url = self.urls[turn % len(self.urls)]
            self.requests += 1
            try:
                r = await self.http.post(f"{url}/v1/alerts/alertmanager", json=body, headers=headers)
                if r.status_code < 300:
                    now = time.time()
                    self.last_answered = max(self.last_answered or now, now)
                    for a in alerts:
                        self.accepted_at.setdefault(a["labels"]["instance"], now)
                    if self.on_accepted is not None:
                        await self.on_accepted(url, alerts)
                    return
                if r.status_code != 429 and r.status_code < 500:
                    self.failures.append(f"HTTP {r.status_code}: {r.text[:200]}")
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.failures.append(f"gave up after {self.give_up_s:.0f}s")
                return
            self.retries += 1
            turn += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)

    async def send(self, bodies: Sequence[list[Alert]], replica: int | None = None) -> None:
        """Every batch, ``in_flight`` at once (to ``replica`` first when given, else any)."""
        gate = asyncio.Semaphore(self.in_flight)
        self.first_sent = self.first_sent or time.time()

        async def one(alerts: list[Alert]) -> None:
            async with gate:
                await self.post(alerts, replica)

        await asyncio.gather(*(one(b) for b in bodies))

    @property
    def accepted_s(self) -> float:
        """First request sent to last one answered."""
        assert self.first_sent is not None and self.last_answered is not None
        return self.last_answered - self.first_sent


@dataclass
class WebhookReceiver:
    """The webhook receiver at the end of the path: when each incident was first notified
    (time.time()) and under which ``X-Delivery-Id``s."""

    port: int = field(default_factory=free_port)
    posts: int = 0
    first_at: dict[str, float] = field(default_factory=dict)  # incident id -> first arrival
    delivery_ids: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        now = time.time()
        self.posts += 1
        incident = str((body.get("data") or {}).get("incident_id") or body.get("subject"))
        self.first_at.setdefault(incident, now)
        self.delivery_ids[incident].add(request.headers.get("X-Delivery-Id", ""))
        return web.Response(text="ok")

    def notified_twice(self) -> int:
        """Incidents that arrived under more than one delivery id."""
        return sum(1 for ids in self.delivery_ids.values() if len(ids) > 1)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[WebhookReceiver]:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        async with listening(app, self.port):
            yield self


@contextlib.asynccontextmanager
async def listening(app: web.Application, port: int) -> AsyncIterator[None]:
    """An aiohttp app served on 127.0.0.1:``port`` while the block runs."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield
    finally:
        await runner.cleanup()


@dataclass
class Route:
    tenant_id: str
    alert_token: str


async def route_to(
    http: httpx.AsyncClient, directory: str, notifications: str, intake: str, api_key: str, hook: str
) -> Route:
    """Through the APIs, as a tenant's administrator (``api_key``): an Alertmanager integration
    at directory, a webhook channel to ``hook`` and a rule routing incident.created.v1 to it at
    notifications; returns once intake accepts the integration's token."""
    token = await http.post(f"{directory}/v1/auth/token", json={"api_key": api_key})
    assert token.status_code == 200, token.text
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    created = await http.post(
        f"{directory}/v1/integrations", json={"kind": "alertmanager", "name": "storm"}, headers=auth
    )
    assert created.status_code == 201, created.text
    integration = created.json()

    # 403 until the administrator has reached notifications' replica of the users.
    await eventually(
        lambda: answers(http.get(f"{notifications}/v1/channels", headers=auth), 401, 403),
        within=90,
        interval=0.3,
        what="the administrator at notifications",
    )
    channel = await http.post(
        f"{notifications}/v1/channels",
        json={"kind": "webhook", "name": "storm", "config": {"url": hook, "secret": "storm-secret"}},
        headers=auth,
    )
    assert channel.status_code == 201, channel.text
    rule = await http.post(
        f"{notifications}/v1/rules",
        json={"name": "storm", "event_types": [INCIDENT_CREATED], "channel_ids": [channel.json()["id"]]},
        headers=auth,
    )
    assert rule.status_code == 201, rule.text

    # An empty webhook: 401 until intake's replica of the integrations has the token.
    bearer = {"Authorization": f"Bearer {integration['token']}"}
    await eventually(
        lambda: answers(http.post(f"{intake}/v1/alerts/alertmanager", json=webhook([]), headers=bearer), 401),
        within=90,
        interval=0.3,
        what="the integration at intake",
    )
    return Route(str(integration["tenant_id"]), str(integration["token"]))


async def answers(request: Awaitable[httpx.Response], *not_: int) -> bool:
    """The request was answered, with none of ``not_`` (a probe for ``eventually``)."""
    try:
        return (await request).status_code not in not_
    except httpx.HTTPError:
        return False


def fleet(
    stack: Stack,
    root: Path,
    replicas: dict[str, int],
    *,
    settings: dict[str, dict[str, str]] | None = None,
    **env: str,
) -> faults.Fleet:
    """Services as processes (``incidentctl serve``, as `make up` runs them) on ``stack``'s
    database and topics, ``replicas[service]`` of each; their keys and logs under ``root``."""
    keys = root / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    (keys / "signing-key.pem").write_text(stack.keypair[0])
    (keys / "public-key.pem").write_text(stack.keypair[1])
    base = faults.service_env(stack.database_url, stack.kafka_bootstrap_servers, keys, stack.topic_prefix)
    fleet = faults.Fleet({**base, **env}, root / "log")
    for service, count in replicas.items():
        for n in range(1, count + 1):
            fleet.add(service, n, **(settings or {}).get(service, {}))
    return fleet


async def started(fleet: faults.Fleet, within_s: float = 180) -> None:
    for p in fleet.processes.values():
        fleet.start(p)
    await asyncio.gather(*(fleet.wait_ready(p, within_s) for p in fleet.processes.values()))


async def problems(database_url: str, tenant: str, receiver: WebhookReceiver, groups: int) -> list[str]:
    """What is not exactly one incident and one sent delivery per group, each notified once at
    the receiver (empty: all is well)."""
    conn = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        incidents = await conn.fetchval(
            "SELECT count(*) FROM triage.incidents WHERE tenant_id = $1", uuid.UUID(tenant)
        )
        grouped = await conn.fetchval(
            "SELECT count(DISTINCT labels->>'instance') FROM triage.incidents WHERE tenant_id = $1",
            uuid.UUID(tenant),
        )
        per_incident = await conn.fetch(
            "SELECT count(d.id) AS n FROM triage.incidents i LEFT JOIN notifications.deliveries d "
            "ON d.incident_id = i.id WHERE i.tenant_id = $1 GROUP BY i.id",
            uuid.UUID(tenant),
        )
        statuses = dict(
            await conn.fetch(
                "SELECT status, count(*) FROM notifications.deliveries WHERE tenant_id = $1 GROUP BY 1",
                uuid.UUID(tenant),
            )
        )
    finally:
        await conn.close()
    found = []
    if incidents != groups or grouped != groups:
        found.append(f"{incidents} incidents over {grouped} groups, not {groups} over {groups}")
    if any(r["n"] != 1 for r in per_incident):
        found.append(f"incidents by their number of deliveries: {Counter(r['n'] for r in per_incident)}")
    if statuses != {"sent": groups}:
        found.append(f"deliveries by status: {statuses}")
    if len(receiver.first_at) != groups or receiver.notified_twice():
        found.append(
            f"receiver: {len(receiver.first_at)} incidents notified, "
            f"{receiver.notified_twice()} of them twice"
        )
    return found
