"""Automatic escalation, against the real database without the broker: a policy starts on a new
incident, the timer pages the next level once its delay has passed, and an acknowledgement
stops it; the clock is the test's."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

from sqlalchemy import select

from backbone.clock import ManualClock
from backbone.uow import UnitOfWork
from contracts.enums import Role
from contracts.events import IncidentAcknowledged, IncidentCreated, IncidentEscalated
from triage.adapters.orm import escalations
from triage.domain.escalation import Level
from triage.handlers import lifecycle
from triage.handlers.escalation import Escalations
from triage.handlers.escalation_policy import PolicyInput, create_policy

from .support import caller, emitted, opened, wrapped

LEVELS = (Level((), ("technical_support",), 5), Level((), ("incident_manager",), 10))


async def started(uow: UnitOfWork, escalation: Escalations, tenant_id: UUID) -> UUID:
    """A policy of the tenant and a new incident it applies to, its level 1 paged."""
    await create_policy(
        uow, caller(tenant_id, role=Role.SYSTEM_ADMINISTRATOR), PolicyInput("default", LEVELS)
    )
    incident_id = await opened(uow, tenant_id)
    (created,) = [e for e in uow.emitted if e.type == IncidentCreated.event_type]
    await escalation.start(uow, [(created, IncidentCreated.model_validate(created.data))])
    return incident_id


async def run_of(uow: UnitOfWork, incident_id: UUID) -> dict[str, object]:
    found = await uow.session.execute(select(escalations).where(escalations.c.incident_id == incident_id))
    return dict(found.mappings().one())


async def test_a_policy_pages_level_one_then_level_two_after_its_delay(
    uow: UnitOfWork, clock: ManualClock
) -> None:
    escalation = Escalations(clock)
    incident_id = await started(uow, escalation, uuid4())
    (first,) = emitted(uow, IncidentEscalated)
    assert (first.level, first.target_roles, first.escalated_at) == (1, ["technical_support"], uow.now)
    assert (await run_of(uow, incident_id))["next_due_at"] == uow.now + timedelta(minutes=5)

    assert await escalation.fire_due(uow, uow.now + timedelta(minutes=4)) == 0  # not due yet
    due = uow.now + timedelta(minutes=5)
    assert await escalation.fire_due(uow, due) == 1
    second = emitted(uow, IncidentEscalated)[-1]
    assert (second.level, second.target_roles, second.escalated_at) == (2, ["incident_manager"], due)
    run = await run_of(uow, incident_id)
    # The last level is paged and the policy does not loop: nothing more is due.
    assert (run["level"], run["status"], run["next_due_at"]) == (2, "completed", None)
    assert await escalation.fire_due(uow, due + timedelta(hours=1)) == 0


async def test_an_acknowledgement_stops_the_escalation(uow: UnitOfWork, clock: ManualClock) -> None:
    escalation = Escalations(clock)
    tenant_id = uuid4()
    incident_id = await started(uow, escalation, tenant_id)
    await lifecycle.transition(uow, caller(tenant_id), incident_id, "acknowledged")
    (ack,) = [e for e in uow.emitted if e.type == IncidentAcknowledged.event_type]
    await escalation.stop(uow, [(ack, IncidentAcknowledged.model_validate(ack.data))])

    run = await run_of(uow, incident_id)
    assert (run["status"], run["stop_reason"], run["next_due_at"]) == ("stopped", "acknowledged", None)
    assert await escalation.fire_due(uow, uow.now + timedelta(hours=1)) == 0
    assert len(emitted(uow, IncidentEscalated)) == 1


async def test_a_redelivered_creation_pages_nobody_twice(uow: UnitOfWork, clock: ManualClock) -> None:
    escalation = Escalations(clock)
    incident_id = await started(uow, escalation, uuid4())
    (created,) = [e for e in uow.emitted if e.type == IncidentCreated.event_type]
    await escalation.start(
        uow, [wrapped(IncidentCreated.model_validate(created.data), created.tenantid, "triage")]
    )
    assert len(emitted(uow, IncidentEscalated)) == 1
    assert (await run_of(uow, incident_id))["run"] == 1
