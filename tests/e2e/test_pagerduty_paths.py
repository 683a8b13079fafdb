"""A tool that speaks to PagerDuty, switched to the platform by its base URL alone: PagerDuty's
own Python client (``pagerduty``, pdpyras' successor, which insists on https) posts to intake's
``/v2/enqueue`` and ``/v2/change/enqueue``, intake run by ``incidentctl serve`` with uvicorn's
own TLS and a certificate made here (docs/tls.md). Trigger, acknowledge and resolve reach
triage's incident; a change event becomes a completed change that the incident lists among its
related changes. Directory, intake, triage and changes over the real broker and database."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pagerduty
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from backbone.testing import (
    Stack,
    created,
    eventually,
    free_port,
    new_tenant,
    serving,
    sign_in,
    stop_process,
    unique,
)
from changes.config import Settings as ChangesSettings
from changes.main import create as create_changes
from directory.config import Settings as DirectorySettings
from directory.main import create as create_directory
from triage.config import Settings as TriageSettings
from triage.main import create as create_triage

pytestmark = pytest.mark.integration


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A key and a certificate for 127.0.0.1, as an operator would make one for a small install."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = directory / "key.pem", directory / "cert.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)


def tail(log: Path) -> str:
    return log.read_text()[-3000:]


@contextlib.asynccontextmanager
async def intake_over_tls(stack: Stack, key_file: Path, cert_file: Path, log: Path) -> AsyncIterator[str]:
    """Intake as an operator runs it on a small install: `incidentctl serve intake
    --ssl-certfile … --ssl-keyfile …` (uvicorn's own TLS), a process of its own; its https URL."""
    port = free_port()
    env = stack.environ(INTAKE_PORT=str(port), INTAKE_OUTBOX_POLL_INTERVAL_S="0.1", LOG_JSON="false")
    args = [sys.executable, "-m", "incidentctl", "serve", "intake"]
    args += ["--ssl-certfile", str(cert_file), "--ssl-keyfile", str(key_file)]
    url = f"https://127.0.0.1:{port}"
    proc = spawn(args, env, log)
    try:
        trusted = ssl.create_default_context(cafile=str(cert_file))
        async with httpx.AsyncClient(verify=trusted, timeout=5) as client:

            async def ready() -> bool:
                assert proc.poll() is None, tail(log)
                try:
                    return (await client.get(f"{url}/readyz")).status_code == 200
                except httpx.HTTPError:
                    return False

            await eventually(ready, within=90, interval=0.3, what="intake over TLS to be ready")
        yield url
    finally:
        await asyncio.to_thread(stop_process, proc, 20)


async def test_pagerduty_client_switched_by_its_base_url(
    stack: Stack, operator_key: str, tmp_path: Path
) -> None:
    key_file, cert_file = self_signed(tmp_path)
    trusted = ssl.create_default_context(cafile=str(cert_file))
    async with (
        serving(create_directory(stack.settings(DirectorySettings))) as directory,
        serving(create_triage(stack.settings(TriageSettings))) as triage,
        serving(create_changes(stack.settings(ChangesSettings))) as changes,
        intake_over_tls(stack, key_file, cert_file, tmp_path / "intake.log") as intake_url,
        httpx.AsyncClient(base_url=intake_url, verify=trusted, timeout=30) as intake,
    ):
        admin = await sign_in(directory, (await new_tenant(directory, operator_key)).api_key)
        n = unique("")
        client = await created(
            directory,
            "/v1/clients",
            {
                "client_name": f"Shop {n}",
                "registration_number": f"PD-{n}",
                "contact_email": f"ops-{n}@shop.example",
                "client_type": "enterprise",
            },
            admin,
        )
        component = await created(
            directory, "/v1/components", {"name": "checkout", "client_id": client["id"]}, admin
        )
        integration = await created(
            directory,
            "/v1/integrations",
            {
                "kind": "events_v2",
                "name": f"pd-{n}",
                "client_id": client["id"],
                "default_component_id": component["id"],
            },
            admin,
        )
        routing_key = integration["token"]

        # Plain https first: PagerDuty's answers, once intake has the integration (a resolve of a
        # key nothing opened is accepted and changes nothing).
        probe = {"routing_key": routing_key, "event_action": "resolve", "dedup_key": f"probe-{n}"}

        async def known() -> httpx.Response | None:
            answer = await intake.post("/v2/enqueue", json=probe)
            return answer if answer.status_code == 202 else None

        accepted = await eventually(known, what="intake to know the integration")
        assert accepted.json() == {
            "status": "success",
            "message": "Event processed",
            "dedup_key": f"probe-{n}",
        }
        invalid = await intake.post("/v2/change/enqueue", json={"routing_key": routing_key, "payload": {}})
        assert invalid.status_code == 400 and invalid.json()["status"] == "invalid event"
        assert any(e.startswith("payload.summary") for e in invalid.json()["errors"])
        wrong = await intake.post(
            "/v2/enqueue", json={"routing_key": "nope", "event_action": "resolve", "dedup_key": "k"}
        )
        assert wrong.status_code == 400 and wrong.json()["errors"] == [
            "routing_key: not the routing key of an events_v2 integration"
        ]
        same = await intake.post(
            "/v1/alerts/events", json={"routing_key": "nope", "event_action": "resolve", "dedup_key": "k"}
        )
        assert (same.status_code, same.json()) == (wrong.status_code, wrong.json())

        # From here on PagerDuty's client, its base URL the only change.
        pd = pagerduty.EventsApiV2Client(routing_key, base_url=intake_url, verify=trusted)
        deployed_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
        # The client is synchronous: in a thread, so the servers on this event loop can answer.
        await asyncio.to_thread(
            pd.submit,
            summary=f"Deploy checkout {n}",
            source="ci-pipeline",
            custom_details={"build": 42},
            links=[{"href": "https://ci.example/builds/42", "text": "build 42"}],
            timestamp=deployed_at.isoformat(),
        )
        dedup_key = f"checkout-{n}"
        triggered = await asyncio.to_thread(
            pd.trigger, f"Checkout 500s {n}", "web-1", dedup_key=dedup_key, severity="critical"
        )
        assert triggered == dedup_key

        async def incident(status: str) -> dict[str, Any] | None:
            found = await triage.get("/v1/incidents", params={"q": f"Checkout 500s {n}"}, headers=admin)
            rows = [r for r in found.json() if r["status"] == status]
            return rows[0] if rows else None

        opened = await eventually(lambda: incident("open"), what="the triggered incident at triage")
        assert opened["component_id"] == component["id"] and opened["client_id"] == client["id"]
        assert opened["source"] == "events_v2"

        # The change event: a completed change on the component, among the incident's related changes.
        async def related() -> list[dict[str, Any]] | None:
            answer = await changes.get(f"/v1/incidents/{opened['id']}/related-changes", headers=admin)
            return answer.json() if answer.status_code == 200 and answer.json() else None

        (change,) = await eventually(related, what="the change event among the related changes")
        assert change["title"] == f"Deploy checkout {n}" and change["status"] == "completed"
        assert change["requested_by_id"] is None and change["component_id"] == component["id"]
        assert "build 42: https://ci.example/builds/42" in change["description"]
        assert dt.datetime.fromisoformat(change["started_at"]) == deployed_at

        assert await asyncio.to_thread(pd.acknowledge, dedup_key) == dedup_key
        await eventually(lambda: incident("acknowledged"), what="the acknowledge at triage")
        assert await asyncio.to_thread(pd.resolve, dedup_key) == dedup_key
        await eventually(lambda: incident("resolved"), what="the resolve at triage")
