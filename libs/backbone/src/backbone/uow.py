"""Unit of work: one database transaction holding a service's state changes and the events
they cause (the transactional outbox, docs/adr/0002-outbox.md). A fresh one per request or
message batch."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Self
from uuid import UUID

from opentelemetry import propagate
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backbone.clock import SYSTEM_CLOCK, Clock
from backbone.outbox import WRITE_LOCK
from backbone.tables import OUTBOX
from contracts.envelope import SYSTEM, Actor, Envelope, EventData


class UnitOfWork:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        source: str,
        on_commit: Callable[[], None] | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._sessions = sessions
        self.source = source
        self.clock = clock
        # The time of this unit of work, read once when it begins: every rule applied in it sees
        # the same instant (docs/architecture.md "Conventions").
        self.now: datetime = clock.now()
        self._on_commit = on_commit
        self._pending: list[Envelope] = []
        self._flushed = False
        self.session: AsyncSession

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        self._pending = []
        self.now = self.clock.now()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Anything not committed explicitly is rolled back: a handler never half-writes.
        await self.session.rollback()
        await self.session.close()

    def emit(
        self,
        data: EventData,
        *,
        tenant_id: UUID | None,
        actor: Actor = SYSTEM,
        caused_by: Envelope | None = None,
    ) -> Envelope:
        """Record an event to be published; it is written to the outbox in this transaction."""
        envelope = Envelope.wrap(
            data, source=self.source, tenant_id=tenant_id, actor=actor, caused_by=caused_by
        )
        self._pending.append(envelope)
        return envelope

    @property
    def emitted(self) -> list[Envelope]:
        return list(self._pending)

    async def flush_events(self) -> None:
        if not self._pending:
            return
        # Held until this transaction ends: the relay never passes the ids taken here before
        # they are committed or rolled back (outbox.py).
        await self.session.execute(WRITE_LOCK)
        headers: dict[str, str] = {}
        propagate.inject(headers)  # W3C traceparent of the span that caused the change
        await self.session.execute(
            insert(OUTBOX),
            [
                {
                    "event_id": e.id,
                    "event_type": e.type,
                    "topic": e.topic.value,
                    "key": e.subject,
                    "value": e.model_dump_json().encode(),
                    "headers": {**headers, "ce_type": e.type, "content-type": "application/json"},
                }
                for e in self._pending
            ],
        )
        self.committed_events = self._pending
        self._pending = []
        self._flushed = True

    async def commit(self) -> None:
        await self.flush_events()
        await self.session.commit()
        # Wake the relay only when this transaction wrote outbox rows (here or in an earlier
        # flush): an empty round costs a query on the hot path.
        if self._on_commit is not None and self._flushed:
            self._on_commit()
        self._flushed = False

    async def rollback(self) -> None:
        self._pending = []
        self._flushed = False
        await self.session.rollback()
