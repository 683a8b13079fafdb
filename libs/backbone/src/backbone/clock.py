"""The one clock of a service (docs/architecture.md "Conventions"). A service is given a
``Clock`` when it is created (``SYSTEM_CLOCK`` in production, a ``ManualClock`` in tests); each
unit of work reads it once when it begins (``UnitOfWork.now``), and handlers take the time from
there or from a ``now`` argument, never from ``datetime.now`` themselves. Timer loops read
``Clock.at`` in the firing transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import func, select

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def at(self, session: AsyncSession) -> datetime:
        """The time timers fire at, read in the firing transaction."""
        ...

    def subscribe(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` whenever time jumps (manual clocks); real time never jumps."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def at(self, session: AsyncSession) -> datetime:
        # The database's clock, the same for every replica (their own may drift apart).
        db_now = await session.scalar(select(func.now()))
        assert db_now is not None
        return db_now

    def subscribe(self, wake: Callable[[], None]) -> None:
        return None


@dataclass
class ManualClock:
    """A clock tests move by hand; moving it wakes every timer loop that uses it."""

    current: datetime = field(default_factory=lambda: datetime.now(UTC))
    _listeners: list[Callable[[], None]] = field(default_factory=list)

    def now(self) -> datetime:
        return self.current

    async def at(self, session: AsyncSession) -> datetime:
        return self.current

    def subscribe(self, wake: Callable[[], None]) -> None:
        self._listeners.append(wake)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self.current += delta if delta is not None else timedelta(**kwargs)
        for wake in self._listeners:
            wake()
        return self.current


SYSTEM_CLOCK = SystemClock()
