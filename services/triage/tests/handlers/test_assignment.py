"""Who works an incident, against the real database without the broker: assignment, CC,
delegation and their update records."""

from __future__ import annotations

from uuid import uuid4

import pytest

from backbone.problems import Conflict, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import AssignmentKind
from contracts.events import IncidentAssigned, IncidentDelegated, IncidentUnassigned
from triage.handlers import assignment
from triage.views import assignment as views
from triage.views import incident as incident_views

from .support import caller, emitted, opened, records, user


async def test_assign_delegate_and_unassign_keep_the_history(uow: UnitOfWork) -> None:
    tenant_id = uuid4()
    incident_id = await opened(uow, tenant_id)
    manager = caller(tenant_id)
    first, second = await user(uow, tenant_id), await user(uow, tenant_id)

    assigned = await assignment.assign(uow, manager, incident_id, first, AssignmentKind.ASSIGNEE, "yours")
    with pytest.raises(Conflict, match="already assigned"):
        await assignment.assign(uow, manager, incident_id, first, AssignmentKind.ASSIGNEE, None)
    delegated = await assignment.delegate(uow, manager, incident_id, second, None, "over to you")
    assert delegated["delegated_from"] == first
    ended = await assignment.unassign(uow, manager, incident_id, second, AssignmentKind.ASSIGNEE)
    assert [a["id"] for a in ended] == [delegated["id"]]

    history = await views.assignments(uow, manager, incident_id)
    assert [(a["user_id"], a["kind"], a["is_active"]) for a in history] == [
        (first, "assignee", False),
        (second, "delegate", False),
    ]
    assert history[0]["unassigned_at"] == uow.now
    trail = [(r["from_value"], r["to_value"]) for r in await records(uow, incident_id)]
    assert trail == [([], [str(first)]), ([str(first)], [str(second)]), ([str(second)], [])]
    assert [e.assignment_id for e in emitted(uow, IncidentAssigned)] == [assigned["id"]]
    assert [e.delegated_from for e in emitted(uow, IncidentDelegated)] == [first]
    assert [e.user_id for e in emitted(uow, IncidentUnassigned)] == [second]
    shown = await incident_views.get_incident(uow, manager, incident_id)
    assert shown is not None and shown["assignees"] == []


async def test_only_an_active_user_of_the_tenant_is_assigned(uow: UnitOfWork) -> None:
    tenant_id = uuid4()
    incident_id = await opened(uow, tenant_id)
    outsider = await user(uow, uuid4())
    with pytest.raises(Unprocessable, match="no user"):
        await assignment.assign(uow, caller(tenant_id), incident_id, outsider, AssignmentKind.CC, None)
    assert await records(uow, incident_id) == []
