"""Alert commands and the incident events intake reacts to: Alertmanager webhooks, PagerDuty
Events v2 and generic alerts, deduplicated into incidents, silenced, auto-resolved. One function
each; the caller's unit of work commits (reports from people: handlers/reports.py). Last, the
group commit of alert storms (Coalescer)."""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Literal
from uuid import UUID

from sqlalchemy.exc import DBAPIError

from backbone.db import sqlstate
from backbone.timers import SYSTEM_CLOCK, Clock, TimerLoop
from backbone.uow import UnitOfWork
from contracts.enums import IncidentSource
from contracts.envelope import Envelope, new_id
from contracts.events import (
    AlertAcknowledged,
    AlertRepeated,
    AlertsResolved,
    IncidentClosed,
    IncidentReported,
    IncidentResolved,
)
from intake.adapters import dedup
from intake.adapters import silences as silences_repo
from intake.domain.integrations import Integration
from intake.domain.signals import Signal
from intake.domain.silences import silencing

Outcome = Literal["opened", "attached", "resolved", "recorded", "silenced", "ignored"]


@dataclass(frozen=True)
class Accepted:
    """What became of one alert: ``opened`` a new incident, ``attached`` to the open one,
    ``resolved`` it (its last firing alert resolved), ``recorded`` (a resolve while others
    still fire, or auto-resolve is off), ``silenced``, or ``ignored`` (a resolve for nothing open)."""

    dedup_key: str
    incident_id: UUID | None
    outcome: Outcome

    @property
    def opened(self) -> bool:
        return self.outcome == "opened"


async def accept_signals(
    uow: UnitOfWork,
    integration: Integration,
    source: IncidentSource,
    signals: Sequence[Signal],
    *,
    repeat_every: timedelta = timedelta(seconds=10),
) -> list[Accepted]:
    """Firing alerts open an incident or attach to the open one with the same dedup key;
    resolved ones mark their alert resolved, and when none of the key's alerts still fires
    (and the integration auto-resolves) close the key and resolve the incident. A firing alert
    a silence matches is only counted under the silence. Set-based: a few statements per
    request whatever its size; per-key state lives in the database, so replicas agree. Repeats
    are announced (AlertRepeated, with the count so far) at most once per key per
    ``repeat_every`` after the report or the last announcement: at once when that long has
    passed, else by ``repeat_announcer`` when it has. The time is the unit of work's."""
    now = uow.now
    tenant_id = integration.tenant_id
    outcomes: list[Accepted | None] = [None] * len(signals)

    in_force = await silences_repo.in_force(uow.session, tenant_id, now)
    held: Counter[tuple[UUID, str]] = Counter()
    live: list[int] = []
    for i, s in enumerate(signals):
        silence = silencing(in_force, s.labels, integration.client_id, now) if s.firing and in_force else None
        if silence is not None:
            held[(silence.id, s.dedup_key)] += 1
            outcomes[i] = Accepted(s.dedup_key, None, "silenced")
        else:
            live.append(i)

    firing = Counter(signals[i].dedup_key for i in live if signals[i].firing)
    resolving = {signals[i].dedup_key for i in live if not signals[i].firing}
    rows: dict[str, dedup.KeyRow] = {}
    if resolving:
        # Lock every open key of the request first (in key order), so a resolve and a firing
        # alert of one key on two replicas are serialized on the key's row.
        rows.update(await dedup.lock_open(uow.session, tenant_id, sorted(resolving | set(firing))))
    rows.update(
        await dedup.open_or_bump(uow.session, tenant_id, integration.id, dict(firing), now, repeat_every)
    )

    first_of: dict[str, int] = {}
    latest: dict[tuple[UUID, str], dict[str, Any]] = {}
    for i in live:
        s = signals[i]
        row = rows.get(s.dedup_key)
        if row is None:  # a resolve for nothing open: nothing to record
            outcomes[i] = Accepted(s.dedup_key, None, "ignored")
            continue
        if s.firing:
            first = first_of.setdefault(s.dedup_key, i) == i
            outcomes[i] = Accepted(
                s.dedup_key, row.incident_id, "opened" if row.opened and first else "attached"
            )
            if row.opened and first:
                uow.emit(reported(integration, source, s, row.incident_id, now), tenant_id=tenant_id)
        else:
            outcomes[i] = Accepted(s.dedup_key, row.incident_id, "recorded")
        latest[(row.id, s.fingerprint)] = {
            "id": new_id(),
            "tenant_id": tenant_id,
            "incident_id": row.incident_id,
            "dedup_id": row.id,
            "source": source.value,
            "fingerprint": s.fingerprint,
            "status": "firing" if s.firing else "resolved",
            "labels": dict(s.labels),
            "starts_at": s.starts_at,
            "ends_at": s.ends_at,
            "changed_at": now,
        }
    await dedup.record_alerts(uow.session, list(latest.values()))

    for key, row in sorted(rows.items()):
        if key in firing and row.announce:
            uow.emit(
                AlertRepeated(
                    incident_id=row.incident_id, dedup_key=key, alert_count=row.alert_count, last_seen_at=now
                ),
                tenant_id=tenant_id,
            )

    # A PagerDuty-format `resolve` is an explicit command: it resolves whatever the setting.
    if resolving and (integration.auto_resolve or source is IncidentSource.EVENTS_V2):
        ids = [rows[k].id for k in sorted(resolving) if k in rows]
        for _, key, incident_id in await dedup.resolve_quiet(uow.session, ids, now):
            uow.emit(
                AlertsResolved(incident_id=incident_id, dedup_key=key, resolved_at=now), tenant_id=tenant_id
            )
            for i in live:
                if signals[i].dedup_key == key and not signals[i].firing:
                    outcomes[i] = Accepted(key, incident_id, "resolved")

    await silences_repo.count_silenced(uow.session, tenant_id, held, now)
    return [o for o in outcomes if o is not None]


def reported(
    integration: Integration, source: IncidentSource, s: Signal, incident_id: UUID, now: datetime
) -> IncidentReported:
    return IncidentReported(
        incident_id=incident_id,
        source=source,
        title=s.title,
        description=s.description,
        dedup_key=s.dedup_key,
        client_id=integration.client_id,
        component_id=integration.default_component_id,
        integration_id=integration.id,
        impact=integration.impact(s.labels),
        labels=dict(s.labels),
        detected_at=s.starts_at or now,
        alert_severity=s.severity,
        details=dict(s.details),
    )


async def acknowledge(uow: UnitOfWork, integration: Integration, dedup_key: str) -> UUID | None:
    """The source acknowledged the key's open incident (PagerDuty ``acknowledge``): triage
    acknowledges it. Once per incident; nothing open, nothing done."""
    now = uow.now
    incident_id = await dedup.acknowledge(uow.session, integration.tenant_id, dedup_key, now)
    if incident_id is not None:
        uow.emit(
            AlertAcknowledged(incident_id=incident_id, dedup_key=dedup_key, acknowledged_at=now),
            tenant_id=integration.tenant_id,
        )
    return incident_id


async def close_dedup_keys(
    uow: UnitOfWork, batch: list[tuple[Envelope, IncidentResolved | IncidentClosed]]
) -> None:
    """Triage resolved or closed incidents: their dedup keys close, so the same alert opens a new
    incident from now on. (Already closed by auto-resolve: nothing to do.)"""
    pairs = [(e.tenantid, event.incident_id) for e, event in batch if e.tenantid is not None]
    await dedup.close_for_incidents(uow.session, pairs, uow.now)


def repeat_announcer(repeat_every: timedelta, clock: Clock = SYSTEM_CLOCK) -> TimerLoop:
    """The background loop that announces repeats a request could not (the interval was not
    over yet): each open key with untold repeats gets one AlertRepeated with its count once its
    last announcement is ``repeat_every`` old. Any replica may run it; rows are claimed with
    SKIP LOCKED, so no repeat is told twice."""

    async def fire(uow: UnitOfWork, now: datetime) -> int:
        rows = await dedup.unannounced(uow.session, now, repeat_every)
        for r in rows:
            uow.emit(
                AlertRepeated(
                    incident_id=r.incident_id,
                    dedup_key=r.dedup_key,
                    alert_count=r.alert_count,
                    last_seen_at=r.last_seen_at,
                ),
                tenant_id=r.tenant_id,
            )
        return len(rows)

    interval = max(0.5, min(repeat_every.total_seconds() / 4, 15.0))
    return TimerLoop("announce-repeats", fire, clock=clock, interval_s=interval)


# --------------------------------------------------------------------------- group commit
# Group commit for alert storms: the firing alerts of requests one integration sends at the same
# time into one process are accepted in one transaction.
#
# Why: every request bumps the open rows of its dedup keys, and a storm's requests share keys, so
# concurrent requests wait on each other's row locks until each commits, one after the other.
# Taken together, the requests queued while a transaction runs cost one upsert, one insert of
# alert rows, one outbox insert and one commit, and wait on no lock of each other's.
#
# Nothing weakens: each request is answered only after the transaction holding its alerts has
# committed; the outcome is the one the requests would have had one after the other in arrival
# order (the first alert of a new key opens, the others attach); deduplication across replicas is
# still the database's. Only requests of firing alerts without an Idempotency-Key take part, and
# when a combined transaction fails, every request of it runs alone (its own transaction, its own
# error), so no request answers for another's fault.

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

_Result = list[Accepted] | _Verdict


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
    ) -> list[Accepted] | None:
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
        mine: list[Accepted] = []
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
    ) -> list[Accepted] | None:
        """The batch's alerts in one transaction, committed; None when it failed (rolled back)."""
        signals = [s for w in batch for s in w.signals]
        for attempt in range(3):
            try:
                outcomes = await accept_signals(uow, integration, source, signals, repeat_every=repeat_every)
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
