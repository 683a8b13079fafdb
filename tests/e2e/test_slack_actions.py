"""Acknowledge and Resolve from Slack, over the real broker and database: triage and
notifications in-process, Slack's Web API played by a local server (NOTIFICATIONS_SLACK_API_URL),
and button presses built and signed exactly as Slack sends them (a form-encoded ``payload=`` of
``block_actions`` JSON, ``X-Slack-Request-Timestamp``, ``X-Slack-Signature`` = v0 HMAC-SHA256 of
``v0:{timestamp}:{body}`` with the app's signing secret; docs/notifications.md, "Slack actions")."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from backbone.db import Database
from backbone.tables import PRINCIPALS
from backbone.testing import Stack, created, eventually, publish, report_incident, serving
from contracts.enums import Role
from contracts.events import IncidentActionRequested
from notifications.adapters.orm import recipients
from notifications.adapters.slack import slack_actions, slack_messages
from notifications.config import Settings as NotificationsSettings
from notifications.main import create as create_notifications
from notifications.testing import HttpReceiver, Received, outbox_json, registered_user
from triage.config import Settings as TriageSettings
from triage.main import create as create_triage

pytestmark = pytest.mark.integration

SIGNING_SECRET = "slack-signing-" + uuid.uuid4().hex
SLACK_CHANNEL = "C0INCIDENTS"
TEAM = "T0OPS"


@dataclass
class FakeSlack:
    """Slack's Web API as the service uses it: chat.postMessage (answering a channel and ts),
    users.info (the profile's email of the users it knows), chat.update, chat.postEphemeral."""

    emails: dict[str, str] = field(default_factory=dict)  # Slack user id → email
    receiver: HttpReceiver = field(default_factory=HttpReceiver)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    # A channel's ts are unique: one fake Slack per test, each its own second.
    _epoch: int = field(default_factory=lambda: 1_700_000_000 + uuid.uuid4().int % 10**8)

    def __post_init__(self) -> None:
        self.receiver.behaviour = self.answer

    @property
    def port(self) -> int:
        return self.receiver.port

    @staticmethod
    def args(request: Received) -> dict[str, Any]:
        """The call's arguments, however slack_sdk sent them (query, JSON or form)."""
        if request.query:
            return request.query
        if request.headers.get("Content-Type", "").startswith("application/json"):
            return dict(request.json())
        return {k: v[0] for k, v in parse_qs(request.body.decode()).items()}

    def answer(self, request: Received) -> tuple[int, Any]:
        method, args = request.path.rsplit("/", 1)[-1], self.args(request)
        if method == "chat.postMessage":
            return 200, {"ok": True, "channel": SLACK_CHANNEL, "ts": f"{self._epoch}.{next(self._ts):06d}"}
        if method == "users.info":
            email = self.emails.get(str(args.get("user")))
            if email is None:
                return 200, {"ok": False, "error": "user_not_found"}
            return 200, {
                "ok": True,
                "user": {"id": args["user"], "team_id": TEAM, "profile": {"email": email}},
            }
        if method in ("chat.update", "chat.postEphemeral"):
            return 200, {"ok": True, "channel": args.get("channel"), "ts": args.get("ts", "1.0")}
        return 200, {"ok": False, "error": "unknown_method"}

    def of(self, method: str) -> list[dict[str, Any]]:
        return [self.args(r) for r in self.receiver.requests if r.path.endswith("/" + method)]

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FakeSlack]:
        async with self.receiver.running():
            yield self


def press(action_id: str, incident_id: str, message: dict[str, Any], slack_user: str) -> dict[str, Any]:
    """A ``block_actions`` payload as Slack sends it when ``slack_user`` presses a button."""
    ts = message["ts"]
    return {
        "type": "block_actions",
        "user": {
            "id": slack_user,
            "username": slack_user.lower(),
            "name": slack_user.lower(),
            "team_id": TEAM,
        },
        "api_app_id": "A0PLATFORM",
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": ts,
            "channel_id": SLACK_CHANNEL,
            "is_ephemeral": False,
        },
        "trigger_id": f"{uuid.uuid4().int % 10**12}.{uuid.uuid4().int % 10**12}.abc",
        "team": {"id": TEAM, "domain": "ops"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": SLACK_CHANNEL, "name": "incidents"},
        "message": {"type": "message", "ts": ts, "text": message["text"], "blocks": message["blocks"]},
        "state": {"values": {}},
        "response_url": f"https://hooks.slack.com/actions/{TEAM}/1/{uuid.uuid4().hex}",
        "actions": [
            {
                "action_id": action_id,
                "block_id": "incident_actions",
                "text": {"type": "plain_text", "text": "Acknowledge", "emoji": True},
                "value": incident_id,
                "type": "button",
                "action_ts": f"{int(time.time())}.{uuid.uuid4().int % 10**6:06d}",
            }
        ],
    }


def signed(payload: dict[str, Any], *, secret: str = SIGNING_SECRET, at: int | None = None) -> dict[str, Any]:
    """The HTTP request Slack makes: the body form-encoded, signed v0 with ``secret``."""
    body = urlencode({"payload": json.dumps(payload)})
    timestamp = str(at if at is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest}",
    }
    return {"content": body, "headers": headers}


@dataclass
class World:
    slack: FakeSlack
    triage: httpx.AsyncClient
    notifications: httpx.AsyncClient
    producer: AIOKafkaProducer
    notifications_db: Database
    topic_prefix: str
    tenant: uuid.UUID
    admin: dict[str, str]

    async def incident(self, title: str) -> tuple[str, dict[str, Any]]:
        """A new incident and the Slack message announcing it (once its place is on record)."""
        before = len(self.slack.of("chat.postMessage"))
        incident_id = str(await report_incident(self.producer, self.topic_prefix, self.tenant, title))

        async def posted() -> dict[str, Any] | None:
            mine = [
                p
                for p in self.slack.of("chat.postMessage")[before:]
                if incident_id in json.dumps(p["blocks"])
            ]
            return mine[0] if mine else None

        post = await eventually(posted, what="the Slack message")

        async def recorded() -> Any:
            async with self.notifications_db.sessions() as s:
                return await s.scalar(
                    select(slack_messages.c.ts).where(slack_messages.c.incident_id == uuid.UUID(incident_id))
                )

        ts = await eventually(recorded, what="the message's place")
        return incident_id, {**post, "ts": ts}

    async def status(self, incident_id: str) -> str:
        answer = await self.triage.get(f"/v1/incidents/{incident_id}", headers=self.admin)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["status"])

    async def presses(self, incident_id: str) -> list[Any]:
        async with self.notifications_db.sessions() as s:
            rows = await s.execute(
                select(slack_actions).where(slack_actions.c.incident_id == uuid.UUID(incident_id))
            )
            return list(rows)


USERS = {
    "U0TESS": ("tess", Role.TECHNICAL_SUPPORT),
    "U0AMY": ("amy", Role.ACCOUNT_MANAGER),
}


@pytest.fixture
async def world(stack: Stack, notifications_settings: NotificationsSettings) -> AsyncIterator[World]:
    tenant = uuid.uuid4()
    admin = stack.auth(tenant_id=tenant, role="incident_manager")
    async with FakeSlack().running() as slack:
        settings = notifications_settings.model_copy(
            update={
                "slack_api_url": f"http://127.0.0.1:{slack.port}/api/",
                "slack_signing_secret": SIGNING_SECRET,
                "slack_action_poll_s": 0.1,
            }
        )
        producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers, enable_idempotence=True)
        await producer.start()
        n_db = Database.connect(stack.database_url, "notifications", pool_size=1)
        t_db = Database.connect(stack.database_url, "triage", pool_size=1)
        try:
            async with (
                serving(create_triage(stack.settings(TriageSettings))) as triage,
                serving(create_notifications(settings)) as notifications,
            ):
                users = []
                for slack_user, (name, role) in USERS.items():
                    user = registered_user(f"{name}-{uuid.uuid4().hex[:6]}", tenant, role)
                    slack.emails[slack_user] = user.email.upper()  # Slack keeps the case people typed
                    users.append(user)
                    await publish(producer, stack.topic_prefix, user, tenant_id=tenant, source="directory")
                ids = [u.user_id for u in users]

                async def replicated() -> bool:
                    async with n_db.sessions() as s, t_db.sessions() as t:
                        here = await s.scalar(
                            select(func.count()).select_from(recipients).where(recipients.c.user_id.in_(ids))
                        )
                        there = await t.scalar(
                            select(func.count()).select_from(PRINCIPALS).where(PRINCIPALS.c.user_id.in_(ids))
                        )
                    return here == there == len(ids)

                await eventually(replicated, what="both services to know the users")
                channel = {
                    "kind": "slack",
                    "name": "incidents",
                    "config": {"bot_token": "xoxb-test", "channel": SLACK_CHANNEL},
                }
                channel_id = (await created(notifications, "/v1/channels", channel, admin))["id"]
                rule = {
                    "name": "new incidents",
                    "event_types": ["incident.created.v1"],
                    "channel_ids": [channel_id],
                }
                await created(notifications, "/v1/rules", rule, admin)
                yield World(slack, triage, notifications, producer, n_db, stack.topic_prefix, tenant, admin)
        finally:
            await producer.stop()
            await n_db.dispose()
            await t_db.dispose()


def _buttons(message: dict[str, Any]) -> dict[str, str]:
    return {
        e["action_id"]: e.get("value", "")
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    }


async def test_acknowledge_then_resolve_from_slack_in_the_users_name(world: World) -> None:
    incident_id, message = await world.incident("Checkout is down")
    # The bot's message carries both buttons, each naming the incident.
    buttons = _buttons(message)
    assert buttons["incident_acknowledge"] == incident_id
    assert buttons["incident_resolve"] == incident_id

    answer = await world.notifications.post(
        "/v1/slack/actions", **signed(press("incident_acknowledge", incident_id, message, "U0TESS"))
    )
    assert answer.status_code == 200, answer.text

    async def status_is(wanted: str) -> bool:
        return await world.status(incident_id) == wanted

    await eventually(lambda: status_is("acknowledged"), what="triage to acknowledge the incident")
    incident = (await world.triage.get(f"/v1/incidents/{incident_id}", headers=world.admin)).json()
    (tess,) = await world.presses(incident_id)
    assert incident["acknowledged_by"] == str(tess.user_id)  # the person, not the service

    async def updated(n: int) -> bool:
        return len(world.slack.of("chat.update")) >= n

    await eventually(lambda: updated(1), what="the message to be updated")
    (update,) = world.slack.of("chat.update")
    assert (update["channel"], update["ts"]) == (SLACK_CHANNEL, message["ts"])
    # Acknowledge is done; Resolve stays.
    assert "incident_acknowledge" not in _buttons(update)
    assert _buttons(update)["incident_resolve"] == incident_id
    assert "*Acknowledged* by tess-" in json.dumps(update["blocks"])

    # Resolve, by the same person, from the same message.
    answer = await world.notifications.post(
        "/v1/slack/actions", **signed(press("incident_resolve", incident_id, message, "U0TESS"))
    )
    assert answer.status_code == 200
    await eventually(lambda: status_is("resolved"), what="triage to resolve the incident")
    await eventually(lambda: updated(2), what="the message's second update")
    last = world.slack.of("chat.update")[-1]
    assert "incident_resolve" not in _buttons(last) and "incident_acknowledge" not in _buttons(last)
    assert "*Resolved* by tess-" in json.dumps(last["blocks"])
    assert "*Acknowledged* by tess-" in json.dumps(last["blocks"])  # the earlier line stays
    assert world.slack.of("chat.postEphemeral") == []


async def test_a_slack_retry_of_the_same_press_is_one_request(world: World) -> None:
    incident_id, message = await world.incident("Search is slow")
    request = signed(press("incident_acknowledge", incident_id, message, "U0TESS"))
    for _ in range(2):  # Slack retries when it thinks the first went unanswered
        assert (await world.notifications.post("/v1/slack/actions", **request)).status_code == 200
    assert len(await world.presses(incident_id)) == 1


async def test_a_wrong_signature_is_refused_and_nothing_is_applied(world: World) -> None:
    incident_id, message = await world.incident("Login fails")
    payload = press("incident_acknowledge", incident_id, message, "U0TESS")
    forged = signed(payload, secret="not-the-signing-secret")
    answer = await world.notifications.post("/v1/slack/actions", **forged)
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    # A body changed after signing: the same.
    tampered = signed(payload)
    tampered["content"] = tampered["content"].replace("incident_acknowledge", "incident_resolve")
    assert (await world.notifications.post("/v1/slack/actions", **tampered)).status_code == 401
    unsigned = {
        "content": forged["content"],
        "headers": {"Content-Type": "application/x-www-form-urlencoded"},
    }
    assert (await world.notifications.post("/v1/slack/actions", **unsigned)).status_code == 401
    # A platform token does not stand in for Slack's signature.
    token = {"content": forged["content"], "headers": {**unsigned["headers"], **world.admin}}
    assert (await world.notifications.post("/v1/slack/actions", **token)).status_code == 401
    assert await world.presses(incident_id) == []
    assert await world.status(incident_id) == "open"


async def test_a_stale_timestamp_is_refused_as_a_replay(world: World) -> None:
    incident_id, message = await world.incident("Disk full")
    payload = press("incident_acknowledge", incident_id, message, "U0TESS")
    old = signed(payload, at=int(time.time()) - 6 * 60)  # correctly signed, six minutes ago
    answer = await world.notifications.post("/v1/slack/actions", **old)
    assert answer.status_code == 401
    assert "5 minutes" in answer.json()["detail"]
    assert await world.presses(incident_id) == []
    assert await world.status(incident_id) == "open"


async def test_a_user_without_the_permission_is_told_and_nothing_is_applied(world: World) -> None:
    incident_id, message = await world.incident("Payments are slow")
    answer = await world.notifications.post(
        "/v1/slack/actions", **signed(press("incident_acknowledge", incident_id, message, "U0AMY"))
    )
    assert answer.status_code == 200

    async def told() -> bool:
        return any(e["user"] == "U0AMY" for e in world.slack.of("chat.postEphemeral"))

    await eventually(told, what="the ephemeral refusal")
    (note,) = [e for e in world.slack.of("chat.postEphemeral") if e["user"] == "U0AMY"]
    assert note["channel"] == SLACK_CHANNEL
    assert "account_manager" in note["text"] and "may not" in note["text"]
    (row,) = await world.presses(incident_id)
    assert row.state == "refused" and row.request_event_id is None
    requested = await outbox_json(world.notifications_db, IncidentActionRequested.event_type)
    assert not [e for e in requested if e["data"]["incident_id"] == incident_id]
    assert await world.status(incident_id) == "open"
    assert [u for u in world.slack.of("chat.update") if u["ts"] == message["ts"]] == []


async def test_an_unknown_slack_user_is_told_and_nothing_is_applied(world: World) -> None:
    incident_id, message = await world.incident("Mail is delayed")
    request = signed(press("incident_resolve", incident_id, message, "U0STRANGER"))
    assert (await world.notifications.post("/v1/slack/actions", **request)).status_code == 200

    async def told() -> bool:
        return any(e["user"] == "U0STRANGER" for e in world.slack.of("chat.postEphemeral"))

    await eventually(told, what="the ephemeral refusal")
    (row,) = await world.presses(incident_id)
    assert row.state == "refused"
    assert await world.status(incident_id) == "open"


async def test_a_press_on_a_message_we_did_not_send_is_ignored(world: World) -> None:
    incident_id, message = await world.incident("API errors")
    # Someone else's message (another ts) whose button names our incident: not ours to act on.
    elsewhere = {**message, "ts": "1999999999.000001"}
    request = signed(press("incident_resolve", incident_id, elsewhere, "U0TESS"))
    assert (await world.notifications.post("/v1/slack/actions", **request)).status_code == 200
    # Our message, but a button naming another incident: the same.
    other = signed(press("incident_resolve", str(uuid.uuid4()), message, "U0TESS"))
    assert (await world.notifications.post("/v1/slack/actions", **other)).status_code == 200
    assert await world.presses(incident_id) == []
