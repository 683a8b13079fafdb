"""incidentctl for responders over the real stack: directory, triage and sla served by uvicorn
on free ports (real PostgreSQL and Kafka), incidents opened by intake's event, the commands run
as a responder and as a client contact with their own API keys."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from backbone.testing import (
    Stack,
    eventually,
    new_tenant,
    on_a_port,
    producer_and_db,
    publish,
    sign_in,
    unique,
)
from contracts.enums import IncidentSource
from contracts.events import IncidentReported
from directory.config import Settings as DirectorySettings
from directory.main import create as create_directory
from incidentctl.cli import app
from sla.config import Settings as SlaSettings
from sla.main import create as create_sla
from triage.config import Settings as TriageSettings
from triage.main import create as create_triage

pytestmark = pytest.mark.integration

runner = CliRunner()
HOUR = {
    "calendar": "24x7",
    "response_target_minutes": 60,
    "response_deadline_minutes": 60,
    "resolution_target_minutes": 240,
    "resolution_deadline_minutes": 240,
}


@dataclass
class World:
    env: dict[str, str | None]  # the services' URLs, no key
    manager_key: str
    manager_id: str
    contact_key: str  # a client contact of client A
    ours: dict[str, Any]  # client A's incident
    theirs: dict[str, Any]  # client B's incident
    spare: dict[str, Any]  # client A's, for the contact's refused ack
    triage: str
    sla: str


async def cli(world: World, key: str, *args: str) -> Result:
    """incidentctl in a thread (the servers run on the test's event loop)."""
    env = {**world.env, "INCIDENTCTL_API_KEY": key}
    return await asyncio.to_thread(runner.invoke, app, list(args), env=env)


def ok(result: Result) -> str:
    assert result.exit_code == 0, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result.stdout


def refused(result: Result, status: int) -> str:
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"error {status}: "), result.stderr
    assert "Traceback" not in result.output and result.stdout == ""
    return result.stderr


@pytest.fixture(scope="module")
async def world(stack: Stack, operator_key: str) -> AsyncIterator[World]:
    async with AsyncExitStack() as exits:
        directory = await exits.enter_async_context(
            on_a_port(create_directory(stack.settings(DirectorySettings)))
        )
        triage = await exits.enter_async_context(on_a_port(create_triage(stack.settings(TriageSettings))))
        sla = await exits.enter_async_context(on_a_port(create_sla(stack.settings(SlaSettings))))
        producer, _ = await exits.enter_async_context(producer_and_db(stack, "triage", pool_size=1))
        d = await exits.enter_async_context(httpx.AsyncClient(base_url=directory, timeout=30))

        tenant = await new_tenant(d, operator_key)
        admin = await sign_in(d, tenant.api_key)

        async def made(path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
            response = await d.post(path, json=body, headers=admin)
            assert response.status_code == 201, response.text
            return dict(response.json())

        n = unique("")
        clients = [
            await made(
                "/v1/clients",
                {
                    "client_name": f"Client {x} {n}",
                    "registration_number": f"REG-{x}-{n}",
                    "contact_email": f"{x}-{n}@example.com",
                    "client_type": "enterprise",
                },
            )
            for x in "ab"
        ]
        manager = await made(
            "/v1/users", {"name": "Ida", "email": f"im-{n}@example.com", "role": "incident_manager"}
        )
        contact = await made(
            "/v1/users",
            {
                "name": "Carl",
                "email": f"cc-{n}@example.com",
                "role": "client_contact",
                "client_id": clients[0]["id"],
            },
        )
        manager_key = (await made(f"/v1/users/{manager['id']}/api-keys"))["api_key"]
        contact_key = (await made(f"/v1/users/{contact['id']}/api-keys"))["api_key"]

        async with httpx.AsyncClient(base_url=sla, timeout=30) as s:
            for severity in ("P1", "P2", "P3", "P4"):
                put = await s.put(f"/v1/policies/basic/{severity}", json=HOUR, headers=admin)
                assert put.status_code == 200, put.text

        ids = []
        for client, title in (
            (clients[0], "Checkout down"),
            (clients[1], "Billing slow"),
            (clients[0], "Spare"),
        ):
            incident_id = uuid.uuid4()
            reported = IncidentReported(
                incident_id=incident_id,
                source=IncidentSource.MANUAL,
                title=f"{title} {n}",
                client_id=uuid.UUID(client["id"]),
                detected_at=datetime.now(UTC),
            )
            await publish(producer, stack.topic_prefix, reported, tenant_id=uuid.UUID(tenant.tenant_id))
            ids.append(incident_id)

        manager_auth = await sign_in(d, manager_key)
        async with httpx.AsyncClient(timeout=30) as c:

            async def ready(incident_id: uuid.UUID) -> dict[str, Any] | None:
                """The incident at triage, its two clocks at sla, and the manager and contact
                known to triage's users replica."""
                row = await c.get(f"{triage}/v1/incidents/{incident_id}", headers=manager_auth)
                clocks = await c.get(f"{sla}/v1/incidents/{incident_id}/sla", headers=manager_auth)
                if row.status_code != 200 or clocks.status_code != 200 or len(clocks.json()["clocks"]) != 2:
                    return None
                return dict(row.json())

            incidents = [await eventually(lambda i=i: ready(i), what="incident and clocks") for i in ids]
            contact_auth = await sign_in(d, contact_key)

            async def known() -> bool:
                me = await c.get(f"{triage}/v1/me", headers=contact_auth)
                return me.status_code == 200 and me.json()["role"] == "client_contact"

            await eventually(known, what="triage to know the contact")

        yield World(
            env={"INCIDENTCTL_URL": directory, "INCIDENTCTL_TRIAGE_URL": triage, "INCIDENTCTL_SLA_URL": sla},
            manager_key=manager_key,
            manager_id=manager["id"],
            contact_key=contact_key,
            ours=incidents[0],
            theirs=incidents[1],
            spare=incidents[2],
            triage=triage,
            sla=sla,
        )


async def test_a_responder_works_an_incident_from_the_command_line(world: World) -> None:
    key, ref = world.manager_key, world.ours["reference_code"]
    number = str(int(ref.removeprefix("INC-")))  # `42` names INC-000042

    listed = json.loads(ok(await cli(world, key, "incidents", "list", "--json")))
    assert {world.ours["id"], world.theirs["id"]} <= {r["id"] for r in listed}
    table = ok(await cli(world, key, "incidents", "list", "--status", "open"))
    assert "REF" in table and ref in table and world.ours["title"] in table

    shown = json.loads(ok(await cli(world, key, "incidents", "show", number, "--json")))
    assert shown["id"] == world.ours["id"] and shown["status"] == "open"
    human = ok(await cli(world, key, "incidents", "show", ref.lower()))
    assert ref in human and world.ours["title"] in human and "detected" in human

    clocks = json.loads(ok(await cli(world, key, "sla", "show", ref, "--json")))
    assert [c["kind"] for c in clocks["clocks"]] == ["response", "resolution"]
    assert all(c["state"] == "running" and c["stopped_at"] is None for c in clocks["clocks"])
    assert "response" in ok(await cli(world, key, "sla", "show", world.ours["id"]))

    # ack waits for sla to stop the response clock (the event travelled triage -> Kafka -> sla).
    acked = ok(await cli(world, key, "incidents", "ack", ref, "--note", "on it"))
    assert f"{ref} acknowledged: status acknowledged" in acked
    assert "response clock stopped (met)" in acked
    after = json.loads(ok(await cli(world, key, "sla", "show", ref, "--json")))
    response = next(c for c in after["clocks"] if c["kind"] == "response")
    assert response["state"] == "met" and response["stopped_at"]
    # Twice: triage's 409 detail, exit 1, no traceback.
    assert "acknowledged" in refused(await cli(world, key, "incidents", "ack", ref, "--no-wait"), 409)

    assignment = json.loads(ok(await cli(world, key, "incidents", "assign", ref, "me", "--json")))
    assert assignment["user_id"] == world.manager_id and assignment["kind"] == "assignee"
    mine = json.loads(ok(await cli(world, key, "incidents", "list", "--assignee", "me", "--json")))
    assert [r["id"] for r in mine] == [world.ours["id"]]

    said = json.loads(
        ok(await cli(world, key, "incidents", "comment", ref, "Rolling back", "--public", "--json"))
    )
    assert said["body"] == "Rolling back" and said["is_internal"] is False
    assert "Rolling back" in ok(await cli(world, key, "incidents", "show", ref))

    resolved = ok(await cli(world, key, "incidents", "resolve", ref, "--resolution", "rolled back"))
    assert f"{ref} resolved: status resolved" in resolved and "resolution clock stopped (met)" in resolved
    closed = json.loads(ok(await cli(world, key, "incidents", "close", ref, "--json")))
    assert closed["status"] == "closed" and closed["resolution"] == "rolled back"


async def test_a_client_contact_cannot_act_on_incidents_beyond_its_rights(world: World) -> None:
    key = world.contact_key
    seen = json.loads(ok(await cli(world, key, "incidents", "list", "--json")))
    assert world.spare["id"] in {r["id"] for r in seen}
    assert world.theirs["id"] not in {r["id"] for r in seen}

    # Another client's incident does not exist for the contact, by reference or by id.
    theirs = world.theirs["reference_code"]
    assert theirs in refused(await cli(world, key, "incidents", "ack", theirs), 404)
    refused(await cli(world, key, "incidents", "ack", world.theirs["id"], "--no-wait"), 404)
    refused(await cli(world, key, "sla", "show", world.theirs["id"]), 404)
    # Its own client's incident: seen, but a contact may not acknowledge it (the role's 403).
    assert "incidents.update" in refused(
        await cli(world, key, "incidents", "ack", world.spare["reference_code"]), 403
    )
    state = json.loads(
        ok(await cli(world, world.manager_key, "incidents", "show", world.spare["id"], "--json"))
    )
    assert state["status"] == "open" and state["acknowledged_at"] is None
    # A public comment is what a contact may add.
    said = json.loads(
        ok(
            await cli(
                world, key, "incidents", "comment", world.spare["reference_code"], "Still down?", "--json"
            )
        )
    )
    assert said["is_internal"] is False


async def test_bad_references_and_keys_are_clear_errors(world: World) -> None:
    missing = await cli(world, world.manager_key, "incidents", "show", "INC-999999")
    assert "no incident INC-999999" in refused(missing, 404)
    bad = await cli(world, world.manager_key, "incidents", "show", "checkout")
    assert bad.exit_code == 2 and "INC-000123" in bad.stderr and "Traceback" not in bad.output
    wrong = await cli(world, "ipk_wrong", "incidents", "list")
    refused(wrong, 401)
    gone = await asyncio.to_thread(
        runner.invoke,
        app,
        ["incidents", "--triage-url", "http://127.0.0.1:9", "list"],
        env={**world.env, "INCIDENTCTL_API_KEY": world.manager_key},
    )
    assert gone.exit_code == 1 and gone.stderr.startswith(
        "error: cannot reach the service at http://127.0.0.1:9"
    )


def test_serve_needs_both_halves_of_a_tls_pair(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("not used")
    wide = {"COLUMNS": "300"}  # the error box unwrapped
    half = runner.invoke(app, ["serve", "intake", "--ssl-certfile", str(cert)], env=wide)
    assert half.exit_code == 2 and "--ssl-keyfile" in half.stderr
    missing = runner.invoke(
        app,
        ["serve", "intake", "--ssl-certfile", str(cert), "--ssl-keyfile", str(tmp_path / "nope.pem")],
        env=wide,
    )
    assert missing.exit_code == 2 and "is not a file" in missing.stderr
