"""Timers as rows (DESIGN §4) over the real database: concurrent claimers never take the same
row, a crash before commit leaves the row for the next claim, and a manual clock wakes the loop
without waiting for its poll interval."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import Column, DateTime, MetaData, String, Table, select, text, update
from sqlalchemy.dialects.postgresql import UUID

from backbone.db import Database
from backbone.testing import Stack, eventually, unique
from backbone.timers import ManualClock, TimerLoop, claim_due
from backbone.uow import UnitOfWork

pytestmark = pytest.mark.integration

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def timer_table(schema: str) -> Table:
    return Table(
        "timers",
        MetaData(schema=schema),
        Column("id", UUID(as_uuid=True), primary_key=True),
        Column("name", String(50), nullable=False),
        Column("due_at", DateTime(timezone=True), nullable=False),
        Column("fired_at", DateTime(timezone=True)),
        Column("fired_by", String(20)),
    )


@pytest.fixture
async def bed(stack: Stack) -> AsyncIterator[tuple[Database, Table]]:
    schema = unique("timers_")
    db = Database.connect(stack.database_url, "sla", pool_size=4)
    table = timer_table(schema)
    async with db.sessions() as s, s.begin():
        await s.execute(text(f'CREATE SCHEMA "{schema}"'))
        await s.run_sync(lambda sync: table.metadata.create_all(sync.connection()))
    try:
        yield db, table
    finally:
        async with db.sessions() as s, s.begin():
            await s.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await db.dispose()


async def _add(db: Database, table: Table, *due: datetime) -> None:
    async with db.sessions() as s, s.begin():
        await s.execute(
            table.insert(), [{"id": uuid4(), "name": f"t{i}", "due_at": d} for i, d in enumerate(due)]
        )


def _fire(table: Table, who: str, fired: list[str], *, hold: float = 0.0) -> Any:
    async def fire(uow: UnitOfWork, now: datetime) -> int:
        rows = await claim_due(uow.session, table, now=now, pending=[table.c.fired_at.is_(None)], limit=5)
        if hold:
            await asyncio.sleep(hold)  # keep the locks while the other claimer runs
        for row in rows:
            await uow.session.execute(
                update(table).where(table.c.id == row.id).values(fired_at=now, fired_by=who)
            )
            fired.append(row.name)
        return len(rows)

    return fire


async def test_only_due_rows_are_claimed_and_each_by_one_claimer(bed: tuple[Database, Table]) -> None:
    db, table = bed
    await _add(db, table, *(T0 - timedelta(minutes=i) for i in range(20)), T0 + timedelta(minutes=1))
    fired: list[str] = []

    async def claimer(who: str) -> None:
        fire = _fire(table, who, fired, hold=0.05)
        while True:
            async with UnitOfWork(db.sessions, source="test") as uow:
                n = await fire(uow, T0)
                await uow.commit()
            if n == 0:
                return

    await asyncio.gather(claimer("a"), claimer("b"), claimer("c"))
    assert sorted(fired) == sorted(f"t{i}" for i in range(20))  # each due row once; t20 not yet due
    async with db.sessions() as s:
        by = (await s.execute(select(table.c.fired_by).where(table.c.fired_by.is_not(None)))).scalars().all()
    assert len(by) == 20
    assert len(set(by)) > 1, "SKIP LOCKED should have let more than one claimer work"


async def test_a_claim_rolled_back_is_claimed_again(bed: tuple[Database, Table]) -> None:
    db, table = bed
    await _add(db, table, T0)
    fired: list[str] = []
    async with UnitOfWork(db.sessions, source="test") as uow:
        assert await _fire(table, "crashed", fired)(uow, T0) == 1
        # no commit: the process "crashed" before its effects were durable
    async with UnitOfWork(db.sessions, source="test") as uow:
        assert await _fire(table, "second", fired)(uow, T0) == 1
        await uow.commit()
    async with db.sessions() as s:
        assert (await s.execute(select(table.c.fired_by))).scalars().all() == ["second"]


async def test_manual_clock_wakes_the_loop_without_waiting_for_the_poll(bed: tuple[Database, Table]) -> None:
    db, table = bed
    clock = ManualClock(T0)
    await _add(db, table, T0 + timedelta(minutes=10))
    fired: list[str] = []
    loop = TimerLoop("test", _fire(table, "loop", fired), clock=clock, interval_s=3600)
    runtime = SimpleNamespace(uow=lambda: UnitOfWork(db.sessions, source="test"))
    task = asyncio.create_task(loop(runtime))  # type: ignore[arg-type]
    try:
        await asyncio.sleep(0.2)
        assert fired == []  # not due yet
        clock.advance(minutes=10)
        await eventually(lambda: asyncio.sleep(0, fired), within=5, what="timer fired after advance")
        assert fired == ["t0"]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
