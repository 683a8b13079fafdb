"""Acknowledge / resolve asked for from Slack (notifications' incident_action.requested.v1),
against the real database without the broker: applied with the requester's own permissions,
read from triage's replica of users; a request they may not make changes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID, uuid4

from backbone.uow import UnitOfWork
from contracts.enums import Role
from contracts.envelope import Envelope
from contracts.events import IncidentActionRequested
from triage.handlers import lifecycle

from .support import opened, row, types, user, wrapped


def request(
    incident_id: UUID,
    user_id: UUID,
    tenant_id: UUID,
    action: Literal["acknowledge", "resolve"],
    now: datetime,
) -> list[tuple[Envelope, IncidentActionRequested]]:
    data = IncidentActionRequested(incident_id=incident_id, action=action, user_id=user_id, requested_at=now)
    return [wrapped(data, tenant_id, "notifications")]


async def test_the_requester_acknowledges_then_resolves_in_their_own_name(uow: UnitOfWork) -> None:
    tenant_id = uuid4()
    incident_id = await opened(uow, tenant_id)
    tess = await user(uow, tenant_id, Role.TECHNICAL_SUPPORT)
    (ack,) = request(incident_id, tess, tenant_id, "acknowledge", uow.now)
    await lifecycle.act_on_requests(uow, [ack])
    saved = await row(uow, incident_id)
    assert (saved["status"], saved["acknowledged_by"]) == ("acknowledged", tess)
    acknowledged = [e for e in uow.emitted if e.type == "incident.acknowledged.v1"]
    # The person is the actor, and the request the cause (notifications matches its message on it).
    assert [(e.actor.user_id, e.causationid) for e in acknowledged] == [(tess, ack[0].id)]

    (resolve,) = request(incident_id, tess, tenant_id, "resolve", uow.now)
    await lifecycle.act_on_requests(uow, [resolve])
    assert (await row(uow, incident_id))["status"] == "resolved"
    assert "incident.resolved.v1" in types(uow)


async def test_a_request_its_requester_may_not_make_changes_nothing(uow: UnitOfWork) -> None:
    tenant_id = uuid4()
    incident_id = await opened(uow, tenant_id)
    before = await row(uow, incident_id)
    account_manager = await user(uow, tenant_id, Role.ACCOUNT_MANAGER)  # no incidents.update
    stranger = await user(uow, uuid4(), Role.INCIDENT_MANAGER)  # another tenant's manager
    unknown = uuid4()  # not (yet) in the replica
    batch = [
        *request(incident_id, account_manager, tenant_id, "acknowledge", uow.now),
        *request(incident_id, stranger, tenant_id, "resolve", uow.now),
        *request(incident_id, unknown, tenant_id, "resolve", uow.now),
    ]
    await lifecycle.act_on_requests(uow, batch)
    assert await row(uow, incident_id) == before
    assert types(uow) == ["incident.created.v1"]


async def test_a_move_the_status_does_not_allow_changes_nothing_and_the_batch_goes_on(
    uow: UnitOfWork,
) -> None:
    tenant_id = uuid4()
    first, second = await opened(uow, tenant_id), await opened(uow, tenant_id)
    tess = await user(uow, tenant_id, Role.TECHNICAL_SUPPORT)
    batch = [
        *request(first, tess, tenant_id, "resolve", uow.now),
        *request(first, tess, tenant_id, "acknowledge", uow.now),  # resolved already: refused (409)
        *request(second, tess, tenant_id, "acknowledge", uow.now),
    ]
    await lifecycle.act_on_requests(uow, batch)
    assert (await row(uow, first))["status"] == "resolved"
    assert (await row(uow, second))["status"] == "acknowledged"
