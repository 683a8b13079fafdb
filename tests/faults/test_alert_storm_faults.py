"""An alert storm over the real stack while faults are injected one at a time; afterwards
nothing is lost, nothing doubled, nothing dead-lettered (tests/faults/README.md).

The stack is private to this module (backbone.faults): its own PostgreSQL cluster and Kafka
broker in a temporary directory, every service a real process (`incidentctl serve`), with two
replicas of intake, triage and notifications. Setup goes through the APIs: `incidentctl
bootstrap`, an Alertmanager integration at directory, two webhook channels and a rule for
incident.created.v1 at notifications, delivering to a receiver in this module.

The storm is sent in chunks, one chunk flowing while each fault is injected; like Alertmanager,
the sender retries a request on connection errors, 429 and 5xx (on the other intake replica).

FAULTS_SCALE=full: 20,000 alerts over 1,000 groups and every fault; default (CI): 2,000 alerts
over 100 groups and a subset. The counts are printed and written to FAULTS_REPORT (default
.local/faults/report.json).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiohttp import web
from aiokafka import AIOKafkaConsumer, TopicPartition

from backbone import faults, storm
from backbone.auth import generate_keypair
from backbone.kafka import create_topics
from backbone.testing import REPO_ROOT, free_port, migrate_all
from contracts.topics import SERVICES, dlq_topic

pytestmark = pytest.mark.integration

FULL = os.environ.get("FAULTS_SCALE", "").lower() == "full"
ALERTS, GROUPS, BATCH = (20_000, 1_000, 100) if FULL else (2_000, 100, 20)
SETTLE_S = float(os.environ.get("FAULTS_SETTLE_S", "240" if FULL else "90"))
REPORT = Path(os.environ.get("FAULTS_REPORT", REPO_ROOT / ".local/faults/report.json"))
CHANNELS = ("a", "b")  # two webhook channels: one delivery per incident and channel
REPLICATED = ("intake", "triage", "notifications")
SERVICE_SETTINGS: dict[str, dict[str, str]] = {
    "notifications": {
        "EGRESS_ALLOW": "127.0.0.1/32",  # the receiver is on loopback
        "DELIVERY_POLL_S": "0.2",
        "DELIVERY_LEASE_S": "10",  # a delivery claimed by a killed replica is retried after this
        "SEND_TIMEOUT_S": "3",
        "RETRY_INITIAL_S": "0.5",
        "RETRY_MAX_S": "5",
        "REMINDER_POLL_S": "0.5",
    }
}


# --------------------------------------------------------------------------- the receiver


@dataclass
class Receiver:
    """Counts webhook deliveries by X-Delivery-Id, incident and channel (the request path)."""

    port: int = field(default_factory=free_port)
    posts: int = 0
    by_pair: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))

    def url(self, channel: str) -> str:
        return f"http://127.0.0.1:{self.port}/{channel}"

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.posts += 1
        incident = str(body.get("data", {}).get("incident_id") or body.get("subject"))
        self.by_pair[(incident, request.match_info["channel"])].add(request.headers.get("X-Delivery-Id", ""))
        return web.Response(text="ok")

    def distinct_deliveries(self) -> int:
        return len({d for ids in self.by_pair.values() for d in ids})

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Receiver]:
        app = web.Application()
        app.router.add_post("/{channel}", self.handle)
        async with storm.listening(app, self.port):
            yield self


# --------------------------------------------------------------------------- the storm


@dataclass
class Storm:
    """Posts Alertmanager webhooks to the intake replicas, retrying as Alertmanager does."""

    urls: list[str]
    token: str
    http: httpx.AsyncClient
    deadline: float
    requests: int = 0
    accepted: int = 0
    failed: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    samples: dict[str, str] = field(default_factory=dict)  # the first answer of each retried status

    @staticmethod
    def batches(alerts: int, groups: int, batch: int, label: str) -> list[list[dict[str, Any]]]:
        order = [i % groups for i in range(alerts)]
        random.Random(7).shuffle(order)
        return [
            [
                {
                    "status": "firing",
                    "labels": {"alertname": label, "instance": f"host-{g:05d}", "severity": "warning"},
                    "annotations": {"summary": f"{label} on host-{g:05d}"},
                    "startsAt": "2026-01-01T00:00:00Z",
                }
                for g in order[start : start + batch]
            ]
            for start in range(0, alerts, batch)
        ]

    async def post(self, alerts: list[dict[str, Any]]) -> None:
        body = {"version": "4", "status": "firing", "receiver": "faults", "alerts": alerts}
        turn, backoff = random.randrange(len(self.urls)), 0.1
        while True:
            self.requests += 1
            url = self.urls[turn % len(self.urls)]
            try:
                r = await self.http.post(
                    f"{url}/v1/alerts/alertmanager",
                    json=body,
                    headers={"Authorization": f"Bearer {self.token}"},
                )
                if r.status_code < 300:
                    self.accepted += 1
                    return
                if r.status_code != 429 and r.status_code < 500:
                    self.failed += 1
                    self.failures[f"HTTP {r.status_code}: {r.text[:120]}"] += 1
                    return
                self.retries[f"HTTP {r.status_code}"] += 1
                self.samples.setdefault(f"HTTP {r.status_code}", r.text[:300])
            except httpx.TransportError as exc:
                self.retries[type(exc).__name__] += 1
            if time.monotonic() > self.deadline:
                self.failed += 1
                self.failures["gave up at the deadline"] += 1
                return
            turn += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)

    async def send(self, batches: list[list[dict[str, Any]]], spread_s: float) -> None:
        """The batches spread over ``spread_s`` seconds, each retried until accepted."""
        step = spread_s / max(len(batches), 1)

        async def later(i: int, alerts: list[dict[str, Any]]) -> None:
            await asyncio.sleep(i * step)
            await self.post(alerts)

        await asyncio.gather(*(later(i, b) for i, b in enumerate(batches)))


# --------------------------------------------------------------------------- the platform


@dataclass
class Platform:
    infra: faults.PrivateInfra
    fleet: faults.Fleet
    receiver: Receiver
    tenant_id: uuid.UUID
    alert_token: str
    _su: asyncpg.Connection | None = None

    async def su(self) -> asyncpg.Connection:
        """The superuser connection, made again after a PostgreSQL restart."""
        if self._su is None or self._su.is_closed():
            self._su = await self.infra.superuser()
        return self._su

    async def drop_su(self) -> None:
        if self._su is not None:
            with contextlib.suppress(Exception):
                await self._su.close(timeout=2)
        self._su = None

    def intake_urls(self) -> list[str]:
        return [p.url for p in self.fleet.replicas("intake")]


def say(what: str) -> None:
    print(f"[faults {time.strftime('%H:%M:%S')}] {what}", flush=True)


async def _setup(infra: faults.PrivateInfra, receiver: Receiver, root: Path) -> Platform:
    say(f"private stack in {root}")
    # What `incidentctl keys generate`, `topics` and `migrate` do, in this process: each CLI run
    # would import the whole platform again (seconds of CPU on a busy 2-core machine).
    keys = root / "keys"
    keys.mkdir()
    signing, public = generate_keypair()
    (keys / "signing-key.pem").write_text(signing)
    (keys / "public-key.pem").write_text(public)
    env = faults.platform_env(infra, keys)
    await create_topics(infra.bootstrap_servers)
    await migrate_all(infra.database_url)
    say("topics and schemas made; starting the services")
    fleet = faults.Fleet(env, infra.log_dir)
    for service in SERVICES:
        for replica in range(1, (2 if service in REPLICATED else 1) + 1):
            fleet.add(service, replica, DB_POOL_SIZE="4", **SERVICE_SETTINGS.get(service, {}))
    for p in fleet.processes.values():
        fleet.start(p)
    await asyncio.gather(*(fleet.wait_ready(p, 150) for p in fleet.processes.values()))

    say("services ready; setting up through the APIs")
    directory = fleet.processes["directory-1"].url
    async with httpx.AsyncClient(timeout=15) as http:
        # The first tenant, as `incidentctl bootstrap` makes it.
        boot = await http.post(f"{directory}/v1/bootstrap", json={"slug": "faults", "name": "Faults"})
        assert boot.status_code == 201, boot.text
        token = (
            await http.post(f"{directory}/v1/auth/token", json={"api_key": boot.json()["api_key"]})
        ).json()
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        created = await http.post(
            f"{directory}/v1/integrations", json={"kind": "alertmanager", "name": "storm"}, headers=auth
        )
        assert created.status_code == 201, created.text
        integration = created.json()

        notifications = fleet.processes["notifications-1"].url

        async def replicated() -> bool:  # the admin reached notifications' user replica
            return (await http.get(f"{notifications}/v1/channels", headers=auth)).status_code == 200

        await _until(replicated, 60, "the admin user at notifications")
        channel_ids = []
        for name in CHANNELS:
            channel = await http.post(
                f"{notifications}/v1/channels",
                json={
                    "kind": "webhook",
                    "name": f"hook-{name}",
                    "config": {"url": receiver.url(name), "secret": "storm-secret"},
                },
                headers=auth,
            )
            assert channel.status_code == 201, channel.text
            channel_ids.append(channel.json()["id"])
        rule = await http.post(
            f"{notifications}/v1/rules",
            json={
                "name": "every incident",
                "event_types": ["incident.created.v1"],
                "channel_ids": channel_ids,
            },
            headers=auth,
        )
        assert rule.status_code == 201, rule.text

    platform = Platform(infra, fleet, receiver, uuid.UUID(integration["tenant_id"]), integration["token"])
    su = await platform.su()

    async def intake_knows() -> bool:
        return bool(await su.fetchval("SELECT count(*) FROM intake.integrations WHERE name = 'storm'"))

    await _until(intake_knows, 60, "the integration at intake")
    return platform


async def _until(probe: Callable[[], Awaitable[bool]], within_s: float, what: str) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if await probe():
                return
        await asyncio.sleep(0.3)
    raise AssertionError(f"timed out after {within_s}s waiting for {what}")


@pytest.fixture(scope="module")
async def platform() -> AsyncIterator[Platform]:
    keep = bool(os.environ.get("FAULTS_KEEP"))
    async with contextlib.AsyncExitStack() as stack:
        root = await stack.enter_async_context(faults.private_root(keep=keep))
        infra = faults.PrivateInfra(root)
        stack.push_async_callback(infra.stop)
        await infra.start()
        say("PostgreSQL and Kafka up")
        receiver = await stack.enter_async_context(Receiver().running())
        fleet_box: list[faults.Fleet] = []
        stack.callback(lambda: [f.stop_all() for f in fleet_box])
        p = await _setup(infra, receiver, root)
        fleet_box.append(p.fleet)
        stack.push_async_callback(p.drop_su)
        yield p


# --------------------------------------------------------------------------- the faults


@dataclass
class Fault:
    name: str
    inject: Callable[[Platform], Awaitable[str]]


def kill(service: str) -> Fault:
    """The replica of ``service`` killed least so far (after a lock holder's kill, the other)."""

    async def inject(p: Platform) -> str:
        victim = min(p.fleet.replicas(service), key=lambda r: r.kills)
        await p.fleet.restart(victim)
        return f"{victim.name} killed (SIGKILL), restarted"

    return Fault(f"kill -9 {service}", inject)


def kill_relay_holder(service: str) -> Fault:
    async def inject(p: Platform) -> str:
        replicas = p.fleet.replicas(service)
        holder = await faults.relay_lock_holder(await p.su(), service, replicas)
        note = "caught holding the relay lock"
        if holder is None:
            holder, note = replicas[0], "relay lock not caught held within 10 s; killed replica 1"
        await p.fleet.restart(holder)
        return f"{holder.name} {note}, killed (SIGKILL), restarted"

    return Fault(f"kill -9 {service} relay-lock holder", inject)


def restart_postgres() -> Fault:
    async def inject(p: Platform) -> str:
        await p.drop_su()
        await p.infra.restart_postgres()
        return "pg_ctl stop -m fast, start"

    return Fault("restart PostgreSQL", inject)


def restart_kafka() -> Fault:
    async def inject(p: Platform) -> str:
        await p.infra.restart_kafka()
        return "controlled shutdown, start"

    return Fault("restart Kafka broker", inject)


def statement_timeout(value: str = "1ms", hold_s: float = 4) -> Fault:
    async def inject(p: Platform) -> str:
        async with faults.statement_timeout(await p.su(), value):
            await asyncio.sleep(hold_s)
        return f"statement_timeout={value} for {hold_s}s"

    return Fault("statement_timeout", inject)


def exhaust_connections(hold_s: float = 5) -> Fault:
    async def inject(p: Platform) -> str:
        async with faults.connections_exhausted(p.infra, await p.su(), SERVICES) as taken:
            await asyncio.sleep(hold_s)
        return f"{taken} connections taken for {hold_s}s, the services' own cut"

    return Fault("connection exhaustion", inject)


def schedule() -> list[Fault]:
    if not FULL:
        return [
            kill_relay_holder("intake"),
            kill("notifications"),
            statement_timeout(),
            exhaust_connections(),
            restart_postgres(),
            restart_kafka(),
        ]
    return [
        kill("directory"),
        kill_relay_holder("intake"),
        kill("intake"),
        kill_relay_holder("triage"),
        kill("triage"),
        kill("sla"),
        kill("changes"),
        kill_relay_holder("notifications"),
        kill("notifications"),
        kill("audit"),
        restart_kafka(),
        restart_postgres(),
        statement_timeout(),
        exhaust_connections(),
    ]


# --------------------------------------------------------------------------- the counts


async def counts(p: Platform) -> dict[str, Any]:
    su = await p.su()
    tenant = p.tenant_id
    events = " UNION ALL ".join(
        f"SELECT event_id FROM {s}.outbox WHERE topic LIKE '%.events' AND topic <> 'audit.events'"
        for s in SERVICES
        if s != "audit"
    )
    c: dict[str, Any] = {
        "incidents": await su.fetchval("SELECT count(*) FROM triage.incidents WHERE tenant_id = $1", tenant),
        "events": await su.fetchval(f"SELECT count(*) FROM ({events}) e"),
        "audit_records": await su.fetchval("SELECT count(*) FROM audit.entries"),
        "events_not_audited": await su.fetchval(
            f"SELECT count(*) FROM ({events}) e WHERE NOT EXISTS "
            "(SELECT 1 FROM audit.entries a WHERE a.event_id = e.event_id)"
        ),
        "audit_records_without_event": await su.fetchval(
            f"SELECT count(*) FROM audit.entries a WHERE a.event_id NOT IN ({events})"
        ),
        "outbox_unpublished": {
            s: await su.fetchval(f"SELECT count(*) FROM {s}.outbox WHERE published_at IS NULL")
            for s in SERVICES
        },
        "inbox_dead_lettered": {
            s: await su.fetchval(f"SELECT count(*) FROM {s}.inbox WHERE outcome = 'dead_lettered'")
            for s in SERVICES
        },
        "deliveries_by_status": dict(
            await su.fetch(
                "SELECT status, count(*) FROM notifications.deliveries WHERE tenant_id = $1 GROUP BY status",
                tenant,
            )
        ),
        "webhook_posts": p.receiver.posts,
        "webhook_distinct_delivery_ids": p.receiver.distinct_deliveries(),
        "webhook_incident_channel_pairs": len(p.receiver.by_pair),
        "webhook_pairs_with_several_delivery_ids": sum(
            1 for ids in p.receiver.by_pair.values() if len(ids) > 1
        ),
    }
    c["dlq_messages"] = await asyncio.wait_for(dlq_counts(p.infra.bootstrap_servers), 30)
    return c


async def dlq_counts(bootstrap: str) -> dict[str, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await consumer.start()
    try:
        await consumer.topics()
        out = {}
        for s in SERVICES:
            topic = dlq_topic(s)
            parts = [TopicPartition(topic, n) for n in consumer.partitions_for_topic(topic) or ()]
            ends, starts = await consumer.end_offsets(parts), await consumer.beginning_offsets(parts)
            out[topic] = sum(ends[tp] - starts[tp] for tp in parts)
        return out
    finally:
        await consumer.stop()


def settled(c: dict[str, Any], groups: int) -> bool:
    return (
        c["incidents"] >= groups
        and c["webhook_incident_channel_pairs"] >= groups * len(CHANNELS)
        and not any(c["outbox_unpublished"].values())
        and c["events_not_audited"] == 0
        and set(c["deliveries_by_status"]) <= {"sent", "failed"}
    )


def problems(c: dict[str, Any], groups: int, storm: Storm) -> list[str]:
    out = []
    if storm.failed:
        out.append(f"{storm.failed} storm requests never accepted: {dict(storm.failures)}")
    if c["incidents"] != groups:
        out.append(f"incidents {c['incidents']} != groups {groups}")
    if c["webhook_incident_channel_pairs"] != groups * len(CHANNELS):
        out.append(f"incident×channel pairs delivered {c['webhook_incident_channel_pairs']} != {groups * 2}")
    if c["webhook_pairs_with_several_delivery_ids"]:
        out.append(f"{c['webhook_pairs_with_several_delivery_ids']} incident×channel pairs notified twice")
    if c["deliveries_by_status"] != {"sent": groups * len(CHANNELS)}:
        out.append(f"deliveries by status {c['deliveries_by_status']} != sent: {groups * 2}")
    if c["events_not_audited"] or c["audit_records"] != c["events"]:
        out.append(
            f"audit records {c['audit_records']} vs events {c['events']} "
            f"({c['events_not_audited']} events not audited)"
        )
    if any(c["outbox_unpublished"].values()):
        out.append(f"outbox rows never published: {c['outbox_unpublished']}")
    if any(c["dlq_messages"].values()):
        out.append(f"DLQ messages: { {k: v for k, v in c['dlq_messages'].items() if v} }")
    if any(c["inbox_dead_lettered"].values()):
        out.append(f"inbox rows dead_lettered: { {k: v for k, v in c['inbox_dead_lettered'].items() if v} }")
    return out


def write_report(report: dict[str, Any]) -> None:
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2, default=str))
    print("\n=== fault-injection storm ===")
    print(json.dumps(report, indent=2, default=str))
    print(f"(written to {REPORT})")


# --------------------------------------------------------------------------- the tests


# Bounds fixture setup too: a loaded 2-core machine starts ten Python services and a JVM slowly.
@pytest.mark.timeout(2400 if FULL else 900)
async def test_alert_storm_survives_crashes_restarts_timeouts_and_exhaustion(platform: Platform) -> None:
    p = platform
    plan = schedule()
    started = time.monotonic()
    batches = Storm.batches(ALERTS, GROUPS, BATCH, "FaultStorm")
    chunks = [batches[i :: len(plan) + 1] for i in range(len(plan) + 1)]
    timeline: list[dict[str, Any]] = []
    async with httpx.AsyncClient(timeout=20) as http:
        storm = Storm(p.intake_urls(), p.alert_token, http, deadline=started + (900 if FULL else 200))
        for fault, chunk in zip(plan, chunks, strict=False):
            sending = asyncio.create_task(storm.send(chunk, spread_s=4))
            await asyncio.sleep(1)  # alerts in flight when the fault hits
            t0 = time.monotonic()
            try:
                note = await asyncio.wait_for(fault.inject(p), 180)
            except Exception as exc:
                note = f"injection failed: {exc!r}"
            timeline.append(
                {
                    "fault": fault.name,
                    "at_s": round(t0 - started, 1),
                    "took_s": round(time.monotonic() - t0, 1),
                    "note": note,
                }
            )
            say(f"{fault.name}: {note} ({timeline[-1]['took_s']}s)")
            await sending
        await storm.send(chunks[-1], spread_s=2)
    storm_s = time.monotonic() - started

    say(f"storm sent in {storm_s:.0f}s; waiting for quiescence (at most {SETTLE_S:.0f}s)")
    deadline = time.monotonic() + SETTLE_S
    c: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            c = await counts(p)
        except Exception as exc:  # the stack may still be recovering; try again until the deadline
            say(f"counting failed: {exc!r}")
        if c and settled(c, GROUPS):
            break
        await asyncio.sleep(2)
    if not c:
        c = await counts(p)

    report = {
        "scale": "full" if FULL else "ci",
        "alerts": ALERTS,
        "groups": GROUPS,
        "channels": len(CHANNELS),
        "storm": {
            "seconds": round(storm_s, 1),
            "requests": storm.requests,
            "accepted": storm.accepted,
            "failed": storm.failed,
            "retried": dict(storm.retries),
            "failures": dict(storm.failures),
            "retried_answers": storm.samples,
        },
        "faults": timeline,
        "postgres_log": {
            "statement_timeouts": p.infra.postgres_log_count("canceling statement due to statement timeout"),
            "too_many_clients": p.infra.postgres_log_count("too many clients already")
            + p.infra.postgres_log_count("remaining connection slots are reserved"),
            "terminated_by_administrator": p.infra.postgres_log_count(
                "terminating connection due to administrator command"
            ),
        },
        "settled_after_storm_s": round(time.monotonic() - started - storm_s, 1),
        "counts": c,
    }
    found = problems(c, GROUPS, storm)
    report["problems"] = found
    write_report(report)
    for proc in p.fleet.processes.values():
        assert proc.pid is not None, f"{proc.name} died on its own:\n{p.fleet.tail(proc)}"
    assert not found, "\n".join(found)


@pytest.mark.timeout(300)
async def test_a_poison_outbox_row_does_not_stop_the_others(platform: Platform) -> None:
    """A row the broker can never take (larger than any message it accepts), first in
    triage's outbox: the incidents after it still reach notifications."""
    p = platform
    su = await p.su()
    await su.execute(
        "INSERT INTO triage.outbox (event_id, event_type, topic, key, value) "
        "VALUES ($1, 'incident.updated.v1', 'incident.events', 'poison', $2)",
        uuid.uuid4(),
        b"x" * (2 * 1024 * 1024),
    )
    before = len(p.receiver.by_pair)
    async with httpx.AsyncClient(timeout=20) as http:
        storm = Storm(p.intake_urls(), p.alert_token, http, deadline=time.monotonic() + 60)
        await storm.send(Storm.batches(20, 10, 10, "AfterPoison"), spread_s=0)
    assert storm.failed == 0, storm.failures

    async def delivered() -> bool:
        return len(p.receiver.by_pair) >= before + 10 * len(CHANNELS)

    with contextlib.suppress(AssertionError):
        await _until(delivered, 60, "notifications of incidents after the poison row")
    print(
        f"\npoison outbox row: {len(p.receiver.by_pair) - before} of {10 * len(CHANNELS)} deliveries after it"
    )
    assert len(p.receiver.by_pair) - before == 10 * len(CHANNELS)


@pytest.mark.timeout(300)
async def test_a_poison_timer_row_does_not_stop_the_others(platform: Platform) -> None:
    """Reminders are timer rows (backbone.timers) fired by both notifications replicas. One
    that can never fire (a channel no code knows), due first, must not keep the reminder due
    after it from firing."""
    p = platform
    su = await p.su()
    incident = await su.fetchval("SELECT id FROM triage.incidents WHERE tenant_id = $1 LIMIT 1", p.tenant_id)
    healthy = uuid.uuid4()
    insert = (
        "INSERT INTO notifications.reminders (id, tenant_id, incident_id, reminder_type, scheduled_for, "
        "channel, status) VALUES ($1, $2, $3, 'follow_up', now() - $4::interval, $5, 'scheduled')"
    )

    async def fired(reminder: uuid.UUID) -> bool:
        return bool(await su.fetchval("SELECT fired_at FROM notifications.reminders WHERE id = $1", reminder))

    # Control: alone, such a reminder fires (an SMS reminder as "unsupported": no provider).
    control = uuid.uuid4()
    await su.execute(insert, control, p.tenant_id, incident, timedelta(seconds=1), "sms")
    await _until(lambda: fired(control), 60, "a reminder with no poison row before it")

    await su.execute(insert, uuid.uuid4(), p.tenant_id, incident, timedelta(minutes=1), "pigeon")
    await su.execute(insert, healthy, p.tenant_id, incident, timedelta(seconds=1), "sms")
    with contextlib.suppress(AssertionError):
        await _until(lambda: fired(healthy), 60, "the reminder due after the poison row")
    status = await su.fetchval("SELECT status FROM notifications.reminders WHERE id = $1", healthy)
    print(f"\npoison timer row: the reminder due after it is {status!r}")
    assert status == "unsupported", status
