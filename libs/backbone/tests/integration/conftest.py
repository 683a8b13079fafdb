"""Fixtures of the backbone's integration tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import Table, text

from backbone.db import Database
from backbone.testing import Stack, unique

TableIn = Callable[[str], Table]  # the table, given the schema it lives in


@pytest.fixture
def scratch_table(stack: Stack) -> Callable[..., Any]:
    """``async with scratch_table("prefix_", table_in, pool_size=N) as (db, table)``: a table of
    its own in a fresh schema of the session's database, dropped afterwards."""

    @contextlib.asynccontextmanager
    async def make(
        prefix: str, table_in: TableIn, *, pool_size: int
    ) -> AsyncIterator[tuple[Database, Table]]:
        schema = unique(prefix)
        db = Database.connect(stack.database_url, "sla", pool_size=pool_size)
        table = table_in(schema)
        async with db.sessions() as s, s.begin():
            await s.execute(text(f'CREATE SCHEMA "{schema}"'))
            await s.run_sync(lambda sync: table.metadata.create_all(sync.connection()))
        try:
            yield db, table
        finally:
            async with db.sessions() as s, s.begin():
                await s.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await db.dispose()

    return make
