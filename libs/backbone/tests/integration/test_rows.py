"""The shared row helpers over the real database: ``get_or_404`` answers another tenant's id
like an unknown one; ``replica.upsert`` keeps the newest row per key, updates in place, stamps
``touch`` and never takes over a row its ``where`` guards; a unit of work reads its clock once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import Column, DateTime, MetaData, String, Table, select
from sqlalchemy.dialects.postgresql import UUID

from backbone import replica
from backbone.clock import ManualClock
from backbone.db import Database
from backbone.problems import NotFound
from backbone.rows import get_or_404
from backbone.uow import UnitOfWork

pytestmark = pytest.mark.integration


def things_table(schema: str) -> Table:
    return Table(
        "things",
        MetaData(schema=schema),
        Column("id", UUID(as_uuid=True), primary_key=True),
        Column("tenant_id", UUID(as_uuid=True), nullable=False),
        Column("name", String(50), nullable=False),
        Column("updated_at", DateTime(timezone=True)),
    )


@pytest.fixture
async def bed(scratch_table: Any) -> AsyncIterator[tuple[Database, Table]]:
    async with scratch_table("rows_", things_table, pool_size=2) as made:
        yield made


async def test_get_or_404_is_tenant_scoped(bed: tuple[Database, Table]) -> None:
    db, table = bed
    mine, theirs, thing = uuid4(), uuid4(), uuid4()
    async with db.sessions() as s, s.begin():
        await s.execute(table.insert().values(id=thing, tenant_id=mine, name="a"))
    async with db.sessions() as s:
        row = await get_or_404(s, table, thing, mine, what="thing", for_update=True)
        assert row.name == "a"
        with pytest.raises(NotFound) as theirs_answer:
            await get_or_404(s, table, thing, theirs, what="thing")
        with pytest.raises(NotFound) as unknown_answer:
            await get_or_404(s, table, (made_up := uuid4()), mine, what="thing", field="thing_id")
        with pytest.raises(NotFound):
            await get_or_404(s, table, thing, mine, what="thing", among=(table.c.name == "b",))
    assert theirs_answer.value.detail == f"no thing {thing}"
    assert unknown_answer.value.detail == f"no thing {made_up}"
    assert unknown_answer.value.extra == {"field": "thing_id"}


async def test_upsert_keeps_the_newest_row_per_key_and_its_guard(bed: tuple[Database, Table]) -> None:
    db, table = bed
    tenant, other, a, b = uuid4(), uuid4(), uuid4(), uuid4()
    async with db.sessions() as s, s.begin():
        written = await replica.upsert(
            s,
            table,
            [
                {"id": a, "tenant_id": tenant, "name": "a1"},
                {"id": b, "tenant_id": tenant, "name": "b1"},
                {"id": a, "tenant_id": tenant, "name": "a2"},  # later in the run: wins
            ],
            touch="updated_at",
        )
        assert [r["name"] for r in written] == ["a2", "b1"]
    async with db.sessions() as s, s.begin():
        # Another tenant's event naming the same id never takes the row over.
        await replica.upsert(s, table, [{"id": a, "tenant_id": other, "name": "stolen"}], same=("tenant_id",))
        await replica.upsert(s, table, [{"id": b, "tenant_id": tenant, "name": "b2"}], touch="updated_at")
        assert await replica.upsert(s, table, []) == []
    async with db.sessions() as s:
        rows = {r.id: r for r in (await s.execute(select(table))).all()}
    assert (rows[a].name, rows[a].tenant_id) == ("a2", tenant)
    assert rows[b].name == "b2" and rows[b].updated_at is not None


async def test_a_unit_of_work_reads_its_clock_once_when_it_begins(bed: tuple[Database, Table]) -> None:
    db, _ = bed
    clock = ManualClock(datetime(2026, 3, 1, 12, tzinfo=UTC))
    uow = UnitOfWork(db.sessions, source="test", clock=clock)
    async with uow:
        begun = uow.now
        clock.advance(minutes=5)
        assert uow.now == begun == datetime(2026, 3, 1, 12, tzinfo=UTC)
    async with uow:
        assert uow.now == begun + timedelta(minutes=5)
