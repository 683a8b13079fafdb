"""Least privilege in the database (docs/adr/0008-database-roles.md).

Per service two roles:

- ``<prefix><service>_owner`` (NOLOGIN) owns the service's schema and everything in it.
  Migrations run as it (backbone.migrations sets the schema's owner as the role), so nobody
  logs in as an owner.
- ``<prefix><service>`` (LOGIN) is what the service runs as: USAGE on its own schema, SELECT,
  INSERT, UPDATE, DELETE on its tables, nothing on any other schema, no DDL. The append-only
  tables (audit's log: entries, tree hashes, checkpoints, signing keys) grant it SELECT and
  INSERT only: the database refuses UPDATE, DELETE and TRUNCATE (SQLSTATE 42501).

``ensure_service_roles`` is idempotent; it runs as an administrator that may create roles
(CREATEROLE or superuser) and becomes a member of every owner role, so it can run migrations as
them. Run it after ``incidentctl migrate`` on a new database (it hands the tables created by the
administrator to the owner) and again after each migrate (it grants on new tables the revokes of
the append-only ones).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

# Tables the service's login role may only read and append to.
APPEND_ONLY: dict[str, tuple[str, ...]] = {
    # The transparency log (docs/audit.md) and the hash chain it replaced.
    "audit": ("entries", "hashes", "checkpoints", "signing_keys", "audit_log"),
}
# Tables only migrations write.
MIGRATIONS_ONLY = ("alembic_version",)
DEFAULT_PREFIX = "svc_"

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,50}")
_RELATION_KINDS = {"r": "TABLE", "p": "TABLE", "f": "FOREIGN TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW"}


@dataclass(frozen=True)
class ServiceRoles:
    service: str
    login: str
    owner: str


def service_roles(service: str, prefix: str = DEFAULT_PREFIX) -> ServiceRoles:
    login = f"{prefix}{service}"
    for name in (service, login):
        if not _NAME.fullmatch(name):
            raise ValueError(f"not a plain lower-case SQL name: {name!r}")
    return ServiceRoles(service, login, f"{login}_owner")


def _literal(value: str) -> str:
    # Utility statements (CREATE ROLE … PASSWORD) take no bind parameters.
    return "'" + value.replace("'", "''") + "'"


async def _hand_over(conn: AsyncConnection, schema: str, owner: str) -> None:
    """Everything in the schema not yet the owner's becomes the owner's (objects made by an
    administrator's migrations before the roles existed)."""
    rows = await conn.execute(
        text(
            "SELECT c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = :schema AND c.relkind IN ('r', 'p', 'f', 'v', 'm')"
            " AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = :owner) ORDER BY c.relname"
        ),
        {"schema": schema, "owner": owner},
    )
    for name, kind in rows.all():
        await conn.execute(text(f'ALTER {_RELATION_KINDS[kind]} "{schema}"."{name}" OWNER TO "{owner}"'))
    # Sequences of a table's columns moved with it; standalone ones are left.
    sequences = await conn.execute(
        text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = :schema AND c.relkind = 'S'"
            " AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = :owner)"
        ),
        {"schema": schema, "owner": owner},
    )
    for (name,) in sequences.all():
        await conn.execute(text(f'ALTER SEQUENCE "{schema}"."{name}" OWNER TO "{owner}"'))


async def _ensure(conn: AsyncConnection, roles: ServiceRoles, password: str) -> None:
    schema, login, owner = roles.service, roles.login, roles.owner
    # Role statements are cluster-wide catalogue writes: one ensure at a time.
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('incident-platform:roles'))"))
    exists = await conn.execute(
        text("SELECT rolname FROM pg_roles WHERE rolname IN (:login, :owner)"),
        {"login": login, "owner": owner},
    )
    present = set(exists.scalars())
    verb = {name: "ALTER" if name in present else "CREATE" for name in (login, owner)}
    await conn.execute(text(f'{verb[owner]} ROLE "{owner}" NOLOGIN NOCREATEDB NOCREATEROLE'))
    await conn.execute(
        text(
            f'{verb[login]} ROLE "{login}" LOGIN NOCREATEDB NOCREATEROLE NOINHERIT'
            f" PASSWORD {_literal(password)}"
        )
    )
    # The administrator runs migrations as the owner (SET ROLE) and hands objects to it.
    await conn.execute(text(f'GRANT "{owner}" TO CURRENT_USER'))
    await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}" AUTHORIZATION "{owner}"'))
    await conn.execute(text(f'ALTER SCHEMA "{schema}" OWNER TO "{owner}"'))
    await _hand_over(conn, schema, owner)
    await conn.execute(text(f'REVOKE ALL ON SCHEMA "{schema}" FROM PUBLIC'))
    await conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{login}"'))
    # Tables a later migration creates (as the owner) get the same grants.
    for kind, privileges in (("TABLES", "SELECT, INSERT, UPDATE, DELETE"), ("SEQUENCES", "USAGE, SELECT")):
        await conn.execute(
            text(
                f'ALTER DEFAULT PRIVILEGES FOR ROLE "{owner}" IN SCHEMA "{schema}"'
                f' GRANT {privileges} ON {kind} TO "{login}"'
            )
        )
    await conn.execute(
        text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO "{login}"')
    )
    await conn.execute(text(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{login}"'))
    for table in (*APPEND_ONLY.get(schema, ()), *MIGRATIONS_ONLY):
        if await conn.scalar(text("SELECT to_regclass(:t)"), {"t": f'"{schema}"."{table}"'}) is not None:
            await conn.execute(
                text(f'REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON "{schema}"."{table}" FROM "{login}"')
            )
            if table not in MIGRATIONS_ONLY:
                await conn.execute(text(f'GRANT INSERT ON "{schema}"."{table}" TO "{login}"'))


async def ensure_service_roles(
    admin_url: str, service: str, password: str, prefix: str = DEFAULT_PREFIX
) -> ServiceRoles:
    """Create or update the service's roles, schema ownership and grants (idempotent)."""
    if not password:
        raise ValueError(f"{service}: an empty password")
    roles = service_roles(service, prefix)
    engine = create_async_engine(admin_url)
    try:
        async with engine.begin() as conn:
            await _ensure(conn, roles, password)
    finally:
        await engine.dispose()
    return roles


async def drop_service_roles(admin_url: str, service: str, prefix: str) -> None:
    """Remove the service's roles from the cluster (tests clean up with it). Drop the databases
    holding their objects first: PostgreSQL refuses to drop a role that still owns something."""
    roles = service_roles(service, prefix)
    engine = create_async_engine(admin_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP ROLE IF EXISTS "{roles.login}", "{roles.owner}"'))
    finally:
        await engine.dispose()
