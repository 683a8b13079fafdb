"""A real Alertmanager (0.25, the Debian package prometheus-alertmanager) notifies intake through
its webhook_configs, over HTTP on loopback: repeated firing alerts become one incident per
Alertmanager group, and resolved alerts resolve it once all of the group's alerts resolve."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from backbone.testing import Stack, eventually, free_port, stop_process
from contracts.enums import IntegrationKind
from contracts.events import AlertRepeated, AlertsResolved, IncidentReported
from intake.config import Settings
from intake.main import create

from .conftest import Alerting

pytestmark = pytest.mark.integration

BINARY = "prometheus-alertmanager"


@contextlib.asynccontextmanager
async def served_over_http(stack: Stack) -> AsyncIterator[str]:
    """An intake replica on a real TCP port (Alertmanager must reach it over HTTP)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create(stack.settings(Settings, log_level="WARNING", alert_repeat_event_interval_s=0)),
            log_level="warning",
            lifespan="on",
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:

        async def started() -> bool:
            return server.started

        await eventually(started, within=60, what="intake to serve HTTP")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@contextlib.contextmanager
def alertmanager(webhook_url: str, token: str, group_by: list[str]) -> Iterator[str]:
    """Alertmanager on loopback, clustering off, grouping by ``group_by``, sending every group
    to intake at once (short waits), with the integration token as a Bearer credential."""
    binary = shutil.which(BINARY) or f"/usr/bin/{BINARY}"
    config = {
        "route": {
            "receiver": "platform",
            "group_by": group_by,
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [
            {
                "name": "platform",
                "webhook_configs": [
                    {
                        "url": webhook_url,
                        "send_resolved": True,
                        "http_config": {"authorization": {"type": "Bearer", "credentials": token}},
                    }
                ],
            }
        ],
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "alertmanager.yml"
        path.write_text(json.dumps(config))  # JSON is YAML
        port = free_port()
        proc = subprocess.Popen(
            [
                binary,
                f"--config.file={path}",
                f"--storage.path={tmp}/data",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            stop_process(proc, within_s=10)


def am_alert(name: str, cluster: str, instance: str, *, resolved: bool = False) -> dict[str, Any]:
    now = datetime.now(UTC)
    alert: dict[str, Any] = {
        "labels": {"alertname": name, "cluster": cluster, "instance": instance, "severity": "critical"},
        "annotations": {"summary": f"{name} in {cluster}", "runbook_url": "https://runbooks.example/x"},
        "startsAt": (now - timedelta(minutes=5)).isoformat(),
        "generatorURL": "http://prometheus.example/graph",
    }
    if resolved:
        alert["endsAt"] = (now - timedelta(seconds=1)).isoformat()
    return alert


async def test_alertmanager_groups_become_incidents_and_resolve(alerting: Alerting, stack: Stack) -> None:
    group_by = ["alertname", "cluster"]
    token, integration = await alerting.integration(IntegrationKind.ALERTMANAGER, grouping_labels=group_by)
    tenant = integration.tenant_id

    async with served_over_http(stack) as base, httpx.AsyncClient() as http:
        with alertmanager(f"{base}/v1/alerts/alertmanager", token, group_by) as am:
            await eventually(lambda: _ready(http, am), within=30, what="Alertmanager to be ready on loopback")

            async def post(*alerts: dict[str, Any]) -> None:
                r = await http.post(f"{am}/api/v2/alerts", json=list(alerts))
                assert r.status_code == 200, r.text

            eu = [am_alert("HighLatency", "eu", f"web-{i}") for i in range(3)]
            us = [am_alert("HighLatency", "us", f"web-{i}") for i in range(2)]
            await post(*eu, *us)

            async def incidents() -> list[Any]:
                found = await alerting.events(IncidentReported.event_type, tenant)
                return found if len(found) >= 2 else []

            reported = await eventually(incidents, within=60, what="one incident per Alertmanager group")
            # Repeats of the same alerts (and one more alert of the eu group) reach the same two
            # incidents: Alertmanager re-notifies a group when it changes.
            await post(*eu, *us, am_alert("HighLatency", "eu", "web-9"))
            await eventually(
                lambda: alerting.events(AlertRepeated.event_type, tenant), within=60, what="the repeat"
            )
            by_key = {e.payload().dedup_key: e for e in reported}
            assert len(by_key) == 2
            eu_key = next(k for k in by_key if "cluster=eu" in k)
            us_key = next(k for k in by_key if "cluster=us" in k)
            assert str(integration.integration_id) in eu_key

            # All of eu resolves: its incident resolves. One of us resolves: it stays open.
            await post(
                *[am_alert("HighLatency", "eu", f"web-{i}", resolved=True) for i in (0, 1, 2, 9)],
                am_alert("HighLatency", "us", "web-0", resolved=True),
            )
            resolved = await eventually(
                lambda: alerting.events(AlertsResolved.event_type, tenant), within=60, what="eu to resolve"
            )
            assert [e.subject for e in resolved] == [by_key[eu_key].subject]
            # The last us alert resolves: so does its incident.
            await post(am_alert("HighLatency", "us", "web-1", resolved=True))

            async def both() -> list[Any]:
                found = await alerting.events(AlertsResolved.event_type, tenant)
                return found if len(found) == 2 else []

            resolved = await eventually(both, within=60, what="us to resolve")
            assert resolved[1].subject == by_key[us_key].subject

            # The same group firing again after its incident resolved: a new incident.
            await post(am_alert("HighLatency", "eu", "web-0"))

            async def third() -> list[Any]:
                found = await alerting.events(IncidentReported.event_type, tenant)
                return found if len(found) == 3 else []

            again = await eventually(third, within=60, what="a new incident for eu")
            assert again[2].payload().dedup_key == eu_key
            assert again[2].subject not in {e.subject for e in reported}

    assert len(await alerting.events(IncidentReported.event_type, tenant)) == 3
    keys = {(k.dedup_key, k.status) for k in await alerting.keys(tenant)}
    assert keys == {(eu_key, "resolved"), (us_key, "resolved"), (eu_key, "open")}


async def _ready(http: httpx.AsyncClient, base: str) -> bool:
    try:
        return (await http.get(f"{base}/-/ready")).status_code == 200
    except httpx.TransportError:
        return False
