"""Timers as rows (DESIGN §4): SLA warnings and breaches, escalation steps, reminders.

A timer is a row with a due time. Any replica may fire it: ``claim_due`` locks due rows with
``FOR UPDATE SKIP LOCKED``, so two replicas never take the same row, and the firing handler
marks the row fired in the same transaction as its effects and outbox events. A crash before
the commit leaves the row unfired for the next poll; nothing fires twice.

Time comes from a ``Clock`` so tests can move it (``ManualClock``) instead of sleeping. The
loop sleeps until the next poll, or until the clock is moved or ``TimerLoop.wake`` is called.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import structlog
from sqlalchemy import ColumnElement, Row, Table, select

from backbone.uow import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from backbone.app import Runtime

log = structlog.get_logger(__name__)


class Clock(Protocol):
    def now(self) -> datetime: ...

    def subscribe(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` whenever time jumps (manual clocks); real time never jumps."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def subscribe(self, wake: Callable[[], None]) -> None:
        return None


@dataclass
class ManualClock:
    """A clock tests move by hand; moving it wakes every timer loop that uses it."""

    current: datetime = field(default_factory=lambda: datetime.now(UTC))
    _listeners: list[Callable[[], None]] = field(default_factory=list)

    def now(self) -> datetime:
        return self.current

    def subscribe(self, wake: Callable[[], None]) -> None:
        self._listeners.append(wake)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self.current += delta if delta is not None else timedelta(**kwargs)
        for wake in self._listeners:
            wake()
        return self.current


SYSTEM_CLOCK = SystemClock()


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
    are skipped, not waited for. ``due`` defaults to ``table.c.due_at``; ``pending`` holds the
    conditions of a not-yet-fired row (e.g. ``table.c.fired_at.is_(None)``)."""
    due_col = due if due is not None else table.c.due_at
    query = (
        select(table)
        .where(due_col <= now, *pending)
        .order_by(due_col)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(query)).all()


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
        """Fire everything due now, batch after batch; how many fired."""
        total = 0
        while True:
            async with runtime.uow() as uow:
                fired = await self.fire(uow, self.clock.now())
                await uow.commit()
            total += fired
            if fired == 0:
                return total

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
