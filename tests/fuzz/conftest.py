"""The platform the fuzz tests send generated requests to: every service served by uvicorn on a
loopback port (lifespan, broker, consumers and relay included) in a thread of its own, and a
world of real records (a tenant, its users, a client, an incident, a channel…) whose ids the
generated requests use, so they reach past 404s.

The servers run in their own thread and event loop because schemathesis sends its requests
synchronously from the test: with the apps on pytest's loop, the first request would block it.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn

from backbone.testing import Stack, unique
from contracts.topics import SERVICES

T = TypeVar("T")


@dataclass
class Tally:
    """What the fuzz tests sent and got back: printed at the end of the session."""

    requests: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)

    def count(self, label: str, status: int) -> None:
        self.requests += 1
        self.by_status[status] = self.by_status.get(status, 0) + 1
        if status >= 500:
            self.server_errors.append(f"{status} {label}")


TALLY = Tally()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TALLY.requests:
        return
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(TALLY.by_status.items()))
    terminalreporter.write_sep("-", "fuzz")
    terminalreporter.write_line(f"generated requests: {TALLY.requests} ({statuses})")
    terminalreporter.write_line(f"5xx answers: {len(TALLY.server_errors)}")
    for line in sorted(set(TALLY.server_errors)):
        terminalreporter.write_line(f"  {line}")


class Servers:
    """Every service on a free loopback port, in a thread with its own event loop."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fuzz-servers", daemon=True)
        self.servers: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []
        self.urls: dict[str, str] = {}

    def _run(self, coro: Any, timeout: float = 120) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> None:
        self.thread.start()
        for name in SERVICES:
            self.urls[name] = self._run(self._serve(name))

    async def _serve(self, name: str) -> str:
        settings_cls: Any = importlib.import_module(f"{name}.config").Settings
        overrides: dict[str, Any] = {}
        if name == "directory":
            overrides["token_ttl_s"] = 86400  # a deep run outlasts the default lifetime
        if name == "notifications":
            from cryptography.fernet import Fernet

            overrides["secret_key"] = Fernet.generate_key().decode()  # channels keep their secrets
            # Slack's endpoint as deployed with Slack actions on: unset, it is a 503 by design.
            overrides["slack_signing_secret"] = "fuzz-signing-secret"
        # Apps are built here: their Kafka clients bind to the loop that creates them.
        app = importlib.import_module(f"{name}.main").create(self.stack.settings(settings_cls, **overrides))
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        self.servers.append((server, task))
        deadline = time.monotonic() + 60
        while not server.started:
            if task.done():
                task.result()  # raises what stopped it
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} did not start within 60 s")
            await asyncio.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def _stop_all(self) -> None:
        for server, _ in self.servers:
            server.should_exit = True
        for _, task in self.servers:
            with contextlib.suppress(Exception):
                await task

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run(self._stop_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


@pytest.fixture(scope="session")
def servers(stack: Stack) -> Iterator[Servers]:
    running = Servers(stack)
    try:
        running.start()
        yield running
    finally:
        running.stop()


# --------------------------------------------------------------------------- the world


@dataclass
class World:
    """Ids of real records of one tenant, by path parameter name, and each role's headers."""

    headers: dict[str, dict[str, str]]
    ids: dict[str, str]
    # Records an operation may destroy, so that the others keep theirs: (method, path) → ids.
    doomed: dict[tuple[str, str], dict[str, str]]
    slugs: dict[str, str]  # catalog → an existing slug


def eventually(probe: Callable[[], T | None], *, within: float = 60, what: str) -> T:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {within}s waiting for {what}")


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.is_success, f"{response.request.method} {response.request.url}: {response.text}"
    body: dict[str, Any] = response.json()
    return body


def _n() -> str:
    return unique("")


def build_world(urls: dict[str, str], operator_key: str) -> World:
    c = {name: httpx.Client(base_url=url, timeout=60) for name, url in urls.items()}
    try:
        return _build(c, operator_key)
    finally:
        for client in c.values():
            client.close()


def _sign_in(d: httpx.Client, api_key: str) -> dict[str, str]:
    token = _ok(d.post("/v1/auth/token", json={"api_key": api_key}))["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _build(c: dict[str, httpx.Client], operator_key: str) -> World:
    d, triage, notes, intake = c["directory"], c["triage"], c["notifications"], c["intake"]
    slug = unique("fz-")
    tenant = _ok(d.post("/v1/tenants", json={"slug": slug, "name": slug}, headers=_sign_in(d, operator_key)))
    admin = _sign_in(d, tenant["api_key"])
    n = _n()
    vendor = _ok(
        d.post(
            "/v1/vendors",
            json={
                "vendor_name": f"V {n}",
                "vendor_email": f"v-{n}@example.com",
                "vendor_phone": "+15550100",
                "vendor_type": "software_vendor",
            },
            headers=admin,
        )
    )
    client = _ok(
        d.post(
            "/v1/clients",
            json={
                "client_name": f"C {n}",
                "registration_number": f"R-{n}",
                "contact_email": f"c-{n}@example.com",
                "client_type": "mid_market",
            },
            headers=admin,
        )
    )
    component = _ok(
        d.post(
            "/v1/components",
            json={"name": "api", "client_id": client["id"], "vendor_id": vendor["id"]},
            headers=admin,
        )
    )
    manager = _ok(
        d.post(
            "/v1/users",
            json={"name": "IM", "email": f"im-{n}@example.com", "role": "incident_manager"},
            headers=admin,
        )
    )
    im = _sign_in(d, _ok(d.post(f"/v1/users/{manager['id']}/api-keys", headers=admin))["api_key"])
    # The user the generated requests change (never a caller: a fuzzed PATCH may deactivate it).
    target = _ok(
        d.post(
            "/v1/users",
            json={"name": "target", "email": f"t-{n}@example.com", "role": "technical_support"},
            headers=admin,
        )
    )
    _ok(
        d.post(
            "/v1/integrations",
            json={"kind": "alertmanager", "name": f"i-{n}", "client_id": client["id"]},
            headers=admin,
        )
    )

    def incident() -> str:
        report = {"title": f"fuzz {_n()}", "client_id": client["id"], "component_id": component["id"]}

        def reported() -> str | None:
            r = intake.post("/v1/incidents", json=report, headers=admin)
            return str(r.json()["incident_id"]) if r.status_code == 202 else None

        incident_id = eventually(reported, what="intake to know the client and component")
        for service, path in (
            (triage, f"/v1/incidents/{incident_id}"),
            (notes, f"/v1/incidents/{incident_id}/reminders"),
        ):
            eventually(
                lambda s=service, p=path: s.get(p, headers=admin).status_code == 200,
                what=f"{path} to be known",
            )
        return incident_id

    incident_id, doomed_incident = incident(), incident()
    # Tasks, attachments, reminders and communications are the incident manager's to write,
    # once each service's replica knows them.
    task = eventually(
        lambda: _created(triage.post(f"/v1/incidents/{incident_id}/tasks", json={"title": "t"}, headers=im)),
        what="triage to know the incident manager",
    )
    attachment = triage.post(
        f"/v1/incidents/{incident_id}/attachments",
        files={"file": ("note.txt", b"fuzz", "text/plain")},
        headers=im,
    )
    assert attachment.status_code == 201, attachment.text

    def policy() -> str:
        body = {"name": f"p {_n()}", "levels": [{"user_ids": [target["id"]], "delay_minutes": 5}]}

        def created() -> str | None:
            r = triage.post("/v1/escalation-policies", json=body, headers=admin)
            return str(r.json()["id"]) if r.status_code == 201 else None

        return eventually(created, what="triage to know the target user")

    policy_id, doomed_policy = policy(), policy()

    def silence() -> str:
        body = {"matchers": [{"name": "fuzz", "value": _n()}], "ends_at": "2099-01-01T00:00:00Z"}
        return str(_ok(intake.post("/v1/silences", json=body, headers=admin))["id"])

    silence_id, doomed_silence = silence(), silence()
    channel = _ok(
        notes.post(
            "/v1/channels",
            json={
                "kind": "webhook",
                "name": "hook",
                "config": {"url": "https://hooks.example.com/fuzz", "secret": "fuzz-secret-0123456789abcdef"},
            },
            headers=admin,
        )
    )

    def rule() -> str:
        body = {"event_types": ["*"], "channel_ids": [channel["id"]]}
        return str(_ok(notes.post("/v1/rules", json=body, headers=admin))["id"])

    rule_id, doomed_rule = rule(), rule()
    _ok(
        notes.put(
            "/v1/templates/incident.created.v1/email", json={"subject": "s", "body": "b"}, headers=admin
        )
    )

    def reminder() -> str:
        body = {"reminder_type": "follow_up", "scheduled_for": "2099-01-01T00:00:00Z", "channel": "email"}
        path = f"/v1/incidents/{incident_id}/reminders"
        return str(
            eventually(
                lambda: _created(notes.post(path, json=body, headers=im)), what="notifications to know"
            )["id"]
        )

    reminder_id, doomed_reminder = reminder(), reminder()
    communication = _ok(
        notes.post(
            "/v1/communications",
            json={
                "incident_id": incident_id,
                "recipient_type": "internal",
                "communication_type": "status_update",
                "delivery_method": "phone",
                "message": "m",
            },
            headers=im,
        )
    )
    deliveries = notes.get("/v1/deliveries", headers=admin).json()
    slugs = {
        catalog: str(_ok_list(triage.get(f"/v1/{catalog}", headers=admin))[0]["slug"])
        for catalog in ("statuses", "categories", "priorities")
    }
    ids = {
        "client_id": client["id"],
        "vendor_id": vendor["id"],
        "component_id": component["id"],
        "user_id": target["id"],
        "incident_id": incident_id,
        "task_id": task["id"],
        "attachment_id": attachment.json()["id"],
        "policy_id": policy_id,
        "silence_id": silence_id,
        "channel_id": channel["id"],
        "rule_id": rule_id,
        "reminder_id": reminder_id,
        "communication_id": communication["communication_id"],
        "delivery_id": deliveries[0]["id"]
        if isinstance(deliveries, list) and deliveries
        else str(uuid.uuid4()),
        **_changes_records(c["changes"], triage, admin, im, incident_id, incident()),
        "tenant_slug": slug,
        "event_type": "incident.created.v1",
        "kind": "email",
    }
    doomed = {
        ("DELETE", "/v1/incidents/{incident_id}"): {"incident_id": doomed_incident},
        ("DELETE", "/v1/escalation-policies/{policy_id}"): {"policy_id": doomed_policy},
        ("DELETE", "/v1/silences/{silence_id}"): {"silence_id": doomed_silence},
        ("DELETE", "/v1/rules/{rule_id}"): {"rule_id": doomed_rule},
        ("DELETE", "/v1/reminders/{reminder_id}"): {"reminder_id": doomed_reminder},
    }
    return World({"system_administrator": admin, "incident_manager": im}, ids, doomed, slugs)


def _changes_records(
    changes: httpx.Client,
    triage: httpx.Client,
    admin: dict[str, str],
    im: dict[str, str],
    incident_id: str,
    closed_id: str,
) -> dict[str, str]:
    """One record of each kind of the changes service, named by its path parameter, so the
    generated requests reach its handlers: a change and a rollback of it that ran, a work
    order, a workaround, an analysis and a problem on the incident, an article, and a review of
    an incident closed for it."""
    for step in ("resolve", "close"):
        _ok(triage.post(f"/v1/incidents/{closed_id}/{step}", headers=im))
    on_incident = {"incident_id": incident_id}
    workaround = {"description": "d", "effectiveness_level": "low", "implemented_at": "2030-01-01T00:00:00Z"}
    # The first write on the incident waits for changes to know it (and the caller).
    rca = eventually(
        lambda: _created(
            changes.post(
                "/v1/root-cause-analyses", json={"analysis_method": "five_whys", **on_incident}, headers=admin
            )
        ),
        what="changes to know the incident",
    )
    change = _ok(
        changes.post(
            "/v1/change-requests",
            json={"title": "c", "change_type": "normal", "risk_level": "low"},
            headers=admin,
        )
    )
    _ok(changes.post(f"/v1/change-requests/{change['id']}/approve", headers=im))
    _ok(changes.post(f"/v1/change-requests/{change['id']}/start", headers=admin))
    review = {
        "incident_id": closed_id,
        "facilitator_id": _ok(changes.get("/v1/me", headers=im))["user_id"],
        "scheduled_date": "2030-01-01",
        "overall_rating": 3,
    }
    return {
        "rca_id": rca["id"],
        "change_id": change["id"],
        "rollback_id": _ok(
            changes.post(
                "/v1/rollback-requests", json={"change_id": change["id"], "justification": "j"}, headers=im
            )
        )["id"],
        "order_id": _ok(
            changes.post("/v1/work-orders", json={"title": "w", "work_type": "repair"}, headers=admin)
        )["id"],
        "workaround_id": _ok(
            changes.post("/v1/workarounds", json={**workaround, **on_incident}, headers=admin)
        )["id"],
        "problem_id": _ok(changes.post("/v1/problems", json={"title": "p", **on_incident}, headers=admin))[
            "id"
        ],
        "article_id": _ok(
            changes.post(
                "/v1/kb-articles",
                json={"title": "a", "article_type": "faq", "category": "network"},
                headers=im,
            )
        )["id"],
        "review_id": eventually(
            lambda: _created(changes.post("/v1/post-incident-reviews", json=review, headers=im)),
            what="changes to know the incident is closed",
        )["id"],
    }


def _created(response: httpx.Response) -> dict[str, Any] | None:
    if response.status_code in (401, 403, 404):  # a replica not there yet
        return None
    return _ok(response)


def _ok_list(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.is_success, response.text
    body: list[dict[str, Any]] = response.json()
    assert body, f"{response.request.url} is empty"
    return body


@pytest.fixture(scope="session")
def tally() -> Tally:
    return TALLY


@pytest.fixture(scope="session")
def world(servers: Servers, operator_key: str) -> World:
    return build_world(servers.urls, operator_key)
