"""Two triage replicas in one consumer group, both running the escalation timer loop against
the same database and woken by the same clock: every escalation step fires exactly once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select

from backbone.testing import Stack, eventually, outbox_events, producer_and_db, serving
from backbone.timers import ManualClock
from backbone.uow import UnitOfWork
from contracts.enums import IncidentSource
from contracts.envelope import Envelope, new_id
from contracts.events import IncidentReported
from triage.adapters.orm import escalations
from triage.config import Settings as TriageSettings
from triage.handlers.escalation import Escalations
from triage.main import create as create_triage

pytestmark = pytest.mark.integration

INCIDENTS = 40
LEVELS, LOOPS = 3, 1
STEPS = LEVELS * (LOOPS + 1)  # pages per incident: every level, twice


async def test_two_replicas_fire_each_step_once(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    tenant = uuid4()
    # Which replica's loop fired how many escalations (a pass-through spy, not a stand-in).
    fired_by: Counter[int] = Counter()
    fire_due = Escalations.fire_due

    async def counted(self: Escalations, uow: UnitOfWork, now: datetime) -> int:
        fired = await fire_due(self, uow, now)
        fired_by[id(self)] += fired
        return fired

    monkeypatch.setattr(Escalations, "fire_due", counted)
    clock = ManualClock()
    # A small batch per transaction, so both loops take part of each wave of due steps.
    settings = stack.settings(TriageSettings, escalation_poll_interval_s=0.2, escalation_batch_size=4)

    async def pages() -> dict[UUID, list[tuple[int, int]]]:
        found: dict[UUID, list[tuple[int, int]]] = {}
        for event in await outbox_events(db, event_type="incident.escalated.v1"):
            data = event.data
            if UUID(data["incident_id"]) in ids:
                found.setdefault(UUID(data["incident_id"]), []).append((data["level"], data["loop"]))
        return found

    def every_incident_has(n: int) -> Callable[[], Awaitable[bool]]:
        async def probe() -> bool:
            found = await pages()
            return len(found) == INCIDENTS and all(len(p) >= n for p in found.values())

        return probe

    ids: set[UUID] = set()
    async with producer_and_db(stack, "triage") as (producer, db):
        async with (
            serving(create_triage(settings, clock=clock)) as first,
            serving(create_triage(settings, clock=clock)),
        ):
            body = {
                "name": "three levels",
                "levels": [{"roles": ["technical_support"], "delay_minutes": 1}] * LEVELS,
                "loops": LOOPS,
            }
            headers = stack.auth(tenant_id=tenant, role="incident_manager")
            assert (
                await first.post("/v1/escalation-policies", json=body, headers=headers)
            ).status_code == 201
            for _ in range(INCIDENTS):
                incident_id = new_id()
                ids.add(incident_id)
                report = IncidentReported(
                    incident_id=incident_id,
                    source=IncidentSource.MANUAL,
                    title="replicated",
                    detected_at=datetime.now(UTC),
                )
                envelope = Envelope.wrap(report, source="intake", tenant_id=tenant)
                await producer.send_and_wait(
                    stack.topic_prefix + envelope.topic.value,
                    envelope.model_dump_json().encode(),
                    key=envelope.subject.encode(),
                )
            await eventually(every_incident_has(1), within=90, what="level 1 of every incident")
            for step in range(2, STEPS + 1):
                clock.advance(minutes=1)
                await eventually(every_incident_has(step), within=60, what=f"step {step} of every incident")

            async def all_completed() -> bool:
                async with db.sessions() as s:
                    states = (
                        await s.scalars(
                            select(escalations.c.status).where(escalations.c.incident_id.in_(ids))
                        )
                    ).all()
                return len(states) == INCIDENTS and set(states) == {"completed"}

            await eventually(all_completed, what="every escalation to complete")
            clock.advance(minutes=10)  # nothing is left to fire, however far time moves

        found = await pages()
        expected = [(level, loop) for loop in range(LOOPS + 1) for level in range(1, LEVELS + 1)]
        doubled = {i: Counter(p) for i, p in found.items() if len(p) != STEPS}
        assert not doubled, f"steps fired more than once: {doubled}"
        assert all(p == expected for p in found.values())
        # Both replicas' loops took part, and between them fired every timed step once.
        assert sum(fired_by.values()) == INCIDENTS * (STEPS - 1)
        assert len(fired_by) == 2 and min(fired_by.values()) > 0, fired_by
