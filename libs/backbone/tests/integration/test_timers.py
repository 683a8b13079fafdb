"""Timers as rows over the real database: concurrent claimers
never take the same row, a crash before commit leaves the row for the next claim, a manual clock
wakes the loop without waiting for its poll interval, a row that keeps failing is parked while
the others fire (docs/adr/0009-fault-classification-replay-and-parking.md), and the system
clock is the database's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import Column, DateTime, MetaData, String, Table, func, select, text, update
from sqlalchemy.dialects.postgresql import UUID

from backbone.db import Database
from backbone.tables import TIMER_FAILURES
from backbone.testing import eventually
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
async def bed(scratch_table: Any) -> AsyncIterator[tuple[Database, Table]]:
    async with scratch_table("timers_", timer_table, pool_size=4) as (db, table):
        try:
            yield db, table
        finally:
            async with db.sessions() as s, s.begin():
                await s.execute(TIMER_FAILURES.delete())


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


def _runtime(db: Database, *, max_attempts: int = 2) -> Any:
    return SimpleNamespace(
        uow=lambda: UnitOfWork(db.sessions, source="test"),
        settings=SimpleNamespace(timer_max_attempts=max_attempts),
    )


async def test_a_row_that_keeps_failing_is_parked_and_the_others_fire(bed: tuple[Database, Table]) -> None:
    """A timer row whose firing always fails (here: t2) must not stop the loop: the others fire
    in the same tick, the bad row is counted each tick and parked after timer_max_attempts."""
    db, table = bed
    await _add(db, table, *(T0 - timedelta(minutes=5 - i) for i in range(5)))
    fired: list[str] = []
    good = _fire(table, "loop", fired)

    async def fire(uow: UnitOfWork, now: datetime) -> int:
        start = len(fired)
        n = await good(uow, now)
        if "t2" in fired[start:]:
            del fired[start:]  # rolled back with the transaction
            raise ValueError("t2 cannot fire")
        return n

    loop = TimerLoop("poison", fire, clock=ManualClock(T0), interval_s=3600)
    runtime = _runtime(db, max_attempts=2)

    assert await loop.tick(runtime) == 4
    assert sorted(fired) == ["t0", "t1", "t3", "t4"]
    assert await _failures(db) == [("timers", 1, False)]

    await _add(db, table, T0)  # a new due row, t0 again by name: fired despite the bad one
    assert await loop.tick(runtime) == 1
    assert await _failures(db) == [("timers", 2, True)]  # parked
    assert await loop.tick(runtime) == 0  # the parked row is no longer claimed
    async with db.sessions() as s:
        unfired = (await s.execute(select(table.c.name).where(table.c.fired_at.is_(None)))).scalars().all()
    assert unfired == ["t2"]


async def _failures(db: Database) -> list[tuple[str, int, bool]]:
    async with db.sessions() as s:
        rows = (await s.execute(select(TIMER_FAILURES))).all()
    return [(r.timer, r.attempts, r.parked_at is not None) for r in rows]


async def test_a_database_fault_is_not_counted_against_the_row(bed: tuple[Database, Table]) -> None:
    db, table = bed
    await _add(db, table, T0)

    async def fire(uow: UnitOfWork, now: datetime) -> int:
        await claim_due(uow.session, table, now=now, pending=[table.c.fired_at.is_(None)])
        await uow.session.execute(text("SET LOCAL statement_timeout = 1"))
        await uow.session.execute(text("SELECT pg_sleep(1)"))  # 57014: the database's fault
        return 1

    loop = TimerLoop("fault", fire, clock=ManualClock(T0), interval_s=3600)
    for _ in range(3):
        with pytest.raises(Exception, match="canceling statement"):
            await loop.tick(_runtime(db, max_attempts=1))
    assert await _failures(db) == []


async def test_the_system_clock_is_the_databases(bed: tuple[Database, Table]) -> None:
    """Without a clock given, due times are compared with the database's now() (one clock for
    every replica), not the replica's own."""
    db, _ = bed
    seen: list[tuple[datetime, datetime]] = []

    async def fire(uow: UnitOfWork, now: datetime) -> int:
        seen.append((now, await uow.session.scalar(select(func.now()))))
        return 0

    await TimerLoop("clock", fire).tick(_runtime(db))
    assert len(seen) == 1 and seen[0][0] == seen[0][1]
