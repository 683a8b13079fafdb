"""Handlers against the real database: the incident replica (newest wins, never another
tenant's), the related-changes window, a completed rollback rolling its change back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from backbone.auth import Principal
from backbone.clock import ManualClock
from backbone.problems import Conflict
from backbone.uow import UnitOfWork
from changes.adapters import links
from changes.handlers import change_request, rollback_request
from changes.handlers.replicas import replicate_incidents
from changes.testing import incident_created
from contracts.enums import Role
from contracts.envelope import Envelope
from contracts.events import IncidentCreated, IncidentStatusChanged

TENANT, COMPONENT = uuid4(), uuid4()


def envelope(data: object, tenant=TENANT) -> tuple[Envelope, object]:
    return Envelope.wrap(data, source="triage", tenant_id=tenant), data  # type: ignore[arg-type]


def created(incident_id: UUID, detected: datetime) -> IncidentCreated:
    return incident_created(incident_id, component_id=COMPONENT, detected_at=detected)


def who(role: Role) -> Principal:
    return Principal(user_id=uuid4(), tenant_id=TENANT, role=role)


async def test_replica_keeps_the_newest_and_never_another_tenants(uow: UnitOfWork) -> None:
    incident_id = uuid4()
    event = created(incident_id, datetime(2030, 1, 1, tzinfo=UTC))
    moved = IncidentStatusChanged(
        **event.model_dump(exclude={"status"}), status="closed", from_status="open", to_status="closed"
    )
    await replicate_incidents(uow, [envelope(event), envelope(moved)])  # type: ignore[list-item]
    row = await links.incident(uow.session, TENANT, incident_id)
    assert row.status == "closed" and row.detected_at == event.detected_at
    hijack = IncidentStatusChanged(
        **event.model_dump(exclude={"status"}), status="open", from_status="closed", to_status="open"
    )
    await replicate_incidents(uow, [envelope(hijack, tenant=uuid4())])  # type: ignore[list-item]
    assert (await links.incident(uow.session, TENANT, incident_id)).status == "closed"


async def test_related_changes_are_those_started_in_the_72_hours_before_detection(
    uow: UnitOfWork, clock: ManualClock
) -> None:
    ts, im = who(Role.TECHNICAL_SUPPORT), who(Role.INCIDENT_MANAGER)
    started = []
    for _ in range(2):
        change = await change_request.submit(
            uow, ts, {"title": "c", "change_type": "normal", "risk_level": "low", "component_id": None}
        )
        await change_request.take_step(uow, im, change["id"], "approve")
        started.append(await change_request.take_step(uow, ts, change["id"], "start"))
    # Both started at the clock's time; the component link is set directly (no component replica here).
    from sqlalchemy import update

    from changes.adapters.orm import change_requests

    old = uow.now - timedelta(hours=100)
    await uow.session.execute(
        update(change_requests)
        .where(change_requests.c.id == started[0]["id"])
        .values(component_id=COMPONENT, started_at=old)
    )
    await uow.session.execute(
        update(change_requests).where(change_requests.c.id == started[1]["id"]).values(component_id=COMPONENT)
    )
    incident_id = uuid4()
    await replicate_incidents(uow, [envelope(created(incident_id, uow.now + timedelta(hours=1)))])  # type: ignore[list-item]
    related = await change_request.related(uow, ts, incident_id)
    assert [c["id"] for c in related] == [started[1]["id"]]


async def test_a_completed_rollback_rolls_the_change_back_and_a_refusal_changes_nothing(
    uow: UnitOfWork,
) -> None:
    ts, ex = who(Role.TECHNICAL_SUPPORT), who(Role.EXECUTIVE)
    change = await change_request.submit(
        uow, ts, {"title": "c", "change_type": "normal", "risk_level": "high"}
    )
    with pytest.raises(Conflict):
        await rollback_request.submit(uow, ts, {"change_id": change["id"], "justification": "j"})
    await change_request.take_step(uow, ex, change["id"], "approve")
    await change_request.take_step(uow, ts, change["id"], "start")
    rollback = await rollback_request.submit(uow, ts, {"change_id": change["id"], "justification": "j"})
    for action, actor in (("approve", ex), ("start", ts), ("complete", ts)):
        done = await rollback_request.take_step(uow, actor, rollback["id"], action)
    assert done["completed_at"] == uow.now
    assert [e.type for e in uow.emitted][-2:] == [
        "rollback_request.completed.v1",
        "change_request.rolled_back.v1",
    ]
    from changes.adapters import records
    from changes.adapters.change_request import table

    row = await records.load(uow.session, table, change["id"], TENANT, what="change")
    assert row["status"] == "rolled_back"


async def test_a_reported_change_is_recorded_once_and_found_among_related_changes(uow: UnitOfWork) -> None:
    """A tool's change event (intake.change_received.v1): a completed change on the component,
    its client and vendor taken from the component, once per event however often delivered; it
    shows among an incident's related changes and may be rolled back like any change."""
    from changes.adapters.change_request import table
    from changes.adapters.records import load
    from contracts.events.intake import ChangeLink, ChangeReceived

    client, vendor = uuid4(), uuid4()
    await links.upsert_components(
        uow.session,
        [{"id": COMPONENT, "tenant_id": TENANT, "client_id": client, "vendor_id": vendor, "name": "db"}],
    )
    reported = ChangeReceived(
        change_id=uuid4(),
        integration_id=uuid4(),
        component_id=COMPONENT,
        summary="Deploy checkout v42",
        source="ci-pipeline",
        occurred_at=uow.now - timedelta(hours=1),
        links=[ChangeLink(href="https://ci.example/42", text="build 42")],
    )
    delivered = Envelope.wrap(reported, source="intake", tenant_id=TENANT)
    await change_request.record_reported(uow, [(delivered, reported), (delivered, reported)])
    await change_request.record_reported(uow, [(delivered, reported)])  # redelivered

    incident_id = uuid4()
    await replicate_incidents(uow, [envelope(created(incident_id, uow.now))])  # type: ignore[list-item]
    related = await change_request.related(uow, who(Role.INCIDENT_MANAGER), incident_id)
    assert [c["id"] for c in related] == [reported.change_id]
    change = related[0]
    assert change["status"] == "completed" and change["requested_by_id"] is None
    assert (change["client_id"], change["vendor_id"]) == (client, vendor)
    assert change["started_at"] == reported.occurred_at and change["title"] == "Deploy checkout v42"
    assert (
        "ci-pipeline" in change["description"] and "build 42: https://ci.example/42" in change["description"]
    )

    ts, ex = who(Role.TECHNICAL_SUPPORT), who(Role.EXECUTIVE)
    rollback = await rollback_request.submit(uow, ts, {"change_id": change["id"], "justification": "broke"})
    for action, actor in (("approve", ex), ("start", ts), ("complete", ts)):
        await rollback_request.take_step(uow, actor, rollback["id"], action)
    assert uow.emitted[-1].type == "change_request.rolled_back.v1"
    assert uow.emitted[-1].data["requested_by_id"] is None
    assert (await load(uow.session, table, change["id"], TENANT, what="change"))["status"] == "rolled_back"
