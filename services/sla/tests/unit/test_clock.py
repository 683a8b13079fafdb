"""The clock aggregate's rules (docs/sla.md "Clocks", "Pause", "Extensions"), on a 24x7 calendar
and on a toy business calendar (09:00–17:00 UTC every day) so calendar time is visible."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from contracts.enums import Severity, SlaClockKind, SubscriptionTier
from contracts.events import sla as ev
from sla.domain.clock import BREACH, WARN, Clock, Figures
from sla.domain.policy import warn_after

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday


class Always:
    def add(self, start: datetime, minutes: float) -> datetime:
        return start + timedelta(minutes=minutes)

    def between(self, start: datetime, end: datetime) -> float:
        return (end - start).total_seconds() / 60


class NineToFive:
    """Business minutes 09:00–17:00 UTC every day: a slow walk, minute by minute."""

    def _open(self, t: datetime) -> bool:
        return 9 <= t.hour < 17

    def add(self, start: datetime, minutes: float) -> datetime:
        t, left = start, minutes
        while left > 0:
            if self._open(t):
                t += timedelta(minutes=1)
                left -= 1
            else:
                t += timedelta(minutes=1)
        return t

    def between(self, start: datetime, end: datetime) -> float:
        t, n = start, 0.0
        while t < end:
            if self._open(t):
                n += 1
            t += timedelta(minutes=1)
        return n


ALWAYS, BH = Always(), NineToFive()


def started(
    kind: SlaClockKind = SlaClockKind.RESOLUTION, figures: Figures | None = None, cal: object = ALWAYS
) -> Clock:
    clock, events = Clock.start(
        id=uuid4(),
        tenant_id=uuid4(),
        incident_id=uuid4(),
        kind=kind,
        tier=SubscriptionTier.PREMIUM,
        severity=Severity.P2,
        client_id=None,
        figures=figures or Figures("24x7", 60, 100),
        at=T0,
        calendar=cal,  # type: ignore[arg-type]
    )
    assert [type(e) for e in events] == [ev.SlaClockStarted]
    return clock


def test_warns_at_the_smaller_of_target_and_80_percent_of_deadline() -> None:
    assert warn_after(60, 100) == 60
    assert warn_after(90, 100) == 80
    clock = started()
    assert clock.timers(ALWAYS) == {WARN: T0 + timedelta(minutes=60), BREACH: T0 + timedelta(minutes=100)}
    assert started(figures=Figures("24x7", 95, 100)).warn_at(ALWAYS) == T0 + timedelta(minutes=80)


def test_times_run_in_calendar_time() -> None:
    clock = started(figures=Figures("business_hours", 60, 480), cal=BH)
    # 10:00 + 480 business minutes: 7 today (to 17:00), 1 tomorrow from 09:00.
    assert clock.due_at(BH) == T0 + timedelta(days=1)
    assert clock.warn_at(BH) == T0 + timedelta(hours=1)


def test_fires_warning_then_breach_once_each_and_not_early() -> None:
    clock = started()
    same, events = clock.fire(WARN, T0 + timedelta(minutes=59), ALWAYS)
    assert events == [] and same is clock
    warned, events = clock.fire(WARN, T0 + timedelta(minutes=60), ALWAYS)
    assert [type(e) for e in events] == [ev.SlaAtRisk]
    assert warned.timers(ALWAYS)[WARN] is None
    assert warned.fire(WARN, T0 + timedelta(minutes=61), ALWAYS)[1] == []
    breached, events = warned.fire(BREACH, T0 + timedelta(minutes=100), ALWAYS)
    assert [type(e) for e in events] == [ev.SlaBreached]
    assert isinstance(events[0], ev.SlaBreached) and events[0].due_at == T0 + timedelta(minutes=100)
    assert breached.state == "breached"
    assert breached.timers(ALWAYS) == {WARN: None, BREACH: None}
    assert breached.fire(BREACH, T0 + timedelta(minutes=200), ALWAYS)[1] == []


def test_stop_meets_the_clock_and_ends_its_timers() -> None:
    clock, events = started(SlaClockKind.RESPONSE).stop(T0 + timedelta(minutes=30), ALWAYS)
    assert clock.state == "met"
    assert isinstance(events[0], ev.SlaClockStopped) and events[0].outcome == "met"
    assert events[0].elapsed_minutes == 30
    assert clock.timers(ALWAYS) == {WARN: None, BREACH: None}
    assert clock.stop(T0 + timedelta(minutes=40), ALWAYS)[1] == []  # stops once
    assert clock.fire(BREACH, T0 + timedelta(minutes=200), ALWAYS)[1] == []


def test_a_breached_clock_stopped_later_stays_breached() -> None:
    clock = started().fire(BREACH, T0 + timedelta(minutes=100), ALWAYS)[0]
    stopped, events = clock.stop(T0 + timedelta(minutes=150), ALWAYS)
    assert stopped.state == "breached" and isinstance(events[0], ev.SlaClockStopped)
    assert events[0].outcome == "breached"


def test_cancel_on_close_or_delete() -> None:
    clock, events = started().cancel(T0 + timedelta(minutes=10), ALWAYS)
    assert clock.state == "cancelled" and isinstance(events[0], ev.SlaClockStopped)
    assert events[0].outcome == "cancelled"
    assert clock.timers(ALWAYS) == {WARN: None, BREACH: None}
    met = started().stop(T0, ALWAYS)[0]
    assert met.cancel(T0 + timedelta(minutes=5), ALWAYS) == (met, [])  # a met clock stays met
    assert clock.reopen(T0 + timedelta(minutes=20), ALWAYS)[1] == []


def test_reopen_resumes_resolution_with_elapsed_kept() -> None:
    clock = started().stop(T0 + timedelta(minutes=40), ALWAYS)[0]
    reopened, events = clock.reopen(T0 + timedelta(minutes=100), ALWAYS)
    assert [type(e) for e in events] == [ev.SlaClockResumed]
    assert reopened.state == "running"
    assert reopened.elapsed(ALWAYS, T0 + timedelta(minutes=110)) == 50
    # 40 minutes counted before: 60 more until the deadline of 100.
    assert reopened.due_at(ALWAYS) == T0 + timedelta(minutes=160)
    assert reopened.warn_at(ALWAYS) == T0 + timedelta(minutes=120)
    response = started(SlaClockKind.RESPONSE).stop(T0, ALWAYS)[0]
    assert response.reopen(T0 + timedelta(minutes=1), ALWAYS)[1] == []


def test_pause_shifts_warning_and_deadline_by_the_paused_time() -> None:
    clock, events = started().pause(T0 + timedelta(minutes=10), "waiting_on_client", ALWAYS)
    assert isinstance(events[0], ev.SlaClockPaused) and clock.state == "paused"
    assert clock.timers(ALWAYS) == {WARN: None, BREACH: None}
    assert clock.pause(T0 + timedelta(minutes=11), "x", ALWAYS)[1] == []
    assert clock.fire(BREACH, T0 + timedelta(minutes=500), ALWAYS)[1] == []
    resumed, events = clock.resume(T0 + timedelta(minutes=40), "in_progress", ALWAYS)
    assert isinstance(events[0], ev.SlaClockResumed)
    assert resumed.paused_minutes(ALWAYS, T0 + timedelta(minutes=60)) == 30
    assert resumed.due_at(ALWAYS) == T0 + timedelta(minutes=130)
    assert resumed.warn_at(ALWAYS) == T0 + timedelta(minutes=90)
    assert resumed.elapsed(ALWAYS, T0 + timedelta(minutes=50)) == 20


def test_extension_moves_warning_and_deadline() -> None:
    by = uuid4()
    clock, events = started().extend(30, "client asked", T0 + timedelta(minutes=5), ALWAYS, by=by)
    assert isinstance(events[0], ev.SlaClockExtended)
    assert events[0].total_extension_minutes == 30 and events[0].extended_by == by
    assert events[0].due_at == T0 + timedelta(minutes=130)
    assert clock.timers(ALWAYS) == {WARN: T0 + timedelta(minutes=90), BREACH: T0 + timedelta(minutes=130)}
    twice = clock.extend(15, "again", T0 + timedelta(minutes=6), ALWAYS)[0]
    assert twice.due_at(ALWAYS) == T0 + timedelta(minutes=145)
    assert [e.minutes for e in twice.extensions] == [30, 15]


def test_severity_change_keeps_elapsed_and_applies_new_figures_from_start() -> None:
    clock = started(figures=Figures("24x7", 60, 240))
    moved, events = clock.retarget(
        tier=SubscriptionTier.PREMIUM,
        severity=Severity.P1,
        figures=Figures("24x7", 15, 60),
        at=T0 + timedelta(minutes=20),
        calendar=ALWAYS,
    )
    assert isinstance(events[0], ev.SlaClockRetargeted) and events[0].previous_severity == Severity.P2
    assert moved.due_at(ALWAYS) == T0 + timedelta(minutes=60)
    # The new warning (15) is already behind: its timer is due, and fires at the next tick.
    assert moved.warn_at(ALWAYS) == T0 + timedelta(minutes=15)
    assert [type(e) for e in moved.fire(WARN, T0 + timedelta(minutes=20), ALWAYS)[1]] == [ev.SlaAtRisk]
    assert moved.history[0]["severity"] == "P2" and moved.history[0]["deadline_minutes"] == 240
    same = moved.retarget(
        tier=SubscriptionTier.PREMIUM,
        severity=Severity.P1,
        figures=Figures("24x7", 15, 60),
        at=T0 + timedelta(minutes=21),
        calendar=ALWAYS,
    )
    assert same == (moved, [])


def test_severity_change_recounts_elapsed_on_the_new_calendar() -> None:
    clock = started(figures=Figures("24x7", 600, 1440))
    paused = clock.pause(T0 + timedelta(hours=10), "waiting_on_client", ALWAYS)[0]  # ran 10:00–20:00
    moved = paused.retarget(
        tier=SubscriptionTier.STANDARD,
        severity=Severity.P3,
        figures=Figures("business_hours", 480, 960),
        at=T0 + timedelta(hours=11),
        calendar=BH,
    )[0]
    # On 09:00–17:00 only 10:00–17:00 counts: 420 minutes.
    assert moved.elapsed(BH, T0 + timedelta(hours=12)) == 420


def test_a_breached_clock_stays_breached_when_the_deadline_grows() -> None:
    clock = started().fire(BREACH, T0 + timedelta(minutes=100), ALWAYS)[0]
    moved = clock.retarget(
        tier=SubscriptionTier.PREMIUM,
        severity=Severity.P4,
        figures=Figures("24x7", 600, 1000),
        at=T0 + timedelta(minutes=101),
        calendar=ALWAYS,
    )[0]
    assert moved.state == "breached" and moved.timers(ALWAYS) == {WARN: None, BREACH: None}
