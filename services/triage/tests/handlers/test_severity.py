"""Severity by hand, against the real database without the broker: an incident manager's
override, and manual escalation with its history row."""

from __future__ import annotations

from uuid import uuid4

import pytest
from sqlalchemy import select

from backbone.problems import Forbidden, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import Role, Severity
from contracts.events import IncidentEscalated, IncidentTriaged
from triage.adapters.orm import incident_escalations
from triage.handlers import severity

from .support import caller, emitted, opened, records, row, types


async def test_an_override_keeps_the_computed_severity(uow: UnitOfWork) -> None:
    tenant_id = uuid4()
    incident_id = await opened(uow, tenant_id)
    manager = caller(tenant_id)
    await severity.override_severity(uow, manager, incident_id, Severity.P2, "the customer is a bank")
    saved = await row(uow, incident_id)
    assert (saved["severity"], saved["computed_severity"], saved["severity_override"]) == ("P2", "P4", "P2")
    assert (saved["severity_overridden_by"], saved["severity_override_reason"]) == (
        manager.user_id,
        "the customer is a bank",
    )
    (triaged,) = emitted(uow, IncidentTriaged)
    assert (triaged.override, triaged.override_reason) == (True, "the customer is a bank")

    await severity.override_severity(uow, manager, incident_id, None, None)
    cleared = await row(uow, incident_id)
    assert (cleared["severity"], cleared["severity_override"], cleared["severity_overridden_by"]) == (
        "P4",
        None,
        None,
    )


async def test_only_an_incident_manager_overrides_whatever_the_incident(uow: UnitOfWork) -> None:
    tenant_id = uuid4()
    incident_id = await opened(uow, tenant_id)
    support = caller(tenant_id, role=Role.TECHNICAL_SUPPORT)
    for target in (incident_id, uuid4()):  # 403 before any lookup: an unknown id answers the same
        with pytest.raises(Forbidden):
            await severity.override_severity(uow, support, target, Severity.P1, "because")
    assert await records(uow, incident_id) == []


async def test_manual_escalation_raises_the_priority_and_keeps_a_history_row(uow: UnitOfWork) -> None:
    tenant_id = uuid4()
    incident_id = await opened(uow, tenant_id)
    person = caller(tenant_id, role=Role.TECHNICAL_SUPPORT)
    done = await severity.escalate(uow, person, incident_id, "customer on the phone", None, None)

    assert (await row(uow, incident_id))["priority"] == "medium"  # low → one level up
    kept = (
        (await uow.session.execute(select(incident_escalations).where(incident_escalations.c.id == done.id)))
        .mappings()
        .one()
    )
    assert (kept["from_priority"], kept["to_priority"], kept["escalated_by"], kept["trigger"]) == (
        "low",
        "medium",
        person.user_id,
        "manual",
    )
    (escalated,) = emitted(uow, IncidentEscalated)
    assert (escalated.escalation_id, escalated.reason, escalated.escalated_at) == (
        done.id,
        "customer on the phone",
        uow.now,
    )
    (priority,) = await records(uow, incident_id)
    assert (priority["field"], priority["note"]) == ("priority", "customer on the phone")


async def test_escalation_refuses_to_lower_and_writes_nothing(uow: UnitOfWork) -> None:
    tenant_id = uuid4()
    incident_id = await opened(uow, tenant_id)
    with pytest.raises(Unprocessable, match="not more severe"):
        await severity.escalate(uow, caller(tenant_id), incident_id, "r", None, Severity.P4)
    assert types(uow) == ["incident.created.v1"]
    assert (
        await uow.session.execute(
            select(incident_escalations.c.id).where(incident_escalations.c.incident_id == incident_id)
        )
    ).first() is None
