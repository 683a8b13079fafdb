"""Clocks: started by incident.created.v1, driven by the other incident events and by the timer
loop, extended over HTTP (docs/sla.md "Clocks"). Each function loads the clocks, calls the
aggregate, saves them (with their timer rows) and emits what it returned."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from backbone.clock import SYSTEM_CLOCK
from backbone.clock import Clock as ServiceClock
from backbone.problems import Conflict, NotFound
from backbone.uow import UnitOfWork
from contracts.enums import Severity, SlaClockKind, SubscriptionTier
from contracts.envelope import Actor, Envelope, EventData, new_id
from contracts.events import (
    IncidentAcknowledged,
    IncidentAssigned,
    IncidentClosed,
    IncidentCreated,
    IncidentDelegated,
    IncidentDeleted,
    IncidentEvent,
    IncidentReopened,
    IncidentResolved,
    IncidentStatusChanged,
    SubscriptionChanged,
)
from sla.adapters import calendar as calendars
from sla.adapters import clock as store
from sla.adapters import policy as policies
from sla.adapters import subscription as subscriptions
from sla.domain.calendar import ALWAYS
from sla.domain.clock import Calendar, Clock, Figures
from sla.handlers.incident import started_at

KINDS = (SlaClockKind.RESPONSE, SlaClockKind.RESOLUTION)
# Without a client, or a client without a subscription: the tenant's default tier (docs/sla.md).
DEFAULT_TIER = SubscriptionTier.BASIC


@dataclass
class Alarm:
    """Wakes the timer loop at the next due time it is told of, so a timer fires within moments
    of its due time instead of at the next poll. Only the nearest pending wake is kept."""

    clock: ServiceClock = SYSTEM_CLOCK
    wake: Any = None  # TimerLoop.wake, set when the loop is built
    _when: datetime | None = None
    _handle: asyncio.TimerHandle | None = field(default=None, repr=False)

    def at(self, when: datetime | None) -> None:
        if when is None or self.wake is None:
            return
        if self._handle is not None and self._when is not None and self._when <= when:
            return
        if self._handle is not None:
            self._handle.cancel()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        delay = max(0.0, (when - self.clock.now()).total_seconds())
        self._when = when
        self._handle = loop.call_later(delay + 0.002, self._ring)

    def _ring(self) -> None:
        self._handle, self._when = None, None
        self.wake()


class _Calendars:
    """Calendars of one unit of work, each loaded once."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self._seen: dict[tuple[UUID, UUID | None], Calendar] = {}

    async def of(self, clock: Clock) -> Calendar:
        return await self.get(clock.tenant_id, clock.client_id, clock.figures.calendar)

    async def get(self, tenant_id: UUID, client_id: UUID | None, kind: str) -> Calendar:
        if kind == "24x7":
            return ALWAYS
        key = (tenant_id, client_id)
        if key not in self._seen:
            self._seen[key] = await calendars.for_client(self.uow.session, tenant_id, client_id)
        return self._seen[key]


async def tier_for(uow: UnitOfWork, tenant_id: UUID, client_id: UUID | None) -> SubscriptionTier:
    tier = await subscriptions.tier_of(uow.session, tenant_id, client_id)
    if tier is None:
        settings = await store.settings_of(uow.session, tenant_id)
        tier = settings.default_tier if settings is not None else DEFAULT_TIER.value
    return SubscriptionTier(tier)


def _emit(
    uow: UnitOfWork, clock: Clock, events: Sequence[EventData], caused_by: Envelope | None, **kw: Any
) -> None:
    for event in events:
        uow.emit(event, tenant_id=clock.tenant_id, caused_by=caused_by, **kw)


class Clocks:
    """The clock handlers; they share the service clock and the alarm of its timer loop."""

    def __init__(self, clock: ServiceClock = SYSTEM_CLOCK, *, batch: int = 200) -> None:
        self.clock = clock
        self.alarm = Alarm(clock)
        self.batch = batch

    async def _save(self, uow: UnitOfWork, clock: Clock, cal: Calendar, **kw: Any) -> None:
        await store.save(uow.session, clock, cal, **kw)
        timers = [t for t in clock.timers(cal).values() if t is not None]
        self.alarm.at(min(timers, default=None))

    # -- incident events -----------------------------------------------------------------------

    async def start(self, uow: UnitOfWork, batch: list[tuple[Envelope, IncidentCreated]]) -> None:
        """A response and a resolution clock per new incident, on the policy of the client's tier
        and the incident's severity, from the moment triage created it."""
        existing = await store.of_incidents(uow.session, (e.incident_id for _, e in batch))
        cals = _Calendars(uow)
        for envelope, event in batch:
            tenant_id = envelope.tenantid
            if tenant_id is None or event.incident_id in existing:
                continue
            tier = await tier_for(uow, tenant_id, event.client_id)
            policy = await policies.get(uow.session, tenant_id, tier, event.severity)
            at = started_at(envelope, event)
            for kind in KINDS:
                figures = Figures.of(policy, kind)
                cal = await cals.get(tenant_id, event.client_id, figures.calendar)
                clock, events = Clock.start(
                    id=new_id(),
                    tenant_id=tenant_id,
                    incident_id=event.incident_id,
                    kind=kind,
                    tier=tier,
                    severity=event.severity,
                    client_id=event.client_id,
                    figures=figures,
                    at=at,
                    calendar=cal,
                )
                await self._save(uow, clock, cal, vendor_id=event.vendor_id)
                _emit(uow, clock, events, envelope)
            existing[event.incident_id] = []

    async def follow(self, uow: UnitOfWork, batch: list[tuple[Envelope, IncidentEvent]]) -> None:
        """Every other incident event: severity and tier first (a retarget), then what the event
        does to the clocks (stop, cancel, reopen, pause, resume)."""
        found = await store.of_incidents(uow.session, {e.incident_id for _, e in batch})
        cals = _Calendars(uow)
        for envelope, event in batch:
            # Another tenant's event never moves this tenant's clocks, whatever id it names.
            current = [c for c in found.get(event.incident_id, []) if c.tenant_id == envelope.tenantid]
            if not current:
                continue
            at = _when(envelope, event)
            changed: list[Clock] = []
            for clock in current:
                clock, retargeted = await self._retarget(
                    uow, cals, clock, event.client_id, event.severity, at
                )
                cal = await cals.of(clock)
                clock, events = await self._apply(uow, clock, event, at, cal)
                _emit(uow, clock, [*retargeted, *events], envelope)
                if retargeted or events:
                    await self._save(uow, clock, cal)
                changed.append(clock)
            found[event.incident_id] = changed

    async def _retarget(
        self,
        uow: UnitOfWork,
        cals: _Calendars,
        clock: Clock,
        client_id: UUID | None,
        severity: Severity,
        at: datetime,
    ) -> tuple[Clock, list[EventData]]:
        if not clock.open:
            return clock, []
        tier = await tier_for(uow, clock.tenant_id, client_id)
        if (tier, severity, client_id) == (clock.tier, clock.severity, clock.client_id):
            return clock, []
        policy = await policies.get(uow.session, clock.tenant_id, tier, severity)
        figures = Figures.of(policy, clock.kind)
        cal = await cals.get(clock.tenant_id, client_id, figures.calendar)
        moved = replace(clock, client_id=client_id)
        return moved.retarget(tier=tier, severity=severity, figures=figures, at=at, calendar=cal)

    async def _apply(
        self, uow: UnitOfWork, clock: Clock, event: IncidentEvent, at: datetime, cal: Calendar
    ) -> tuple[Clock, list[EventData]]:
        match event:
            case IncidentAcknowledged() | IncidentAssigned() | IncidentDelegated():
                return clock.stop(at, cal) if clock.kind == SlaClockKind.RESPONSE else (clock, [])
            case IncidentResolved():
                return clock.stop(at, cal)
            case IncidentReopened():
                return clock.reopen(at, cal)
            case IncidentClosed() | IncidentDeleted():
                return clock.cancel(at, cal)
            case IncidentStatusChanged():
                settings = await store.settings_of(uow.session, clock.tenant_id)
                if settings is None or not settings.pause_enabled:
                    return clock, []
                if event.to_status in settings.pause_statuses:
                    return clock.pause(at, event.to_status, cal)
                return clock.resume(at, event.to_status, cal)
        return clock, []

    async def retier(self, uow: UnitOfWork, batch: list[tuple[Envelope, SubscriptionChanged]]) -> None:
        """A client's tier changed: its open clocks take the new tier's figures from their start
        (the subscription replica, updated first in the same transaction, gives the tier)."""
        cals = _Calendars(uow)
        for caused_by, event in batch:
            for clock in await store.open_of_client(uow.session, event.tenant_id, event.client_id):
                moved, events = await self._retarget(
                    uow, cals, clock, event.client_id, clock.severity, caused_by.time
                )
                if events:
                    await self._save(uow, moved, await cals.of(moved))
                    _emit(uow, moved, events, caused_by)

    # -- the timer loop ------------------------------------------------------------------------

    async def fire_due(self, uow: UnitOfWork, now: datetime) -> int:
        """Fire the due warnings and breaches (claimed with SKIP LOCKED); how many rows were
        taken. A row whose clock has moved on is not fired: the clock's save puts its current
        due time back (or drops it)."""
        claimed = await store.claim(uow.session, now, self.batch)
        if not claimed:
            self.alarm.at(await store.next_due(uow.session))
            return 0
        loaded = await store.by_ids(uow.session, {r.clock_id for r in claimed})
        cals = _Calendars(uow)
        fired, changed = [], {}
        for row in claimed:
            clock = loaded.get(row.clock_id)
            if clock is None:  # no clock behind it: nothing to fire, ever
                fired.append(row)
                continue
            cal = await cals.of(clock)
            clock, events = clock.fire(row.what, now, cal)
            if events:
                fired.append(row)
            _emit(uow, clock, events, None)
            loaded[row.clock_id] = clock
            changed[clock.id] = (clock, cal)
        # The batch in three statements: rows fired, clocks saved, their timers put back.
        await store.mark_fired(uow.session, fired, now)
        await store.save_many(uow.session, list(changed.values()))
        return len(claimed)

    # -- commands ------------------------------------------------------------------------------

    async def extend(
        self,
        uow: UnitOfWork,
        *,
        tenant_id: UUID,
        incident_id: UUID,
        kind: SlaClockKind,
        minutes: int,
        reason: str,
        actor: Actor,
    ) -> Clock:
        """A deadline extension (004) of one clock of the incident; 409 when it no longer counts."""
        clocks = (await store.of_incidents(uow.session, [incident_id])).get(incident_id, [])
        clock = next((c for c in clocks if c.tenant_id == tenant_id and c.kind == kind), None)
        if clock is None:
            raise NotFound(f"no SLA clocks for incident {incident_id}")
        if not clock.open:
            raise Conflict(
                f"the {kind.value} clock is {clock.state}: only a running or paused clock is extended"
            )
        cal = await _Calendars(uow).of(clock)
        clock, events = clock.extend(minutes, reason, uow.now, cal, by=actor.user_id)
        await self._save(uow, clock, cal)
        _emit(uow, clock, events, None, actor=actor)
        return clock


def _when(envelope: Envelope, event: IncidentEvent) -> datetime:
    """The instant an event took effect: its own time field where it has one."""
    for name in ("acknowledged_at", "assigned_at", "resolved_at", "reopened_at", "closed_at", "deleted_at"):
        value = getattr(event, name, None)
        if isinstance(value, datetime):
            return value
    return envelope.time
