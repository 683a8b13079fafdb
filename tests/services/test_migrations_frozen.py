"""Revisions already applied somewhere never change what they do: the DDL each service's
revisions emit (upgrade from nothing, then downgrade back, as alembic's offline SQL) hashes to
what it did when they were written. The helpers of backbone.migrations they call are frozen for
the same reason (a different shape is a new ``_v2`` function and a new revision).

A new revision is not listed here until it is released. Should an upgrade of alembic or
SQLAlchemy only reformat the SQL, migrate a scratch database with the old and the new version,
check `pg_dump --schema-only` of the schema is the same, and then update the hash."""

from __future__ import annotations

import hashlib
import io

import pytest
from alembic import command

from backbone.migrations import alembic_config

# service -> (last frozen revision, sha256 of its offline upgrade + downgrade SQL)
FROZEN = {
    "audit": ("0003", "732be53011c144070719a5da35f73f3a301fe1a819ceb96be2b36be36ca93ad4"),
    "changes": ("0003", "72f08b8101090369458b1e21da38662b30dc04b567657779e8384196b94730be"),
    "sla": ("0003", "a493e6c31fd31e3463f9086903a2057ed8c7bd3259c34c88e5ffe9e7fbcef95b"),
    "directory": ("0006", "0513d4eb916a82b697e417cbf46b2e4ee9588236b3a367858b9170a349d077c0"),
    "intake": ("0008", "1cc69c9a0f38f76cd88e30c5ab8018dd1e74552e9ae3c5465a7ee00a8b72a50e"),
    "notifications": ("0005", "58bc8237c9f0814ec33da36763bb137c8271f2f869639d7b93fc482fef13d55c"),
    "triage": ("0006", "732c9de42580e391273fd44640247e3f82fe74bf325c095d36e08619bc935883"),
}


def offline_sql(service: str, revision: str) -> str:
    # Offline mode renders the SQL without a database; the URL only names the dialect.
    cfg = alembic_config(service, "postgresql+asyncpg://offline@127.0.0.1:1/none")
    up, down = io.StringIO(), io.StringIO()
    cfg.output_buffer = up
    command.upgrade(cfg, f"base:{revision}", sql=True)
    cfg.output_buffer = down
    command.downgrade(cfg, f"{revision}:base", sql=True)
    return up.getvalue() + down.getvalue()


@pytest.mark.parametrize("service", sorted(FROZEN))
def test_released_revisions_emit_the_ddl_they_always_did(service: str) -> None:
    revision, expected = FROZEN[service]
    sql = offline_sql(service, revision)
    assert "CREATE TABLE" in sql and "DROP TABLE" in sql
    assert hashlib.sha256(sql.encode()).hexdigest() == expected, (
        f"{service}'s revisions up to {revision} now emit other DDL than when released:\n{sql}"
    )
