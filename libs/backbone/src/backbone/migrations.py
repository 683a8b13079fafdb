"""Alembic per service: each service's migrations live in services/<name>/migrations and keep
their version table in the service's own schema (docs/adr/0008-database-roles.md)."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.schema import SchemaItem


def migrations_dir(service: str) -> Path:
    spec = importlib.util.find_spec(service)
    if spec is None or spec.origin is None:
        raise LookupError(f"service package {service!r} is not installed")
    # services/<name>/src/<name>/__init__.py -> services/<name>/migrations
    return Path(spec.origin).resolve().parents[2] / "migrations"


def alembic_config(service: str, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("script_location", str(migrations_dir(service)))
    cfg.set_main_option("version_locations", str(migrations_dir(service) / "versions"))
    cfg.attributes["database_url"] = database_url
    cfg.attributes["schema"] = service
    return cfg


def upgrade(service: str, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, database_url), revision)


def check(service: str, database_url: str) -> None:
    """Raise if the service's tables (adapters/orm.py) differ from what its migrations build."""
    command.check(alembic_config(service, database_url))


def run_env(metadata: MetaData) -> None:
    """Body of every service's migrations/env.py."""
    cfg = context.config
    schema: str = cfg.attributes["schema"]
    url: str = cfg.attributes["database_url"]

    def include_name(name: str | None, type_: str, parent_names: object) -> bool:
        return name == schema if type_ == "schema" else True

    def do_run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=True,
            include_name=include_name,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                # Two starters migrating at once wait for each other instead of colliding.
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"migrate:{schema}"}
                )
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                # Where the schema has an owner role of its own (backbone.roles), migrations run
                # as it, so what they create belongs to it and not to the administrator.
                owner = await conn.scalar(
                    text(
                        "SELECT quote_ident(r.rolname) FROM pg_namespace n JOIN pg_roles r"
                        " ON r.oid = n.nspowner WHERE n.nspname = :s AND r.rolname <> current_user"
                    ),
                    {"s": schema},
                )
                if owner is not None:
                    await conn.execute(text(f"SET LOCAL ROLE {owner}"))
                await conn.run_sync(do_run)
        finally:
            await engine.dispose()

    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, version_table_schema=schema, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(run_async())


# -- revisions every service repeats -----------------------------------------------------------
# A revision module binds `upgrade, downgrade = <pair>(schema)`: alembic only calls them.

Step = Callable[[], None]


def _steps(up: Callable[[str], None], down: Callable[[str], None]) -> Callable[[str], tuple[Step, Step]]:
    def bind(schema: str) -> tuple[Step, Step]:
        # Real functions, not partials: alembic logs each step by its __name__.
        def upgrade() -> None:
            up(schema)

        def downgrade() -> None:
            down(schema)

        return upgrade, downgrade

    return bind


# -- the delivery tables every service has (backbone/tables.py) --------------------------------
# Frozen as of v1: a change to these tables is a new function here plus a migration in every
# service, never an edit of this one (migrations already applied must stay reproducible).


def create_delivery_tables_v1(schema: str) -> None:
    now = sa.text("now()")
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("headers", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=now, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
        schema=schema,
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["id"],
        schema=schema,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "inbox",
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=20), server_default="handled", nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=now, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_inbox"),
        schema=schema,
    )
    op.create_index("ix_inbox_received_at", "inbox", ["received_at"], schema=schema)
    op.create_table(
        "idempotency_keys",
        sa.Column("tenant_key", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=now, nullable=False),
        sa.PrimaryKeyConstraint("tenant_key", "key", name="pk_idempotency_keys"),
        schema=schema,
    )


def drop_delivery_tables_v1(schema: str) -> None:
    for table in ("idempotency_keys", "inbox", "outbox"):
        op.drop_table(table, schema=schema)


def add_delivery_parking_v2(schema: str) -> None:
    """Counting and parking of outbox rows and timer rows that keep failing (backbone/tables.py)."""
    op.add_column(
        "outbox", sa.Column("attempts", sa.Integer(), server_default="0", nullable=False), schema=schema
    )
    op.add_column("outbox", sa.Column("last_error", sa.Text(), nullable=True), schema=schema)
    op.add_column("outbox", sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True), schema=schema)
    now = sa.text("now()")
    op.create_table(
        "timer_failures",
        sa.Column("timer", sa.String(length=200), nullable=False),
        sa.Column("row_key", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), server_default=now, nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), server_default=now, nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("timer", "row_key", name="pk_timer_failures"),
        schema=schema,
    )


def drop_delivery_parking_v2(schema: str) -> None:
    op.drop_table("timer_failures", schema=schema)
    for column in ("parked_at", "last_error", "attempts"):
        op.drop_column("outbox", column, schema=schema)


def create_principals_table_v1(schema: str) -> None:
    """The users replica every service but directory keeps (backbone/tables.py principals)."""
    op.create_table(
        "principals",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=True),
        sa.Column("vendor_id", sa.UUID(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_principals"),
        schema=schema,
    )


def drop_principals_table_v1(schema: str) -> None:
    op.drop_table("principals", schema=schema)


delivery_tables_v1 = _steps(create_delivery_tables_v1, drop_delivery_tables_v1)
delivery_parking_v2 = _steps(add_delivery_parking_v2, drop_delivery_parking_v2)
principals_table_v1 = _steps(create_principals_table_v1, drop_principals_table_v1)


# -- the column sets and table shape the services' own revisions share -------------------------
# Frozen like the delivery tables: revisions already applied replay these, so what they emit never
# changes (a different shape is a new function).


def now_v1(name: str) -> sa.Column[Any]:
    """A timestamp the database fills with now() when the row is written."""
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)


def stamps_v1() -> list[sa.Column[Any]]:
    """created_at and updated_at, in that order."""
    return [now_v1("created_at"), now_v1("updated_at")]


def jsonb_v1(name: str, default: str) -> sa.Column[Any]:
    """A JSONB column that is never NULL; ``default`` is SQL, e.g. "'[]'::jsonb"."""
    return sa.Column(
        name, postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text(default), nullable=False
    )


def traceparent_v1() -> sa.Column[Any]:
    """backbone.tables.traceparent: a row's W3C trace context, NULL when not traced."""
    return sa.Column("traceparent", sa.String(length=55), nullable=True)


def integration_columns_v1() -> list[sa.Column[Any]]:
    """What an alert integration is, as directory keeps it and intake replicates it: its kind and
    name, what its alerts are about, and the rules that turn them into incidents."""
    return [
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=True),
        sa.Column("default_component_id", sa.UUID(), nullable=True),
        jsonb_v1("impact_rules", "'[]'::jsonb"),
        jsonb_v1("default_impact", "'{}'::jsonb"),
        jsonb_v1("grouping_labels", "'[]'::jsonb"),
    ]


def create_tenant_table_v1(name: str, *items: SchemaItem, schema: str, key: str = "id") -> None:
    """The shape of most tables: a UUID key (primary key ``pk_<name>``), then tenant_id, then
    ``items`` (columns and constraints, in order)."""
    op.create_table(
        name,
        sa.Column(key, sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        *items,
        sa.PrimaryKeyConstraint(key, name=op.f(f"pk_{name}")),
        schema=schema,
    )
