"""Group commit for alert storms: the firing alerts of requests one integration sends at the same
time into one process are accepted in one transaction.

Why: every request bumps the open rows of its dedup keys, and a storm's requests share keys, so
concurrent requests wait on each other's row locks until each commits, one after the other.
Taken together, the requests queued while a transaction runs cost one upsert, one insert of
alert rows, one outbox insert and one commit, and wait on no lock of each other's.

Nothing weakens: each request is answered only after the transaction holding its alerts has
committed; the outcome is the one the requests would have had one after the other in arrival
order (the first alert of a new key opens, the others attach); deduplication across replicas is
still the database's. Only requests of firing alerts without an Idempotency-Key take part, and
when a combined transaction fails, every request of it runs alone (its own transaction, its own
error), so no request answers for another's fault.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final
from uuid import UUID

from sqlalchemy.exc import DBAPIError

from backbone.db import sqlstate
from backbone.uow import UnitOfWork
from contracts.enums import IncidentSource
from intake import alerts
from intake.domain.integrations import Integration
from intake.domain.signals import Signal

# The most alerts one combined transaction takes (a single request larger than this still runs,
# alone in its transaction).
MAX_SIGNALS: Final = 2000
_RETRYABLE: Final = {"40P01", "40001"}  # deadlock, serialization failure: retried at once


def retryable(exc: DBAPIError) -> bool:
    """Whether PostgreSQL aborted the transaction for a deadlock or a serialization failure."""
    return sqlstate(exc) in _RETRYABLE


class _Verdict:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


LEAD: Final = _Verdict("LEAD")  # the waiter runs the next transaction for the queue
ALONE: Final = _Verdict("ALONE")  # the waiter runs its own request in its own transaction

_Result = list[alerts.Accepted] | _Verdict


@dataclass
class _Waiter:
    signals: Sequence[Signal]
    future: asyncio.Future[_Result] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Coalescer:
    """One per app (process). Requests queue per (integration, source); the first one with
    nothing running leads: it runs the queue's next transaction in its own unit of work, answers
    the others with their outcomes, and hands the lead to the next request queued meanwhile."""

    def __init__(self, max_signals: int = MAX_SIGNALS) -> None:
        self.max_signals = max_signals
        self._queues: dict[tuple[UUID, IncidentSource], deque[_Waiter]] = {}

    async def accept(
        self,
        uow: UnitOfWork,
        integration: Integration,
        source: IncidentSource,
        signals: Sequence[Signal],
        repeat_every: timedelta,
    ) -> list[alerts.Accepted] | None:
        """The outcomes of ``signals``, committed; None when the caller is to run the request
        alone (its combined transaction failed)."""
        key = (integration.id, source)
        me = _Waiter(signals)
        queue = self._queues.get(key)
        if queue is None:  # nothing running: lead at once
            queue = self._queues[key] = deque([me])
        else:
            queue.append(me)
            try:
                verdict = await me.future
            except asyncio.CancelledError:
                # Cancelled after the lead was handed over: pass it on, or the queue stalls.
                if me.future.done() and not me.future.cancelled() and me.future.result() is LEAD:
                    self._hand_over(key)
                raise
            if verdict is ALONE:
                return None
            if verdict is not LEAD:
                assert isinstance(verdict, list)
                return verdict
        # Leading: `me` heads the queue.
        batch: list[_Waiter] = []
        try:
            size = 0
            while queue and (not batch or size + len(queue[0].signals) <= self.max_signals):
                w = queue.popleft()
                if w is not me and w.future.done():  # cancelled while queued (mine holds LEAD)
                    continue
                batch.append(w)
                size += len(w.signals)
            outcomes = await self._run(uow, integration, source, batch, repeat_every)
        except BaseException:
            for w in batch:
                if w is not me and not w.future.done():
                    w.future.set_result(ALONE)
            self._hand_over(key)
            raise
        if outcomes is None:
            for w in batch:
                if w is not me and not w.future.done():
                    w.future.set_result(ALONE)
            self._hand_over(key)
            return None
        mine: list[alerts.Accepted] = []
        start = 0
        for w in batch:
            part = outcomes[start : start + len(w.signals)]
            start += len(w.signals)
            if w is me:
                mine = part
            elif not w.future.done():
                w.future.set_result(part)
        self._hand_over(key)
        return mine

    def _hand_over(self, key: tuple[UUID, IncidentSource]) -> None:
        queue = self._queues.get(key)
        while queue:
            head = queue[0]
            if not head.future.done():
                head.future.set_result(LEAD)
                return
            queue.popleft()  # cancelled while queued
        self._queues.pop(key, None)

    async def _run(
        self,
        uow: UnitOfWork,
        integration: Integration,
        source: IncidentSource,
        batch: list[_Waiter],
        repeat_every: timedelta,
    ) -> list[alerts.Accepted] | None:
        """The batch's alerts in one transaction, committed; None when it failed (rolled back)."""
        signals = [s for w in batch for s in w.signals]
        for attempt in range(3):
            try:
                outcomes = await alerts.accept_signals(
                    uow, integration, source, signals, repeat_every=repeat_every
                )
                await uow.commit()
                return outcomes
            except DBAPIError as exc:
                await uow.rollback()
                again = retryable(exc)
                if len(batch) == 1 and not again:
                    raise  # its own fault: the same error as without group commit
                if not again or attempt == 2:
                    return None
        return None
