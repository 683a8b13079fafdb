"""The SLA clock aggregate (docs/sla.md "Clocks"): pure rules, no I/O.

A clock is a list of running segments on a calendar: elapsed time is the calendar's minutes
inside them, so a pause, a stop and a reopen are segment ends and starts, and a change of
calendar (a severity or tier change) recounts the same segments. It warns when elapsed reaches
min(target, 80 % of deadline) and breaches when it reaches the deadline; extensions add to
both. Each change returns the new clock and the events to emit; the handler saves the clock and
puts its timer rows at ``timers(calendar)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from contracts.enums import Severity, SlaClockKind, SubscriptionTier
from contracts.envelope import EventData
from contracts.events.sla import (
    SlaAtRisk,
    SlaBreached,
    SlaClockExtended,
    SlaClockPaused,
    SlaClockResumed,
    SlaClockRetargeted,
    SlaClockStarted,
    SlaClockStopped,
)
from sla.domain.policy import Policy, warn_after

RUNNING, PAUSED, MET, BREACHED, CANCELLED = "running", "paused", "met", "breached", "cancelled"
WARN, BREACH = "warn", "breach"


class Calendar(Protocol):
    """Business-time arithmetic of a calendar (sla.domain.calendar provides them)."""

    def add(self, start: datetime, minutes: float) -> datetime: ...

    def between(self, start: datetime, end: datetime) -> float: ...


@dataclass(frozen=True)
class Figures:
    """What a policy gives one clock: its calendar and (target, deadline) in its minutes."""

    calendar: str
    target_minutes: int
    deadline_minutes: int

    def as_json(self) -> dict[str, Any]:
        """The calendar and both figures, named as the events and the clock's history name them."""
        return {
            "calendar": self.calendar,
            "target_minutes": self.target_minutes,
            "deadline_minutes": self.deadline_minutes,
        }

    @classmethod
    def of(cls, policy: Policy, kind: SlaClockKind) -> Figures:
        return cls(
            calendar=policy.calendar,
            target_minutes=getattr(policy, f"{kind.value}_target_minutes"),
            deadline_minutes=getattr(policy, f"{kind.value}_deadline_minutes"),
        )


@dataclass(frozen=True)
class Extension:
    minutes: int
    reason: str
    at: datetime
    by: UUID | None = None

    def as_json(self) -> dict[str, Any]:
        return {"minutes": self.minutes, "reason": self.reason, "at": self.at.isoformat(), "by": _s(self.by)}


@dataclass(frozen=True)
class Span:
    """A running segment, or a pause: [start, end), end None while it lasts."""

    start: datetime
    end: datetime | None = None

    def closed(self, at: datetime) -> Span:
        return Span(self.start, at)

    def minutes(self, calendar: Calendar, now: datetime) -> float:
        end = self.end if self.end is not None else now
        return calendar.between(self.start, end) if end > self.start else 0.0


@dataclass(frozen=True)
class Clock:
    id: UUID
    tenant_id: UUID
    incident_id: UUID
    kind: SlaClockKind
    tier: SubscriptionTier
    severity: Severity
    client_id: UUID | None
    figures: Figures
    started_at: datetime
    segments: tuple[Span, ...] = ()
    pauses: tuple[Span, ...] = ()
    extensions: tuple[Extension, ...] = ()
    stopped_at: datetime | None = None
    cancelled_at: datetime | None = None
    warned_at: datetime | None = None
    breached_at: datetime | None = None
    # Severity and tier changes, oldest first: what the clock was and when it changed.
    history: tuple[dict[str, Any], ...] = field(default=())

    # -- reading -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return bool(self.segments) and self.segments[-1].end is None

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1].end is None

    @property
    def open(self) -> bool:
        """Still counting or able to count again (running or paused)."""
        return self.stopped_at is None and self.cancelled_at is None

    @property
    def state(self) -> str:
        if self.cancelled_at is not None:
            return CANCELLED
        if self.breached_at is not None:
            return BREACHED
        if self.stopped_at is not None:
            return MET
        return PAUSED if self.paused else RUNNING

    @property
    def extended_minutes(self) -> int:
        return sum(e.minutes for e in self.extensions)

    @property
    def deadline(self) -> float:
        return float(self.figures.deadline_minutes + self.extended_minutes)

    @property
    def warn_after(self) -> float:
        return warn_after(self.figures.target_minutes, self.figures.deadline_minutes) + self.extended_minutes

    def elapsed(self, calendar: Calendar, now: datetime) -> float:
        return sum(s.minutes(calendar, now) for s in self.segments)

    def paused_minutes(self, calendar: Calendar, now: datetime) -> float:
        return sum(p.minutes(calendar, now) for p in self.pauses)

    def _reach(self, calendar: Calendar, minutes: float) -> datetime | None:
        """When elapsed reaches ``minutes`` if the clock keeps running; None when it is not."""
        if not self.running:
            return None
        current = self.segments[-1]
        banked = sum(s.minutes(calendar, current.start) for s in self.segments[:-1])
        return calendar.add(current.start, max(0.0, minutes - banked))

    def warn_at(self, calendar: Calendar) -> datetime | None:
        return self._reach(calendar, self.warn_after)

    def due_at(self, calendar: Calendar) -> datetime | None:
        return self._reach(calendar, self.deadline)

    def timers(self, calendar: Calendar) -> dict[str, datetime | None]:
        """The pending warning and breach of this clock (None: nothing to fire)."""
        counting = self.open and self.running
        return {
            WARN: self.warn_at(calendar)
            if counting and self.warned_at is None and self.breached_at is None
            else None,
            BREACH: self.due_at(calendar) if counting and self.breached_at is None else None,
        }

    def _event(self, cls: type[EventData], cal: Calendar, **extra: Any) -> EventData:
        due = self.due_at(cal)
        fallback = extra.pop("due_fallback", self.started_at)
        return cls(
            incident_id=self.incident_id,
            clock=self.kind,
            severity=self.severity,
            tier=self.tier,
            client_id=self.client_id,
            started_at=self.started_at,
            due_at=due if due is not None else fallback,
            **extra,
        )

    # -- changing ----------------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        *,
        id: UUID,
        tenant_id: UUID,
        incident_id: UUID,
        kind: SlaClockKind,
        tier: SubscriptionTier,
        severity: Severity,
        client_id: UUID | None,
        figures: Figures,
        at: datetime,
        calendar: Calendar,
    ) -> tuple[Clock, list[EventData]]:
        clock = cls(
            id=id,
            tenant_id=tenant_id,
            incident_id=incident_id,
            kind=kind,
            tier=tier,
            severity=severity,
            client_id=client_id,
            figures=figures,
            started_at=at,
            segments=(Span(at),),
        )
        return clock, [
            clock._event(
                SlaClockStarted,
                calendar,
                **figures.as_json(),
                warn_at=clock.warn_at(calendar),
            )
        ]

    def _close_segment(self, at: datetime) -> tuple[Span, ...]:
        if not self.running:
            return self.segments
        return (*self.segments[:-1], self.segments[-1].closed(max(at, self.segments[-1].start)))

    def stop(self, at: datetime, calendar: Calendar) -> tuple[Clock, list[EventData]]:
        """Met (or stopped after a breach): response at the first acknowledgement or
        assignment, resolution at resolve. A stopped or cancelled clock ignores it."""
        return self._end(at, calendar, cancel=False)

    def cancel(self, at: datetime, calendar: Calendar) -> tuple[Clock, list[EventData]]:
        """Close or delete before the clock stopped: it no longer counts and never fires."""
        return self._end(at, calendar, cancel=True)

    def _end(self, at: datetime, calendar: Calendar, *, cancel: bool) -> tuple[Clock, list[EventData]]:
        """Stop or cancel an open clock: one sla.clock_stopped.v1 whose outcome is the state it
        ends in (met, breached or cancelled)."""
        if not self.open:
            return self, []
        due = self.due_at(calendar) or self.started_at
        segments, pauses = self._close_segment(at), self._end_pause(at)
        if cancel:
            clock = replace(self, segments=segments, pauses=pauses, cancelled_at=at)
        else:
            clock = replace(self, segments=segments, pauses=pauses, stopped_at=at)
        return clock, [
            clock._event(
                SlaClockStopped,
                calendar,
                due_fallback=due,
                stopped_at=at,
                outcome=clock.state,
                elapsed_minutes=round(clock.elapsed(calendar, at), 2),
            )
        ]

    def reopen(self, at: datetime, calendar: Calendar) -> tuple[Clock, list[EventData]]:
        """A reopened incident resumes its resolution clock, its elapsed time kept; a clock
        that was cancelled, or a response clock, stays as it is."""
        if self.kind != SlaClockKind.RESOLUTION or self.stopped_at is None or self.cancelled_at is not None:
            return self, []
        clock = replace(self, stopped_at=None, segments=(*self.segments, Span(at)))
        return clock, [clock._event(SlaClockResumed, calendar, resumed_at=at, reason="reopened")]

    def _end_pause(self, at: datetime) -> tuple[Span, ...]:
        if not self.paused:
            return self.pauses
        return (*self.pauses[:-1], self.pauses[-1].closed(max(at, self.pauses[-1].start)))

    def pause(self, at: datetime, status: str, calendar: Calendar) -> tuple[Clock, list[EventData]]:
        """The incident waits on the client or a vendor: the clock stops counting."""
        if not self.open or self.paused:
            return self, []
        due = self.due_at(calendar) or self.started_at
        clock = replace(self, segments=self._close_segment(at), pauses=(*self.pauses, Span(at)))
        return clock, [clock._event(SlaClockPaused, calendar, due_fallback=due, paused_at=at, status=status)]

    def resume(self, at: datetime, status: str, calendar: Calendar) -> tuple[Clock, list[EventData]]:
        if not self.open or not self.paused:
            return self, []
        clock = replace(self, pauses=self._end_pause(at), segments=(*self.segments, Span(at)))
        return clock, [clock._event(SlaClockResumed, calendar, resumed_at=at, reason=status)]

    def extend(
        self, minutes: int, reason: str, at: datetime, calendar: Calendar, by: UUID | None = None
    ) -> tuple[Clock, list[EventData]]:
        """A deadline extension (004): both the warning and the deadline move by ``minutes``
        of the clock's calendar. The caller refuses extending a clock that is not open."""
        extension = Extension(minutes=minutes, reason=reason, at=at, by=by)
        clock = replace(self, extensions=(*self.extensions, extension))
        return clock, [
            clock._event(
                SlaClockExtended,
                calendar,
                due_fallback=self.started_at,
                minutes=minutes,
                reason=reason,
                extended_by=by,
                extended_at=at,
                total_extension_minutes=clock.extended_minutes,
            )
        ]

    def retarget(
        self,
        *,
        tier: SubscriptionTier,
        severity: Severity,
        figures: Figures,
        at: datetime,
        calendar: Calendar,
    ) -> tuple[Clock, list[EventData]]:
        """Severity or tier changed: the clock keeps its elapsed time (its segments, counted on
        the new calendar) and takes the new figures as if they had applied from its start. A
        breached clock stays breached; the change goes into the history."""
        if (tier, severity, figures) == (self.tier, self.severity, self.figures):
            return self, []
        entry = {
            "at": at.isoformat(),
            "tier": self.tier.value,
            "severity": self.severity.value,
            **self.figures.as_json(),
        }
        clock = replace(self, tier=tier, severity=severity, figures=figures, history=(*self.history, entry))
        return clock, [
            clock._event(
                SlaClockRetargeted,
                calendar,
                due_fallback=self.started_at,
                previous_severity=self.severity,
                previous_tier=self.tier,
                **figures.as_json(),
                retargeted_at=at,
            )
        ]

    def fire(self, what: str, at: datetime, calendar: Calendar) -> tuple[Clock, list[EventData]]:
        """A due timer: warn once, breach once. A clock that has since stopped, paused or moved
        its times on fires nothing (the timer row was stale)."""
        timers = self.timers(calendar)
        due = timers.get(what)
        if due is None or due > at:
            return self, []
        if what == WARN:
            clock = replace(self, warned_at=at)
            return clock, [clock._event(SlaAtRisk, calendar, warned_at=at)]
        clock = replace(self, breached_at=at)
        return clock, [clock._event(SlaBreached, calendar, due_fallback=due, breached_at=at)]


def _s(value: UUID | None) -> str | None:
    return str(value) if value is not None else None


def spans_json(spans: Sequence[Span]) -> list[list[str | None]]:
    return [[s.start.isoformat(), s.end.isoformat() if s.end else None] for s in spans]


def spans_from(value: Sequence[Sequence[str | None]]) -> tuple[Span, ...]:
    return tuple(
        Span(datetime.fromisoformat(str(start)), datetime.fromisoformat(end) if end else None)
        for start, end in value
    )


def extensions_from(value: Sequence[dict[str, Any]]) -> tuple[Extension, ...]:
    return tuple(
        Extension(
            minutes=int(e["minutes"]),
            reason=str(e["reason"]),
            at=datetime.fromisoformat(e["at"]),
            by=UUID(e["by"]) if e.get("by") else None,
        )
        for e in value
    )
