"""The clock handlers against the real PostgreSQL (no broker), on a ManualClock: clocks start on
incident.created.v1 and follow the incident's events (stop, reopen, cancel, pause, retarget on
severity and on the client's tier), the timer rows follow the clocks, and each warning and
breach fires once (docs/sla.md "Clocks")."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from backbone.clock import ManualClock
from backbone.db import Database
from backbone.testing import OWNERS
from backbone.uow import UnitOfWork
from contracts.enums import IncidentSource, Severity, SlaClockKind, SubscriptionTier
from contracts.envelope import Envelope, EventData
from contracts.events import (
    IncidentAcknowledged,
    IncidentAssigned,
    IncidentClosed,
    IncidentCreated,
    IncidentDeleted,
    IncidentReopened,
    IncidentResolved,
    IncidentStatusChanged,
    IncidentTriaged,
    SubscriptionChanged,
)
from sla.adapters import clock as store
from sla.adapters.orm import clock_timers, clocks
from sla.handlers.clock import Clocks
from sla.handlers.subscription import replicate_subscriptions
from sla.testing import headline

RESPONSE, RESOLUTION = SlaClockKind.RESPONSE, SlaClockKind.RESOLUTION


class Incident:
    """One incident of a fresh tenant, whose events are handled one unit of work at a time."""

    def __init__(self, db: Database, clock: ManualClock, tier: SubscriptionTier = SubscriptionTier.PREMIUM):
        self.db, self.clock, self.tier = db, clock, tier
        self.tenant_id, self.client_id, self.id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        self.severity = Severity.P1
        self.clocks = Clocks(clock)

    async def handle(
        self, handler: Any, data: EventData, tenant_id: uuid.UUID | None = None
    ) -> list[Envelope]:
        """``data`` as its owner would send it now, through ``handler``; what it announced."""
        envelope = Envelope.wrap(data, source=OWNERS[data.topic], tenant_id=tenant_id or self.tenant_id)
        envelope = envelope.model_copy(update={"time": self.clock.now()})
        async with UnitOfWork(self.db.sessions, source="sla", clock=self.clock) as uow:
            await handler(uow, [(envelope, data)])
            emitted = uow.emitted
            await uow.commit()
        return emitted

    async def subscribe(self, tier: SubscriptionTier) -> list[Envelope]:
        change = SubscriptionChanged(
            client_id=self.client_id, tenant_id=self.tenant_id, tier=tier, valid_from=date(2026, 1, 1)
        )
        await self.handle(replicate_subscriptions, change)
        return await self.handle(self.clocks.retier, change)

    async def open(self) -> list[Envelope]:
        await self.subscribe(self.tier)
        return await self.handle(
            self.clocks.start,
            IncidentCreated(
                **self.headline(),
                severity_flags={},
                source=IncidentSource.MANUAL,
                detected_at=self.clock.now(),
            ),
        )

    def headline(self, status: str = "new") -> dict[str, Any]:
        return headline(self.id, self.severity, self.client_id, status)

    async def event(
        self, cls: type[EventData], tenant_id: uuid.UUID | None = None, **fields: Any
    ) -> list[Envelope]:
        status = fields.pop("status", "in_progress")
        return await self.handle(self.clocks.follow, cls(**self.headline(status), **fields), tenant_id)

    async def fire(self) -> list[Envelope]:
        async with UnitOfWork(self.db.sessions, source="sla", clock=self.clock) as uow:
            await self.clocks.fire_due(uow, uow.now)
            emitted = [e for e in uow.emitted if e.data["incident_id"] == str(self.id)]
            await uow.commit()
        return emitted

    async def row(self, kind: SlaClockKind) -> Any:
        async with self.db.sessions() as s:
            return (
                await s.execute(
                    select(clocks).where(clocks.c.incident_id == self.id, clocks.c.kind == kind.value)
                )
            ).one()

    async def states(self) -> tuple[str, str]:
        """The (response, resolution) clocks' states."""
        return (await self.row(RESPONSE)).state, (await self.row(RESOLUTION)).state

    async def pending(self) -> dict[tuple[str, str], datetime]:
        """The unfired timer rows of the incident's clocks: (kind, what) → due."""
        async with self.db.sessions() as s:
            rows = (
                await s.execute(
                    select(clocks.c.kind, clock_timers.c.what, clock_timers.c.due_at)
                    .join(clocks, clocks.c.id == clock_timers.c.clock_id)
                    .where(clocks.c.incident_id == self.id, clock_timers.c.fired_at.is_(None))
                )
            ).all()
        return {(r.kind, r.what): r.due_at for r in rows}


def types(emitted: list[Envelope], kind: SlaClockKind | None = None) -> list[str]:
    return [e.type for e in emitted if kind is None or e.data["clock"] == kind.value]


@pytest.fixture
async def incident(db: Database, clock: ManualClock) -> Incident:
    return Incident(db, clock)


async def test_created_starts_both_clocks_on_the_tiers_policy_once(
    incident: Incident, clock: ManualClock
) -> None:
    start = clock.now()
    emitted = await incident.open()
    assert types(emitted) == ["sla.clock_started.v1", "sla.clock_started.v1"]
    # Premium P1 on 24x7: response warns at 15 and is due at 30; resolution 120 and 240.
    assert await incident.pending() == {
        ("response", "warn"): start + timedelta(minutes=15),
        ("response", "breach"): start + timedelta(minutes=30),
        ("resolution", "warn"): start + timedelta(minutes=120),
        ("resolution", "breach"): start + timedelta(minutes=240),
    }
    row = await incident.row(RESPONSE)
    assert (row.tier, row.severity, row.state, row.started_at) == ("premium", "P1", "running", start)
    # The same incident.created.v1 again (a redelivery): no second pair of clocks, no event.
    again = await incident.handle(
        incident.clocks.start,
        IncidentCreated(
            **incident.headline(), severity_flags={}, source=IncidentSource.MANUAL, detected_at=start
        ),
    )
    assert again == []
    async with incident.db.sessions() as s:
        assert (
            len((await s.execute(select(clocks.c.id).where(clocks.c.incident_id == incident.id))).all()) == 2
        )


async def test_acknowledgement_stops_the_response_clock_only(incident: Incident, clock: ManualClock) -> None:
    await incident.open()
    clock.advance(minutes=10)
    emitted = await incident.event(IncidentAcknowledged, acknowledged_at=clock.now())
    [stopped] = emitted
    assert (stopped.type, stopped.data["clock"], stopped.data["outcome"]) == (
        "sla.clock_stopped.v1",
        "response",
        "met",
    )
    assert stopped.data["elapsed_minutes"] == pytest.approx(10)
    assert (await incident.row(RESPONSE)).state == "met"
    assert (await incident.row(RESOLUTION)).state == "running"
    assert set(await incident.pending()) == {("resolution", "warn"), ("resolution", "breach")}
    # A later assignment changes nothing: the response clock stopped at the first.
    clock.advance(minutes=1)
    assert (
        await incident.event(
            IncidentAssigned, assignment_id=uuid.uuid4(), user_id=uuid.uuid4(), assigned_at=clock.now()
        )
        == []
    )


async def test_assignment_stops_the_response_clock_when_nobody_acknowledged(
    incident: Incident, clock: ManualClock
) -> None:
    await incident.open()
    clock.advance(minutes=3)
    emitted = await incident.event(
        IncidentAssigned, assignment_id=uuid.uuid4(), user_id=uuid.uuid4(), assigned_at=clock.now()
    )
    assert types(emitted) == ["sla.clock_stopped.v1"] and emitted[0].data["clock"] == "response"
    assert (await incident.row(RESPONSE)).stopped_at == clock.now()


async def test_resolve_stops_both_and_reopen_resumes_resolution_with_its_time(
    incident: Incident, clock: ManualClock
) -> None:
    start = clock.now()
    await incident.open()
    clock.advance(minutes=60)
    resolved = await incident.event(IncidentResolved, resolved_at=clock.now(), status="resolved")
    assert sorted(types(resolved)) == ["sla.clock_stopped.v1", "sla.clock_stopped.v1"]
    assert await incident.pending() == {}

    clock.advance(minutes=30)  # resolved for half an hour: not counted
    reopened = await incident.event(IncidentReopened, reopened_at=clock.now())
    assert types(reopened, RESPONSE) == [] and types(reopened, RESOLUTION) == ["sla.clock_resumed.v1"]
    row = await incident.row(RESOLUTION)
    assert row.state == "running" and row.stopped_at is None
    # 60 minutes counted before; 180 left of 240: due 30 minutes later than it was.
    assert row.due_at == start + timedelta(minutes=240 + 30)
    assert (await incident.row(RESPONSE)).state == "met"
    # Its warning (120 counted) and breach (240) both move by the half hour resolved.
    assert await incident.pending() == {
        ("resolution", "warn"): start + timedelta(minutes=150),
        ("resolution", "breach"): start + timedelta(minutes=270),
    }


@pytest.mark.parametrize("ending", [IncidentClosed, IncidentDeleted])
async def test_close_or_delete_cancels_the_open_clocks(
    incident: Incident, clock: ManualClock, ending: type[EventData]
) -> None:
    await incident.open()
    clock.advance(minutes=5)
    await incident.event(IncidentAcknowledged, acknowledged_at=clock.now())
    clock.advance(minutes=5)
    when = {"closed_at" if ending is IncidentClosed else "deleted_at": clock.now()}
    emitted = await incident.event(ending, **when)
    [cancelled] = emitted
    assert cancelled.data["clock"] == "resolution" and cancelled.data["outcome"] == "cancelled"
    assert await incident.states() == (
        "met",
        "cancelled",
    )
    assert await incident.pending() == {}
    clock.advance(hours=5)
    assert await incident.fire() == []


async def test_pause_on_the_tenants_waiting_statuses_moves_the_deadline(
    incident: Incident, clock: ManualClock, db: Database
) -> None:
    start = clock.now()
    await incident.open()
    # Off by default: a waiting status changes nothing.
    clock.advance(minutes=5)
    assert await incident.event(IncidentStatusChanged, from_status="new", to_status="waiting_on_client") == []
    async with db.sessions() as s, s.begin():
        await store.put_settings(
            s,
            incident.tenant_id,
            pause_enabled=True,
            pause_statuses=["waiting_on_client"],
            default_tier="basic",
        )
    clock.advance(minutes=5)
    paused = await incident.event(
        IncidentStatusChanged,
        from_status="in_progress",
        to_status="waiting_on_client",
        status="waiting_on_client",
    )
    assert types(paused) == ["sla.clock_paused.v1", "sla.clock_paused.v1"]
    assert await incident.pending() == {}  # nothing fires while paused
    clock.advance(minutes=20)
    resumed = await incident.event(
        IncidentStatusChanged, from_status="waiting_on_client", to_status="in_progress"
    )
    assert types(resumed) == ["sla.clock_resumed.v1", "sla.clock_resumed.v1"]
    # Twenty paused minutes move the response warning (15) and deadline (30) by twenty.
    pending = await incident.pending()
    assert pending[("response", "warn")] == start + timedelta(minutes=35)
    assert pending[("response", "breach")] == start + timedelta(minutes=50)
    row = await incident.row(RESPONSE)
    assert row.pauses and row.state == "running"


async def test_severity_change_retargets_keeping_the_elapsed_time_and_history(
    incident: Incident, clock: ManualClock
) -> None:
    start = clock.now()
    await incident.open()
    clock.advance(minutes=10)
    incident.severity = Severity.P2
    emitted = await incident.event(
        IncidentTriaged, previous_severity=Severity.P1, computed_severity=Severity.P2, severity_flags={}
    )
    assert types(emitted) == ["sla.clock_retargeted.v1", "sla.clock_retargeted.v1"]
    row = await incident.row(RESPONSE)
    # Premium P2: response 60/120 from the same start; the P1 figures kept in the history.
    assert (row.severity, row.target_minutes, row.deadline_minutes) == ("P2", 60, 120)
    assert row.due_at == start + timedelta(minutes=120)
    assert row.history and row.history[0]["severity"] == "P1"
    assert (await incident.pending())[("response", "breach")] == start + timedelta(minutes=120)


async def test_a_clients_new_tier_retargets_its_open_clocks(incident: Incident, clock: ManualClock) -> None:
    start = clock.now()
    await incident.open()
    clock.advance(minutes=5)
    await incident.event(IncidentAcknowledged, acknowledged_at=clock.now())  # response met: stays
    emitted = await incident.subscribe(SubscriptionTier.STANDARD)
    [retargeted] = emitted
    assert retargeted.type == "sla.clock_retargeted.v1" and retargeted.data["clock"] == "resolution"
    row = await incident.row(RESOLUTION)
    # Standard P1: resolution 480/1,440 minutes on 24x7, from the incident's start.
    assert (row.tier, row.target_minutes, row.deadline_minutes) == ("standard", 480, 1440)
    assert row.due_at == start + timedelta(minutes=1440)
    assert (await incident.row(RESPONSE)).tier == "premium"
    # The same tier again changes nothing.
    assert await incident.subscribe(SubscriptionTier.STANDARD) == []


async def test_warning_and_breach_fire_once_each(incident: Incident, clock: ManualClock) -> None:
    start = clock.now()
    await incident.open()
    clock.advance(minutes=15, seconds=-1)
    assert await incident.fire() == []
    clock.advance(seconds=1)
    [warned] = await incident.fire()
    assert (warned.type, warned.data["clock"]) == ("sla.at_risk.v1", "response")
    assert await incident.fire() == []  # fired rows never fire again
    clock.advance(minutes=15)
    [breached] = await incident.fire()
    assert (breached.type, breached.data["clock"]) == ("sla.breached.v1", "response")
    assert datetime.fromisoformat(breached.data["breached_at"]) == start + timedelta(minutes=30)
    assert await incident.fire() == []
    row = await incident.row(RESPONSE)
    assert row.state == "breached" and row.breached_at == start + timedelta(minutes=30)
    # Acknowledged after the breach: stopped, still breached.
    stopped = await incident.event(IncidentAcknowledged, acknowledged_at=clock.now())
    assert stopped[0].data["outcome"] == "breached"


async def test_another_tenants_event_never_moves_the_clocks(incident: Incident, clock: ManualClock) -> None:
    await incident.open()
    clock.advance(minutes=1)
    hostile = uuid.uuid4()
    assert await incident.event(IncidentResolved, hostile, resolved_at=clock.now(), status="resolved") == []
    assert await incident.event(IncidentClosed, hostile, closed_at=clock.now(), status="closed") == []
    assert await incident.states() == (
        "running",
        "running",
    )
    assert len(await incident.pending()) == 4


async def test_a_batch_fires_every_due_timer_of_a_clock_once(incident: Incident, clock: ManualClock) -> None:
    # Down past everything: both warnings and both breaches come due in one batch.
    await incident.open()
    clock.advance(hours=5)
    fired = await incident.fire()
    assert sorted((e.type, e.data["clock"]) for e in fired) == [
        ("sla.at_risk.v1", "resolution"),
        ("sla.at_risk.v1", "response"),
        ("sla.breached.v1", "resolution"),
        ("sla.breached.v1", "response"),
    ]
    assert await incident.pending() == {}
    assert await incident.states() == (
        "breached",
        "breached",
    )
    assert await incident.fire() == []
