"""incidentctl over a real directory: the admin commands against directory's HTTP API (served by
uvicorn on a free port, over the real PostgreSQL and Kafka), `keys generate`, and the errors an
operator sees.

Directory runs on a database and a topic prefix of its own: `POST /v1/bootstrap` works only on an
empty system, and the session's database is bootstrapped by the `operator_key` fixture.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner, Result

from backbone.auth import TokenSigner, TokenVerifier, load_pem
from backbone.testing import Infra, Stack, create_database, drop_database, eventually, migrate_all, unique
from contracts.enums import Role
from incidentctl.cli import app

runner = CliRunner()
NO_KEY_ENV: dict[str, str | None] = {"INCIDENTCTL_API_KEY": None, "INCIDENTCTL_URL": None}


def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return runner.invoke(app, list(args), env={**NO_KEY_ENV, **(env or {})})


async def cli(*args: str, env: dict[str, str | None] | None = None) -> Result:
    """incidentctl in a thread: the test's event loop stays free."""
    return await asyncio.to_thread(run, *args, env=env)


def answer(result: Result) -> Any:
    assert result.exit_code == 0, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return json.loads(result.stdout)


# --------------------------------------------------------------------------- directory, served


@pytest.fixture(scope="module")
async def directory_url(infra: Infra, stack: Stack) -> AsyncIterator[str]:
    from directory.config import Settings
    from directory.main import create

    name = unique("cli_")
    database_url = await create_database(infra.database_url, name)
    prefix = f"{name}."
    try:
        await migrate_all(database_url, ("directory",))
        await stack.create_topics(prefix)
        settings = stack.settings(Settings, database_url=database_url, kafka_topic_prefix=prefix)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        # factory: the app (engine, broker) is built inside the server's own event loop.
        config = uvicorn.Config(lambda: create(settings), factory=True, log_config=None, lifespan="on")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()

        async def ready() -> bool:
            assert thread.is_alive(), "directory stopped while starting (see the log above)"
            try:
                async with httpx.AsyncClient(timeout=3) as client:
                    return (await client.get(f"{url}/readyz")).status_code == 200
            except httpx.HTTPError:
                return False

        try:
            await eventually(ready, within=60, interval=0.2, what="directory /readyz")
            yield url
        finally:
            server.should_exit = True
            await asyncio.to_thread(thread.join, 30)
            sock.close()
    finally:
        await stack.delete_topics(prefix)
        await drop_database(infra.database_url, name)


# --------------------------------------------------------------------------- the admin commands


async def test_admin_commands_set_up_a_tenant(directory_url: str, stack: Stack, tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.json"
    n = unique("")

    # bootstrap: POST /v1/bootstrap on the empty system, credentials written owner-only; a rerun
    # keeps them (idempotent).
    boot = await cli(
        "bootstrap", "--directory-url", directory_url, "--out", str(credentials), "--slug", f"ops-{n}"
    )
    assert boot.exit_code == 0, boot.stderr
    saved = json.loads(credentials.read_text())
    assert saved["tenant_slug"] == f"ops-{n}" and saved["api_key"]
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    again = await cli("bootstrap", "--directory-url", directory_url, "--out", str(credentials))
    assert again.exit_code == 0 and "already" in again.stderr
    assert json.loads(credentials.read_text()) == saved

    # token: a bare access token, signed by directory's key, for the operator.
    token = await cli("token", "--url", directory_url, "--credentials", str(credentials))
    assert token.exit_code == 0, token.stderr
    claims = TokenVerifier(stack.keypair[1].encode()).verify(token.stdout.strip())
    assert claims["role"] == Role.SYSTEM_ADMINISTRATOR and claims.get("op")

    # tenants create, as the platform operator (API key from the credentials file).
    tenant = answer(
        await cli(
            "tenants",
            "--url",
            directory_url,
            "--credentials",
            str(credentials),
            "create",
            "--slug",
            f"acme-{n}",
            "--name",
            "Acme",
            "--admin-email",
            f"admin-{n}@acme.example",
        )
    )
    assert tenant["tenant_slug"] == f"acme-{n}" and tenant["tenant_id"] and tenant["api_key"]

    # From here on as the new tenant's admin, connection options from the environment.
    env: dict[str, str | None] = {"INCIDENTCTL_URL": directory_url, "INCIDENTCTL_API_KEY": tenant["api_key"]}

    client = answer(
        await cli(
            "clients",
            "create",
            "--name",
            "Acme Retail",
            "--registration-number",
            f"HRB-{n}",
            "--contact-email",
            f"ops-{n}@acme.example",
            "--type",
            "enterprise",
            "--country",
            "DE",
            env=env,
        )
    )
    assert client["id"] and client["client_name"] == "Acme Retail" and client["status"] == "active"
    assert client["client_type"] == "enterprise" and client["country"] == "DE"

    subscription = answer(
        await cli(
            "clients",
            "subscribe",
            client["id"],
            "--tier",
            "premium",
            "--contractual-p1",
            "--valid-from",
            "2025-01-01",
            env=env,
        )
    )
    assert subscription["client_id"] == client["id"] and subscription["tier"] == "premium"
    assert subscription["contractual_p1"] is True and subscription["valid_from"] == "2025-01-01"

    vendor = answer(
        await cli(
            "vendors",
            "create",
            "--name",
            f"Cloud {n}",
            "--email",
            f"desk-{n}@cloud.example",
            "--phone",
            "+44 20 7946 0000",
            "--type",
            "cloud_provider",
            env=env,
        )
    )
    assert vendor["id"] and vendor["vendor_type"] == "cloud_provider"

    users: dict[Role, dict[str, Any]] = {}
    for role in Role:
        links = {
            Role.CLIENT_CONTACT: ["--client-id", client["id"]],
            Role.VENDOR_CONTACT: ["--vendor-id", vendor["id"]],
        }.get(role, [])
        users[role] = answer(
            await cli(
                "users",
                "create",
                "--name",
                role.value.replace("_", " ").title(),
                "--email",
                f"{role.value}-{n}@acme.example",
                "--role",
                role.value,
                "--department",
                "Operations",
                "--timezone",
                "Europe/Berlin",
                *links,
                env=env,
            )
        )
    assert len({u["id"] for u in users.values()}) == len(Role) == 7
    for role, user in users.items():
        assert user["role"] == role.value and user["status"] == "active"
        assert user["timezone"] == "Europe/Berlin" and user["department"] == "Operations"
    assert users[Role.CLIENT_CONTACT]["client_id"] == client["id"]
    assert users[Role.VENDOR_CONTACT]["vendor_id"] == vendor["id"]

    listed = answer(await cli("users", "list", env=env))
    assert {u["id"] for u in users.values()} <= {u["id"] for u in listed}

    suspended = answer(
        await cli("users", "update", users[Role.EXECUTIVE]["id"], "--status", "suspended", env=env)
    )
    assert suspended["status"] == "suspended" and suspended["role"] == "executive"

    issued = answer(await cli("users", "api-key", users[Role.INCIDENT_MANAGER]["id"], env=env))
    assert issued["id"] and issued["api_key"].startswith(f"ipk_{issued['prefix']}_")
    # The new key works: it signs in as the incident manager.
    as_manager = await cli("token", env={**env, "INCIDENTCTL_API_KEY": issued["api_key"]})
    assert as_manager.exit_code == 0, as_manager.stderr
    manager_claims = TokenVerifier(stack.keypair[1].encode()).verify(as_manager.stdout.strip())
    assert manager_claims["sub"] == users[Role.INCIDENT_MANAGER]["id"]

    manager_id = users[Role.ACCOUNT_MANAGER]["id"]
    updated = answer(
        await cli(
            "clients",
            "update",
            client["id"],
            "--industry",
            "Retail",
            "--account-manager-id",
            manager_id,
            env=env,
        )
    )
    assert updated["industry"] == "Retail" and updated["account_manager_id"] == manager_id
    assert updated["client_name"] == "Acme Retail" and updated["country"] == "DE"  # untouched
    assert client["id"] in {c["id"] for c in answer(await cli("clients", "list", env=env))}

    component = answer(
        await cli(
            "components",
            "create",
            "--name",
            "orders-db",
            "--client-id",
            client["id"],
            "--vendor-id",
            vendor["id"],
            "--type",
            "database",
            "--environment",
            "production",
            "--business-critical",
            env=env,
        )
    )
    assert component["id"] and component["client_id"] == client["id"]
    assert component["vendor_id"] == vendor["id"] and component["business_critical"] is True

    integration = answer(
        await cli(
            "integrations",
            "create",
            "--kind",
            "alertmanager",
            "--name",
            "prod-alertmanager",
            "--client-id",
            client["id"],
            "--default-component-id",
            component["id"],
            "--grouping-label",
            "alertname",
            "--grouping-label",
            "instance",
            "--impact-rule",
            "severity=critical,page:business_critical=true",
            "--impact-rule",
            "customers=:affected_parties=250",
            "--impact-rule",
            "outage=total:degradation=complete_outage",
            env=env,
        )
    )
    assert integration["id"] and integration["token"]
    assert integration["client_id"] == client["id"]
    assert integration["default_component_id"] == component["id"]
    assert integration["grouping_labels"] == ["alertname", "instance"]
    assert integration["impact_rules"] == [
        {"label": "severity", "values": ["critical", "page"], "fact": "business_critical", "to": True},
        {"label": "customers", "values": [], "fact": "affected_parties", "to": 250},
        {"label": "outage", "values": ["total"], "fact": "degradation", "to": "complete_outage"},
    ]

    # The integration changed, given a new token, deleted.
    changed = answer(
        await cli(
            "integrations", "update", integration["id"], "--no-auto-resolve", "--name", "prod-am", env=env
        )
    )
    assert changed["name"] == "prod-am" and changed["auto_resolve"] is False
    assert changed["grouping_labels"] == ["alertname", "instance"]  # untouched
    rotated = answer(await cli("integrations", "rotate", integration["id"], env=env))
    assert rotated["id"] == integration["id"] and rotated["token"] not in ("", integration["token"])
    assert answer(await cli("integrations", "delete", integration["id"], env=env)) is None
    gone = await cli("integrations", "delete", integration["id"], env=env)
    assert gone.exit_code == 1 and gone.stderr.startswith("error 404: ")

    # The incident manager's keys: listed, rotated (the old key stops working), revoked.
    im_id = users[Role.INCIDENT_MANAGER]["id"]
    keys = answer(await cli("api-keys", "list", im_id, env=env))
    assert issued["id"] in {k["id"] for k in keys} and all("api_key" not in k for k in keys)
    fresh = answer(await cli("api-keys", "rotate", im_id, issued["id"], env=env))
    assert fresh["api_key"].startswith(f"ipk_{fresh['prefix']}_")
    old = await cli("token", env={**env, "INCIDENTCTL_API_KEY": issued["api_key"]})
    assert old.exit_code == 1 and old.stderr.startswith("error 401: ")
    revoked = answer(await cli("api-keys", "revoke", im_id, fresh["id"], env=env))
    assert revoked["id"] == fresh["id"] and revoked["revoked_at"]
    assert (await cli("token", env={**env, "INCIDENTCTL_API_KEY": fresh["api_key"]})).exit_code == 1

    # A second client with the same registration number: directory's 409, on stderr, exit 1.
    duplicate = await cli(
        "clients",
        "create",
        "--name",
        "Acme Again",
        "--registration-number",
        f"HRB-{n}",
        "--contact-email",
        f"other-{n}@acme.example",
        "--type",
        "startup",
        env=env,
    )
    assert duplicate.exit_code == 1
    assert duplicate.stderr.startswith("error 409: ") and duplicate.stdout == ""
    names = {c["client_name"] for c in answer(await cli("clients", "list", env=env))}
    assert "Acme Again" not in names


async def test_a_wrong_api_key_is_refused(directory_url: str) -> None:
    result = await cli("clients", "--url", directory_url, "--api-key", "ipk_wrong", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith("error 401: ") and result.stdout == ""


async def test_bad_input_is_refused_before_any_call(directory_url: str) -> None:
    env: dict[str, str | None] = {"INCIDENTCTL_URL": directory_url, "INCIDENTCTL_API_KEY": "unused"}
    rule = await cli(
        "integrations", "create", "--kind", "generic", "--name", "x", "--impact-rule", "sev", env=env
    )
    assert rule.exit_code == 2 and "label=value1,value2:fact=to" in rule.stderr
    role = await cli("users", "create", "--name", "x", "--email", "x@acme.example", "--role", "boss", env=env)
    assert role.exit_code == 2 and "boss" in role.stderr
    nothing = await cli("users", "update", "00000000-0000-0000-0000-000000000001", env=env)
    assert nothing.exit_code == 2 and "at least one field" in nothing.stderr


# --------------------------------------------------------------------------- without directory


def test_missing_credentials_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "credentials.json"
    result = run("clients", "--url", "http://127.0.0.1:9", "--credentials", str(missing), "list")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no API key") and str(missing) in result.stderr
    assert "INCIDENTCTL_API_KEY" in result.stderr and "Traceback" not in result.output
    assert result.stdout == ""


def test_unreachable_directory_is_a_clear_error() -> None:
    result = run("token", "--url", "http://127.0.0.1:9", "--api-key", "ipk_x")
    assert result.exit_code == 1 and result.stderr.startswith("error: cannot reach directory")


def test_keys_generate_writes_a_pair_once(tmp_path: Path) -> None:
    out = tmp_path / "keys"
    first = run("keys", "generate", "--out-dir", str(out))
    assert first.exit_code == 0, first.stderr
    signing, public = out / "signing-key.pem", out / "public-key.pem"
    assert stat.S_IMODE(signing.stat().st_mode) == 0o600
    assert signing.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    # The two halves belong together: what the signing key signs, the public key verifies.
    token = TokenSigner(load_pem(str(signing)), 60).issue({"sub": "u", "tid": "t", "role": "executive"})
    assert TokenVerifier(load_pem(str(public))).verify(token)["sub"] == "u"
    pair = (signing.read_text(), public.read_text())

    # Idempotent: a rerun keeps the keys (tokens already issued stay valid).
    again = run("keys", "generate", "--out-dir", str(out))
    assert again.exit_code == 0 and (signing.read_text(), public.read_text()) == pair

    # A lost public key is derived again from the signing key, which is kept.
    public.unlink()
    run("keys", "generate", "--out-dir", str(out))
    assert (signing.read_text(), public.read_text()) == pair

    # --force replaces both, still owner-only.
    os.chmod(signing, 0o644)
    forced = run("keys", "generate", "--out-dir", str(out), "--force")
    assert forced.exit_code == 0
    assert signing.read_text() != pair[0] and public.read_text() != pair[1]
    assert stat.S_IMODE(signing.stat().st_mode) == 0o600
    assert sorted(p.name for p in out.iterdir()) == ["public-key.pem", "signing-key.pem"]
