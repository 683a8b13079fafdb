"""Unit of work: one database transaction holding a service's state changes and the events
they cause (the transactional outbox, docs/adr/0002-outbox.md). A fresh one per request or
message batch."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Self
from uuid import UUID

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backbone import telemetry
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
        # Trace context (docs/architecture.md "Tracing"): the traceparent of each sampled event
        # being handled, by its id (the consumer fills it); the event a per-message handler is
        # handling now; the traceparent each emitted event carries.
        self.traces: dict[UUID, str] = {}
        self.cause: Envelope | None = None
        self._carried: dict[UUID, str] = {}

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        self._pending = []
        self.traces, self.cause, self._carried = {}, None, {}
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
        traceparent: str | None = None,
    ) -> Envelope:
        """Record an event to be published; it is written to the outbox in this transaction. It
        continues the trace of ``traceparent`` if given, else of the event that caused it (or
        the one being handled), else of the current span (a request's)."""
        envelope = Envelope.wrap(
            data, source=self.source, tenant_id=tenant_id, actor=actor, caused_by=caused_by
        )
        self._pending.append(envelope)
        cause = caused_by or self.cause
        carried = traceparent or self.traceparent(cause.id if cause is not None else None)
        if carried is not None:
            self._carried[envelope.id] = carried
        return envelope

    def traceparent(self, event_id: UUID | None = None) -> str | None:
        """The trace that work caused by the event ``event_id`` continues: that message's span
        when it is sampled, else the current span's trace (None: not traced)."""
        if event_id is not None and self.traces:
            found = self.traces.get(event_id)
            if found is not None:
                return found
        return telemetry.current_traceparent()

    @property
    def emitted(self) -> list[Envelope]:
        return list(self._pending)

    async def flush_events(self) -> None:
        if not self._pending:
            return
        # Held until this transaction ends: the relay never passes the ids taken here before
        # they are committed or rolled back (outbox.py).
        await self.session.execute(WRITE_LOCK)
        carried = self._carried
        await self.session.execute(
            insert(OUTBOX),
            [
                {
                    "event_id": e.id,
                    "event_type": e.type,
                    "topic": e.topic.value,
                    "key": e.subject,
                    "value": e.model_dump_json().encode(),
                    "headers": _headers(e.type, carried.get(e.id)),
                }
                for e in self._pending
            ],
        )
        self.committed_events = self._pending
        self._pending, self._carried = [], {}
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
        self._pending, self._carried = [], {}
        self._flushed = False
        await self.session.rollback()


def _headers(event_type: str, traceparent: str | None) -> dict[str, str]:
    headers = {"ce_type": event_type, "content-type": "application/json"}
    if traceparent is not None:
        headers[telemetry.TRACEPARENT] = traceparent  # W3C trace context of the cause
    return headers
