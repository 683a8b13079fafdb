"""Alembic per service: each service's migrations live in services/<name>/migrations and keep
their version table in the service's own schema (DESIGN §2)."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


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
                await conn.run_sync(do_run)
        finally:
            await engine.dispose()

    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, version_table_schema=schema, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(run_async())
