"""Timers as rows (docs/architecture.md "Delivery guarantees"): SLA warnings and breaches,
escalation steps, reminders.

A timer is a row with a due time. Any replica may fire it: ``claim_due`` locks due rows with
``FOR UPDATE SKIP LOCKED``, so two replicas never take the same row, and the firing handler
marks the row fired in the same transaction as its effects and outbox events. A crash before
the commit leaves the row unfired for the next poll; nothing fires twice.

Time comes from a ``Clock``: in production the database's (``now()`` of the firing
transaction), so every replica compares due times against one clock whatever its own says;
tests pass a ``ManualClock`` and move it instead of sleeping. The loop sleeps until the next
poll, or until the clock is moved or ``TimerLoop.wake`` is called.

A row that keeps failing must not stop its loop (docs/adr/0009-fault-classification-replay-and-parking.md):
when a batch fails for a reason that is not a fault of the database, the loop fires the due rows
one at a time; the row that fails alone is counted in ``timer_failures`` and skipped for the
rest of the tick, and after ``timer_max_attempts`` failures it is parked (``claim_due`` no
longer takes it; metric ``timers_parked_total``). An operator re-arms a parked row by deleting
its ``timer_failures`` row.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog
from prometheus_client import Counter
from sqlalchemy import ColumnElement, Row, String, Table, and_, case, cast, delete, exists, func, not_, select
from sqlalchemy.dialects.postgresql import insert

from backbone.clock import SYSTEM_CLOCK, Clock, ManualClock, SystemClock
from backbone.db import is_transient
from backbone.tables import TIMER_FAILURES
from backbone.uow import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from backbone.app import Runtime

__all__ = ["SYSTEM_CLOCK", "Clock", "ManualClock", "SystemClock", "TimerLoop", "claim_due"]

log = structlog.get_logger(__name__)

FIRING_FAILURES = Counter("timer_failures_total", "Firings of one timer row that failed", ["loop"])
PARKED = Counter("timers_parked_total", "Timer rows parked after timer_max_attempts failures", ["loop"])

# Set by TimerLoop on the firing session, read by claim_due (the firing functions pass the
# session through): claim one row at a time, skip rows that failed this tick, report claims.
_LIMIT, _SKIP, _CLAIMED = "timers.limit", "timers.skip", "timers.claimed"


def _row_key(table: Table) -> ColumnElement[Any]:
    """A timer row's primary key as text, as timer_failures stores it (uuid and integer keys
    print the same in PostgreSQL and Python)."""
    columns = [cast(c, String) for c in table.primary_key.columns]
    return columns[0] if len(columns) == 1 else func.concat_ws("|", *columns)


async def claim_due(
    session: AsyncSession,
    table: Table,
    *,
    now: datetime,
    due: ColumnElement[Any] | None = None,
    pending: Sequence[ColumnElement[bool]] = (),
    limit: int = 100,
) -> Sequence[Row[Any]]:
    """Due, still-pending timer rows, locked for this transaction; rows another replica holds
    are skipped, not waited for, and so are parked rows. ``due`` defaults to
    ``table.c.due_at``; ``pending`` holds the conditions of a not-yet-fired row (e.g.
    ``table.c.fired_at.is_(None)``)."""
    due_col = due if due is not None else table.c.due_at
    key = _row_key(table)
    parked = exists().where(
        TIMER_FAILURES.c.timer == table.name,
        TIMER_FAILURES.c.row_key == key,
        TIMER_FAILURES.c.parked_at.is_not(None),
    )
    conditions = [due_col <= now, *pending, not_(parked)]
    skip = session.info.get(_SKIP, {}).get(table.name)
    if skip:
        conditions.append(key.not_in(sorted(skip)))
    query = (
        select(table)
        .where(and_(*conditions))
        .order_by(due_col)
        .limit(min(limit, session.info.get(_LIMIT, limit)))
        .with_for_update(of=table, skip_locked=True)
    )
    rows = (await session.execute(query)).all()
    pk = [c.name for c in table.primary_key.columns]
    session.info.setdefault(_CLAIMED, []).extend(
        (table.name, "|".join(str(getattr(r, name)) for name in pk)) for r in rows
    )
    return rows


# A firing function: given a fresh unit of work and the clock's now, fire what is due and
# return how many timers fired. The loop commits the unit of work after it returns.
Fire = Callable[[UnitOfWork, datetime], Awaitable[int]]


class TimerLoop:
    """Runs a firing function in a background task of the service (``Service.background``)."""

    def __init__(self, name: str, fire: Fire, *, clock: Clock = SYSTEM_CLOCK, interval_s: float = 1.0):
        self.name = name
        self.fire = fire
        self.clock = clock
        self.interval_s = interval_s
        self._wake = asyncio.Event()
        clock.subscribe(self.wake)

    def wake(self) -> None:
        self._wake.set()

    async def tick(self, runtime: Runtime) -> int:
        """Fire everything due now, batch after batch; how many fired. After a failure the
        rest of the tick goes one row at a time, so the failing row is known and skipped."""
        total = 0
        alone = False
        skip: dict[str, set[str]] = {}
        while True:
            claimed: list[tuple[str, str]] = []
            try:
                async with runtime.uow() as uow:
                    uow.session.info.update({_CLAIMED: claimed, _SKIP: skip} | ({_LIMIT: 1} if alone else {}))
                    fired = await self.fire(uow, await self.clock.at(uow.session))
                    if alone and claimed:  # fired now: earlier failures of these rows are forgiven
                        await _forget(uow.session, claimed)
                    await uow.commit()
            except Exception as exc:
                if is_transient(exc) or (alone and not claimed):
                    raise  # the database's fault, or not a row's: the next poll retries
                if alone:
                    await self._count(runtime, claimed, exc)
                    for name, key in claimed:
                        skip.setdefault(name, set()).add(key)
                alone = True
                continue
            total += fired
            if fired == 0:
                return total

    async def _count(self, runtime: Runtime, claimed: list[tuple[str, str]], exc: Exception) -> None:
        limit = runtime.settings.timer_max_attempts
        async with runtime.uow() as uow:
            for name, key in claimed:
                values = insert(TIMER_FAILURES).values(
                    timer=name,
                    row_key=key,
                    attempts=1,
                    last_error=repr(exc)[:2000],
                    parked_at=func.now() if limit <= 1 else None,
                )
                attempts = TIMER_FAILURES.c.attempts + 1
                statement = values.on_conflict_do_update(
                    index_elements=[TIMER_FAILURES.c.timer, TIMER_FAILURES.c.row_key],
                    set_={
                        "attempts": attempts,
                        "last_error": values.excluded.last_error,
                        "last_failed_at": func.now(),
                        "parked_at": func.coalesce(
                            TIMER_FAILURES.c.parked_at, case((attempts >= limit, func.now()), else_=None)
                        ),
                    },
                ).returning(TIMER_FAILURES.c.attempts, TIMER_FAILURES.c.parked_at)
                row = (await uow.session.execute(statement)).one()
                FIRING_FAILURES.labels(self.name).inc()
                fields = {"loop": self.name, "timer": name, "row": key, "attempts": row.attempts}
                if row.parked_at is not None:
                    PARKED.labels(self.name).inc()
                    log.error("timer row parked after failing", **fields, error=repr(exc)[:500])
                else:
                    log.warning("timer row failed; retried at the next poll", **fields, error=repr(exc)[:500])
            await uow.commit()

    async def __call__(self, runtime: Runtime) -> None:
        while True:
            self._wake.clear()
            try:
                await self.tick(runtime)
            except asyncio.CancelledError:
                raise
            except Exception:  # a database blip must not end the loop; the next poll retries
                log.exception("timer loop failed; retrying at the next poll", loop=self.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_s)


async def _forget(session: AsyncSession, claimed: list[tuple[str, str]]) -> None:
    for name, key in claimed:
        await session.execute(
            delete(TIMER_FAILURES).where(TIMER_FAILURES.c.timer == name, TIMER_FAILURES.c.row_key == key)
        )
