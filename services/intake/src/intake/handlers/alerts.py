"""Alert commands and the incident events intake reacts to: Alertmanager webhooks, PagerDuty
Events v2 and generic alerts, deduplicated into incidents, silenced, auto-resolved. A request
only appends its alerts to ``intake.alerts`` (``receive``); intake's consumer deduplicates them,
a poll at a time (``ingest``; docs/adr/0013-durable-fast-ingest.md). Otherwise one function each;
the caller's unit of work commits (reports from people: handlers/reports.py)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import structlog
from aiokafka import AIOKafkaProducer

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
from intake.adapters import ingest as ingest_repo
from intake.adapters import integrations as integrations_repo
from intake.adapters import silences as silences_repo
from intake.domain.ingest import AlertBatch, by_partition, runs
from intake.domain.integrations import Integration
from intake.domain.signals import Signal
from intake.domain.silences import silencing

log = structlog.get_logger(__name__)

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
    traces: Mapping[str, str] | None = None,
) -> list[Accepted]:
    """Firing alerts open an incident or attach to the open one with the same dedup key;
    resolved ones mark their alert resolved, and when none of the key's alerts still fires
    (and the integration auto-resolves) close the key and resolve the incident. A firing alert
    a silence matches is only counted under the silence. Set-based: a few statements per
    request whatever its size; per-key state lives in the database, so replicas agree. Repeats
    are announced (AlertRepeated, with the count so far) at most once per key per
    ``repeat_every`` after the report or the last announcement: at once when that long has
    passed, else by ``repeat_announcer`` when it has. The time is the unit of work's. An event
    about a key in ``traces`` continues that trace (docs/architecture.md "Tracing")."""
    now = uow.now
    trace = (traces or {}).get
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
                uow.emit(
                    reported(integration, source, s, row.incident_id, now),
                    tenant_id=tenant_id,
                    traceparent=trace(s.dedup_key),
                )
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
                traceparent=trace(key),
            )

    # A PagerDuty-format `resolve` is an explicit command: it resolves whatever the setting.
    if resolving and (integration.auto_resolve or source is IncidentSource.EVENTS_V2):
        ids = [rows[k].id for k in sorted(resolving) if k in rows]
        for _, key, incident_id in await dedup.resolve_quiet(uow.session, ids, now):
            uow.emit(
                AlertsResolved(incident_id=incident_id, dedup_key=key, resolved_at=now),
                tenant_id=tenant_id,
                traceparent=trace(key),
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


# --------------------------------------------------------------------------- the fast path
# docs/adr/0013-durable-fast-ingest.md: a request appends, the consumer deduplicates.

# Message ids of requests with an Idempotency-Key derive from it, so a retried request appends
# the same ids and the consumer's inbox drops the copies.
_IDEMPOTENT = uuid.UUID("6f1d1f52-3c1e-4b8e-9a7a-2f0c5b0e7d11")


async def receive(
    producer: AIOKafkaProducer,
    topic: str,
    integration: Integration,
    source: IncidentSource,
    received_at: datetime,
    *,
    signals: Sequence[Signal] = (),
    acknowledge: Sequence[str] = (),
    idempotency_key: str | None = None,
    timeout_s: float,
) -> None:
    """Append the request's alerts (or acknowledged dedup keys), one message per partition
    their keys fall in, and return once the broker holds every one. Nothing is deduplicated
    here: ``ingest`` does that when it reads them."""
    keys = [s.dedup_key for s in signals] or list(acknowledge)
    base = uuid.uuid5(_IDEMPOTENT, f"{integration.id}\n{idempotency_key}") if idempotency_key else None
    parts = []
    for partition, indexes in by_partition(keys, await ingest_repo.partitions(producer, topic)).items():
        # Built without validation: every alert was validated when the request was parsed.
        batch = AlertBatch.model_construct(
            integration_id=integration.id,
            source=source,
            received_at=received_at,
            alerts=[signals[i] for i in indexes] if signals else [],
            acknowledge=[acknowledge[i] for i in indexes] if not signals else [],
        )
        parts.append((partition, uuid.uuid5(base, str(partition)) if base else new_id(), batch))
    await ingest_repo.append(producer, topic, integration.tenant_id, parts, timeout_s=timeout_s)


async def ingest(
    uow: UnitOfWork, batch: list[tuple[Envelope, AlertBatch]], *, repeat_every: timedelta
) -> None:
    """A poll of accepted batches, in one transaction: per run of one integration (domain
    ``runs``) one ``accept_signals`` call, a few set-based statements whatever its size; the
    PagerDuty acknowledgements in order. The events are those the request path used to emit."""
    received = [b for _, b in batch]
    # The trace of each sampled message, by its alerts' keys: the events about them continue it.
    traces = {s.dedup_key: uow.traces[e.id] for e, b in batch if e.id in uow.traces for s in b.alerts}
    found = await integrations_repo.by_ids(uow.session, {b.integration_id for b in received})
    for run in runs(received):
        integration = found.get(run.integration_id)
        if integration is None:  # never replicated: a request could not have been accepted for it
            log.warning("alerts of an unknown integration dropped", integration_id=str(run.integration_id))
            continue
        for key in run.acknowledge:
            await acknowledge(uow, integration, key)
        if run.signals:
            await accept_signals(
                uow, integration, run.source, run.signals, repeat_every=repeat_every, traces=traces
            )
