"""Least privilege in the database (docs/adr/0008-database-roles.md), over the real PostgreSQL.

Each test module run gets a database of its own and role names with a prefix of their own
(roles are cluster-wide), both removed afterwards. The platform is laid out as `make up` lays
it out: `incidentctl db roles` (backbone.roles), migrations run as each schema's owner role,
every service connected as its own login role.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from backbone.db import sqlstate
from backbone.roles import drop_service_roles, ensure_service_roles, service_roles
from backbone.testing import (
    Infra,
    Stack,
    create_database,
    drop_database,
    eventually,
    incident_for,
    migrate_all,
    serving,
    unique,
)
from contracts.topics import SERVICES

pytestmark = pytest.mark.integration

INSUFFICIENT_PRIVILEGE = "42501"


@dataclass
class RolesDb:
    admin_url: str  # the scratch database, as the administrator
    prefix: str
    passwords: dict[str, str]

    def url(self, service: str) -> str:
        """The scratch database as the service's own login role."""
        return (
            make_url(self.admin_url)
            .set(username=service_roles(service, self.prefix).login, password=self.passwords[service])
            .render_as_string(hide_password=False)
        )


async def _ensure_all(db: RolesDb) -> None:
    for service in SERVICES:
        await ensure_service_roles(db.admin_url, service, db.passwords[service], db.prefix)


@contextlib.asynccontextmanager
async def _roles_database(infra: Infra, prefix: str) -> AsyncIterator[RolesDb]:
    name = unique("roles_")
    url = await create_database(infra.database_url, name)
    db = RolesDb(url, prefix, {s: secrets.token_hex(16) for s in SERVICES})
    try:
        yield db
    finally:
        await drop_database(infra.database_url, name)
        for service in SERVICES:
            await drop_service_roles(infra.database_url, service, prefix)


@pytest.fixture(scope="module")
async def roles_db(infra: Infra) -> AsyncIterator[RolesDb]:
    """Roles first, then migrations (run as each schema's owner), then roles again: the order of
    a later `make up` that brings a new migration."""
    async with _roles_database(infra, unique("t") + "_") as db:
        await _ensure_all(db)
        await migrate_all(db.admin_url)
        await _ensure_all(db)
        yield db


@contextlib.asynccontextmanager
async def connected(url: str, schema: str) -> AsyncIterator[AsyncConnection]:
    engine = create_async_engine(url, connect_args={"server_settings": {"search_path": schema}})
    try:
        async with engine.connect() as conn:
            yield conn
    finally:
        await engine.dispose()


async def refused(conn: AsyncConnection, statement: str) -> str | None:
    """The SQLSTATE the database refuses ``statement`` with (None if it ran)."""
    try:
        async with conn.begin():
            await conn.execute(text(statement))
    except DBAPIError as exc:
        return sqlstate(exc)
    return None


async def test_migrations_ran_as_each_schemas_owner(roles_db: RolesDb) -> None:
    async with connected(roles_db.admin_url, "public") as conn:
        rows = await conn.execute(
            text(
                "SELECT n.nspname, c.relname, pg_get_userbyid(c.relowner) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = ANY(:schemas) AND c.relkind IN ('r', 'p', 'S')"
            ),
            {"schemas": list(SERVICES)},
        )
        owners = {(schema, table): owner for schema, table, owner in rows.all()}
    assert {schema for schema, _ in owners} == set(SERVICES)
    wrong = {k: v for k, v in owners.items() if v != service_roles(k[0], roles_db.prefix).owner}
    assert not wrong, wrong


async def test_a_service_cannot_touch_another_services_schema(roles_db: RolesDb) -> None:
    async with connected(roles_db.url("triage"), "triage") as triage:
        assert await refused(triage, "SELECT 1 FROM triage.outbox LIMIT 1") is None
        for statement in (
            "SELECT * FROM intake.dedup_keys LIMIT 1",
            "SELECT * FROM directory.tenants LIMIT 1",
            "DELETE FROM audit.entries",
            "INSERT INTO sla.inbox (event_id, event_type) VALUES (gen_random_uuid(), 'x')",
        ):
            assert await refused(triage, statement) == INSUFFICIENT_PRIVILEGE, statement


async def test_a_service_cannot_change_its_own_schema(roles_db: RolesDb) -> None:
    """DDL is the owner's, that is, the migrations'; the running service only reads and writes."""
    async with connected(roles_db.url("intake"), "intake") as intake:
        for statement in (
            "CREATE TABLE intake.smuggled (id int)",
            "DROP TABLE intake.outbox",
            "ALTER TABLE intake.outbox ADD COLUMN x int",
            "TRUNCATE intake.inbox",
            "UPDATE intake.alembic_version SET version_num = version_num",
        ):
            assert await refused(intake, statement) == INSUFFICIENT_PRIVILEGE, statement


AUDIT_ROW = (
    "INSERT INTO audit.entries (tenant_id, leaf_index, event_id, event_type, action, source, subject,"
    " actor, occurred_at, recorded_at, data, leaf) VALUES (gen_random_uuid(), 0, gen_random_uuid(),"
    " 't.x.v1', 'create', 'test', 's', '{}', now(), now(), '{}', '\\x00') RETURNING tenant_id"
)


async def test_the_audit_log_is_append_only_for_audit(roles_db: RolesDb) -> None:
    """A rewrite of the log (an entry, a stored tree hash, a checkpoint, a signing key) is
    refused to the service's own role; only a superuser could, and verify names it."""
    async with connected(roles_db.url("audit"), "audit") as audit:
        async with audit.begin():
            tenant = (await audit.execute(text(AUDIT_ROW))).scalar_one()
            await audit.execute(
                text("INSERT INTO audit.hashes (tenant_id, hash_index, hash) VALUES (:t, 0, '\\x01')"),
                {"t": tenant},
            )
        for statement in (
            f"UPDATE audit.entries SET data = '{{\"forged\": true}}' WHERE tenant_id = '{tenant}'",
            f"DELETE FROM audit.entries WHERE tenant_id = '{tenant}'",
            "TRUNCATE audit.entries",
            f"UPDATE audit.hashes SET hash = '\\x02' WHERE tenant_id = '{tenant}'",
            f"DELETE FROM audit.hashes WHERE tenant_id = '{tenant}'",
            "UPDATE audit.checkpoints SET note = 'forged'",
            "DELETE FROM audit.checkpoints",
            "DELETE FROM audit.signing_keys",
            "UPDATE audit.audit_log SET data = '{}'",
        ):
            assert await refused(audit, statement) == INSUFFICIENT_PRIVILEGE, statement
        # The head (the log's size and what its checkpoint covers) moves with every append.
        assert (
            await refused(
                audit,
                "INSERT INTO audit.heads (tenant_id, size, grew_at) VALUES (gen_random_uuid(), 1, now())"
                " ON CONFLICT (tenant_id) DO UPDATE SET size = excluded.size",
            )
            is None
        )
        async with audit.begin():
            kept = await audit.execute(
                text(f"SELECT count(*) FROM audit.entries WHERE tenant_id = '{tenant}'")
            )
            assert kept.scalar() == 1


async def test_roles_take_over_what_migrations_made_as_the_administrator(infra: Infra) -> None:
    """A database migrated before its roles existed (the first `make up`): the roles step hands
    every table to the owner role, and the log becomes append-only at once."""
    async with _roles_database(infra, unique("t") + "_") as db:
        await migrate_all(db.admin_url, ("audit",))
        await ensure_service_roles(db.admin_url, "audit", db.passwords["audit"], db.prefix)
        async with connected(db.admin_url, "audit") as admin:
            owners = set(
                (
                    await admin.execute(
                        text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'audit'")
                    )
                ).scalars()
            )
        assert owners == {service_roles("audit", db.prefix).owner}
        async with connected(db.url("audit"), "audit") as audit:
            assert await refused(audit, "DELETE FROM audit.entries") == INSUFFICIENT_PRIVILEGE
            assert await refused(audit, "DELETE FROM audit.inbox") is None
        # Migrating again runs as the owner and changes nothing.
        await migrate_all(db.admin_url, ("audit",))


# -- the platform at work, each service as its own role -------------------------------------------


def _webhook(fingerprint: str) -> dict[str, Any]:
    alert = {
        "status": "firing",
        "labels": {"alertname": "DiskFull", "instance": "db-1", "severity": "critical"},
        "annotations": {"summary": "Disk full on db-1"},
        "startsAt": "2026-11-23T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus/graph",
        "fingerprint": fingerprint,
    }
    return {
        "version": "4",
        "status": "firing",
        "receiver": "incident-platform",
        "groupKey": "{}",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "truncatedAlerts": 0,
        "alerts": [alert],
    }


async def test_every_service_works_under_its_own_role(roles_db: RolesDb, infra: Infra) -> None:
    """Seven services, each connected as its own role: all ready, and an alert goes through
    directory, intake, triage and audit (consumers, outbox relays and timers under the roles)."""
    import importlib

    prefix = unique("roles_") + "."
    stack = Stack(roles_db.admin_url, infra.kafka_bootstrap_servers, prefix)
    await stack.create_topics()
    apps = {}
    for service in SERVICES:
        settings_cls = importlib.import_module(f"{service}.config").Settings
        create = importlib.import_module(f"{service}.main").create
        apps[service] = create(stack.settings(settings_cls, database_url=roles_db.url(service)))
    try:
        async with contextlib.AsyncExitStack() as running:
            clients: dict[str, httpx.AsyncClient] = {}
            for service, app in apps.items():
                clients[service] = await running.enter_async_context(serving(app))
            for service, client in clients.items():
                ready = await client.get("/readyz")
                assert ready.status_code == 200, (service, ready.text)

            directory = clients["directory"]
            created = await directory.post("/v1/bootstrap", json={"slug": "roles", "name": "Roles"})
            assert created.status_code == 201, created.text
            token = await clients["directory"].post(
                "/v1/auth/token", json={"api_key": created.json()["api_key"]}
            )
            admin = {"Authorization": f"Bearer {token.json()['access_token']}"}
            integration = await clients["directory"].post(
                "/v1/integrations", json={"kind": "alertmanager", "name": "prometheus"}, headers=admin
            )
            assert integration.status_code == 201, integration.text
            alert_auth = {"Authorization": f"Bearer {integration.json()['token']}"}

            async def accepted() -> httpx.Response | None:
                response = await clients["intake"].post(
                    "/v1/alerts/alertmanager", json=_webhook("fp-roles"), headers=alert_auth
                )
                return response if response.status_code == 202 else None

            first = (await eventually(accepted, what="intake to accept")).json()["alerts"][0]
            incident = await eventually(
                lambda: incident_for(clients["triage"], admin, first["dedup_key"]),
                what="triage to open the incident",
            )
            incident_id = incident["id"]

            async def audited() -> list[str] | None:
                response = await clients["audit"].get(
                    "/v1/audit", params={"subject": incident_id}, headers=admin
                )
                if response.status_code != 200:
                    return None
                types = [e["event_type"] for e in response.json()]
                return types if any(t.startswith("incident.created") for t in types) else None

            await eventually(audited, what="audit to record the incident")
            verified = await clients["audit"].get("/v1/audit/verify", headers=admin)
            assert verified.status_code == 200 and verified.json()["ok"], verified.text
    finally:
        await stack.delete_topics()
