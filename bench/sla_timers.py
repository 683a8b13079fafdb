"""SLA timers: firing lag and database time per tick with many clocks open (not a test: it
prints figures).

    source .local/infra.env && uv run python bench/sla_timers.py [--sizes 10000,100000] [--due 1000]

For each size N: a database of its own, N clocks opened through the sla adapters in batches
(one tenant, 24x7): ``--due`` of them breach during a ``--window``-second window that starts
``--lead`` seconds after they are written, the rest are due in 30 days (each with a pending
warning and breach row). The sla service then runs as deployed (its timer loop, outbox relay and
consumers on the real broker and database, on the system clock) until every due breach has
fired. Printed per size:

- firing lag p50/p99/max: from a breach's due time to the commit of the transaction that fired
  it (and, as a lower bound, to the database time the firing transaction read);
- database time per firing transaction (a tick fires what is due batch after batch, each batch
  one transaction, up to SLA_CLOCK_BATCH_SIZE rows) and per fired row; the empty transactions
  (nothing due: the claim and the next-due query, which end every tick) separately.

The cost of a tick should follow the breaches due, not the clocks open: the claim and the
next-due query read the partial index of unfired rows by due time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import event, func, select

from backbone.db import Database
from backbone.testing import Stack, eventually, scratch_stack, serving
from backbone.uow import UnitOfWork
from contracts.enums import Severity, SlaClockKind, SubscriptionTier
from contracts.envelope import new_id
from sla.adapters import clock as store
from sla.adapters.orm import clock_timers
from sla.config import Settings
from sla.domain.calendar import ALWAYS
from sla.domain.clock import Clock, Figures
from sla.main import create

BATCH = 5_000
FAR = 30 * 24 * 60  # minutes: the clocks not due in the run


def q(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


async def open_clocks(
    db: Database, tenant: UUID, n: int, first_due: datetime | None, window_s: float
) -> None:
    """``n`` response clocks of the tenant, in batches: with ``first_due``, each breaches within
    the window from it (its warning already given); without, both are 30 days away."""
    now = datetime.now(UTC)
    step = timedelta(seconds=window_s / max(n, 1))
    for start in range(0, n, BATCH):
        items: list[tuple[Clock, Any]] = []
        for i in range(start, min(n, start + BATCH)):
            if first_due is not None:  # a one-minute deadline reached at first_due + i * step
                figures, at = Figures("24x7", 1, 1), first_due + i * step - timedelta(minutes=1)
            else:
                figures, at = Figures("24x7", FAR, FAR), now
            clock, _ = Clock.start(
                id=new_id(),
                tenant_id=tenant,
                incident_id=new_id(),
                kind=SlaClockKind.RESPONSE,
                tier=SubscriptionTier.PREMIUM,
                severity=Severity.P2,
                client_id=None,
                figures=figures,
                at=at,
                calendar=ALWAYS,
            )
            if first_due is not None:
                clock = replace(clock, warned_at=at)  # only the breach is left to fire
            items.append((clock, ALWAYS))
        async with UnitOfWork(db.sessions, source="bench") as uow:
            await store.save_many(uow.session, items)
            await uow.commit()


async def run(stack: Stack, n: int, due: int, lead_s: float, window_s: float) -> dict[str, Any]:
    db = Database.connect(stack.database_url, "sla", pool_size=2)
    try:
        tenant = new_id()
        started = time.perf_counter()
        await open_clocks(db, tenant, n - due, None, window_s)
        # The due ones last, timed from now; the lead covers writing them and starting the service.
        first_due = datetime.now(UTC) + timedelta(seconds=lead_s)
        await open_clocks(db, tenant, due, first_due, window_s)
        open_s = time.perf_counter() - started
        app = create(stack.settings(Settings, log_level="WARNING"))
        clocks = app.state.sla_clocks
        loop = clocks.alarm.wake.__self__  # the service's TimerLoop
        commits: dict[datetime, datetime] = {}
        calls: list[tuple[int, float]] = []  # per firing transaction: rows fired, seconds
        ticks: list[int] = []  # per tick (a wake-up): rows fired
        fire, tick = loop.fire, loop.tick

        async def timed_fire(uow: UnitOfWork, now: datetime) -> int:
            t0 = time.perf_counter()
            fired = int(await fire(uow, now))

            def committed(_session: Any) -> None:  # the loop commits right after this returns
                calls.append((fired, time.perf_counter() - t0))
                if fired:
                    commits.setdefault(now, datetime.now(UTC))

            event.listen(uow.session.sync_session, "after_commit", committed, once=True)
            return fired

        async def timed_tick(runtime: Any) -> int:
            fired = int(await tick(runtime))
            ticks.append(fired)
            return fired

        loop.fire, loop.tick = timed_fire, timed_tick
        async with serving(app):
            margin_s = (first_due - datetime.now(UTC)).total_seconds()  # up this long before due

            async def all_fired() -> bool:
                async with db.sessions() as s:
                    done = await s.scalar(
                        select(func.count())
                        .select_from(clock_timers)
                        .where(clock_timers.c.what == "breach", clock_timers.c.fired_at.is_not(None))
                    )
                return int(done or 0) >= due

            await eventually(all_fired, within=lead_s + window_s + 300, interval=0.5, what="every due breach")
        async with db.sessions() as s:
            rows = (
                await s.execute(
                    select(clock_timers.c.due_at, clock_timers.c.fired_at).where(
                        clock_timers.c.fired_at.is_not(None)
                    )
                )
            ).all()
            pending = await s.scalar(
                select(func.count()).select_from(clock_timers).where(clock_timers.c.fired_at.is_(None))
            )
    finally:
        await db.dispose()
    commit_lag = [
        (commits[r.fired_at] - r.due_at).total_seconds() * 1000 for r in rows if r.fired_at in commits
    ]
    read_lag = [(r.fired_at - r.due_at).total_seconds() * 1000 for r in rows]
    busy = [d * 1000 for f, d in calls if f]
    return {
        "n": n,
        "due": due,
        "fired": len(rows),
        "pending": pending,
        "open_s": open_s,
        "margin_s": margin_s,
        "commit_lag": commit_lag,
        "read_lag": read_lag,
        "busy": busy,
        "per_row": sum(busy) / max(1, sum(f for f, _ in calls)),
        "busy_rows": [f for f, _ in calls if f],
        "idle": [d * 1000 for f, d in calls if not f],
        "ticks": ticks,
    }


def report(r: dict[str, Any]) -> None:
    c, lo, busy, idle = r["commit_lag"], r["read_lag"], r["busy"], r["idle"]
    print(
        f"\n{r['n']:,} clocks open ({r['pending']:,} timer rows pending after), {r['due']:,} breaches due "
        f"(opened in {r['open_s']:.1f}s; the service up {r['margin_s']:.1f}s before the first was "
        f"due); fired {r['fired']:,}"
    )
    print(
        f"  firing lag to commit  ms: p50 {q(c, 0.5):7.1f}  p99 {q(c, 0.99):7.1f}  max {max(c):7.1f}"
        f"  ({len(c)} measured)"
    )
    print(f"  lag to the tick's now ms: p50 {q(lo, 0.5):7.1f}  p99 {q(lo, 0.99):7.1f}  max {max(lo):7.1f}")
    print(
        f"  firing transactions: {len(busy)} in {sum(1 for t in r['ticks'] if t)} ticks, rows each "
        f"mean {statistics.mean(r['busy_rows']):.1f} max {max(r['busy_rows'])}; DB time each ms "
        f"p50 {q(busy, 0.5):.1f} p99 {q(busy, 0.99):.1f} max {max(busy):.1f}; "
        f"per fired row {r['per_row']:.2f} ms"
    )
    if idle:
        print(
            f"  empty transactions (nothing due: claim + next due): {len(idle)}, DB time ms p50 "
            f"{q(idle, 0.5):.1f} p99 {q(idle, 0.99):.1f} max {max(idle):.1f}"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="clocks open, one run each")
    parser.add_argument("--due", type=int, default=1000, help="breaches due in each run")
    parser.add_argument("--window", type=float, default=10.0, help="seconds the due breaches spread over")
    parser.add_argument(
        "--lead", type=float, default=30.0, help="seconds from writing the due clocks to the first due"
    )
    args = parser.parse_args()
    server, kafka = os.environ["DATABASE_URL"], os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    for n in (int(s) for s in args.sizes.split(",")):
        async with scratch_stack(server, kafka, services=("sla",), prefix="bench_") as stack:
            report(await run(stack, n, min(args.due, n), args.lead, args.window))


if __name__ == "__main__":
    asyncio.run(main())
