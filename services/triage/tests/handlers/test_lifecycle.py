"""A person changes an incident, against the real database without the broker: the row, the
update records and the events come from one unit of work; a refused change writes nothing."""

from __future__ import annotations

from uuid import uuid4

import pytest

from backbone.clock import ManualClock
from backbone.problems import Conflict, NotFound
from backbone.uow import UnitOfWork
from contracts.enums import Role
from contracts.events import IncidentDeleted, IncidentReopened, IncidentTriaged, IncidentUpdated
from triage.handlers import lifecycle
from triage.views import incident as views

from .support import caller, emitted, opened, records, row, types


async def test_a_persons_first_move_acknowledges_and_is_recorded(uow: UnitOfWork, clock: ManualClock) -> None:
    tenant_id = uuid4()
    incident_id = await opened(uow, tenant_id)
    person = caller(tenant_id, role=Role.TECHNICAL_SUPPORT)
    clock.advance(minutes=7)  # the unit of work's time was read when it began
    await lifecycle.transition(uow, person, incident_id, "in_progress", note="looking")

    saved = await row(uow, incident_id)
    assert (saved["status"], saved["acknowledged_by"]) == ("in_progress", person.user_id)
    assert saved["acknowledged_at"] == saved["updated_at"] == uow.now
    (status,) = await records(uow, incident_id)
    assert (status["field"], status["from_value"], status["to_value"]) == ("status", "open", "in_progress")
    assert (status["changed_by"], status["changed_by_role"], status["note"]) == (
        person.user_id,
        "technical_support",
        "looking",
    )
    assert types(uow)[1:] == ["incident.status_changed.v1", "incident.acknowledged.v1"]
    assert all(e.actor.user_id == person.user_id for e in uow.emitted[1:])


async def test_a_refused_move_writes_nothing(uow: UnitOfWork) -> None:
    tenant_id = uuid4()
    incident_id = await opened(uow, tenant_id)
    before = await row(uow, incident_id)
    with pytest.raises(Conflict) as refused:
        await lifecycle.reopen(uow, caller(tenant_id), incident_id, "why")
    assert "only a resolved or closed incident" in refused.value.detail
    assert await row(uow, incident_id) == before
    assert await records(uow, incident_id) == []
    assert types(uow) == ["incident.created.v1"]


async def test_another_tenants_incident_answers_like_an_unknown_one(uow: UnitOfWork) -> None:
    incident_id = await opened(uow, uuid4())
    stranger = caller(uuid4())
    with pytest.raises(NotFound) as theirs:
        await lifecycle.transition(uow, stranger, incident_id, "acknowledged")
    unknown_id = uuid4()
    with pytest.raises(NotFound) as unknown:
        await lifecycle.transition(uow, stranger, unknown_id, "acknowledged")
    assert theirs.value.detail == f"no incident {incident_id}"
    assert unknown.value.detail == f"no incident {unknown_id}"


async def test_resolve_then_reopen_clears_the_stamps(uow: UnitOfWork) -> None:
    tenant_id = uuid4()
    incident_id = await opened(uow, tenant_id)
    manager = caller(tenant_id)
    await lifecycle.transition(uow, manager, incident_id, "resolved", resolution="restarted")
    resolved = await row(uow, incident_id)
    assert (resolved["resolved_by"], resolved["resolution"]) == (manager.user_id, "restarted")

    await lifecycle.reopen(uow, manager, incident_id, "back again")
    saved = await row(uow, incident_id)
    assert (saved["status"], saved["resolved_at"], saved["resolved_by"]) == ("open", None, None)
    assert saved["resolution"] == "restarted"  # what was done the first time stays
    (reopened,) = emitted(uow, IncidentReopened)
    assert reopened.reason == "back again"


async def test_patching_the_impact_reclassifies_with_one_record_per_field(uow: UnitOfWork) -> None:
    tenant_id = uuid4()
    incident_id = await opened(uow, tenant_id)
    await lifecycle.patch_incident(
        uow,
        caller(tenant_id),
        incident_id,
        {"impact": {"regulatory_safety_financial": True}},
        "auditors called",
    )
    saved = await row(uow, incident_id)
    assert (saved["severity"], saved["priority"], saved["impact"]["regulatory_safety_financial"]) == (
        "P1",
        "critical",
        True,
    )
    fields = {r["field"]: r for r in await records(uow, incident_id)}
    assert set(fields) == {"impact", "severity", "computed_severity", "severity_flags", "priority"}
    assert (fields["severity"]["from_value"], fields["severity"]["to_value"]) == ("P4", "P1")
    assert {r["note"] for r in fields.values()} == {"auditors called"}
    (updated,) = emitted(uow, IncidentUpdated)
    assert set(updated.changes) == set(fields)
    (triaged,) = emitted(uow, IncidentTriaged)
    assert (triaged.previous_severity, triaged.severity) == ("P4", "P1")


async def test_a_patch_that_changes_nothing_writes_nothing(uow: UnitOfWork) -> None:
    tenant_id = uuid4()
    incident_id = await opened(uow, tenant_id)
    before = await row(uow, incident_id)
    await lifecycle.patch_incident(
        uow, caller(tenant_id), incident_id, {"title": "database down", "status": "open"}
    )
    assert await row(uow, incident_id) == before
    assert types(uow) == ["incident.created.v1"]


async def test_a_deleted_incident_is_gone_for_everyone(uow: UnitOfWork) -> None:
    tenant_id = uuid4()
    incident_id = await opened(uow, tenant_id)
    admin = caller(tenant_id, role=Role.SYSTEM_ADMINISTRATOR)
    await lifecycle.delete_incident(uow, admin, incident_id)
    saved = await row(uow, incident_id)
    assert (saved["deleted_at"], saved["deleted_by"]) == (uow.now, admin.user_id)
    (deleted,) = emitted(uow, IncidentDeleted)
    assert deleted.deleted_by == admin.user_id
    assert await views.get_incident(uow, admin, incident_id) is None
    with pytest.raises(NotFound):
        await lifecycle.transition(uow, admin, incident_id, "acknowledged")
