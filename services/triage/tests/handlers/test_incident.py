"""Incidents from intake's events, against the real database without the broker: opened from
reports (classified, numbered, once), and moved by the alert source."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from sqlalchemy import func, select

from backbone.clock import ManualClock
from backbone.uow import UnitOfWork
from contracts.enums import Scope
from contracts.events import (
    AlertAcknowledged,
    AlertRepeated,
    AlertsResolved,
    IncidentAcknowledged,
    IncidentCreated,
    IncidentResolved,
)
from contracts.events.intake import ImpactFacts
from triage.adapters.orm import incidents
from triage.handlers.incident import (
    acknowledge_from_alerts,
    count_alerts,
    open_incidents,
    resolve_from_alerts,
)

from .support import emitted, opened, records, report, row, types, wrapped


async def test_a_report_opens_a_classified_numbered_incident_once(uow: UnitOfWork) -> None:
    tenant_id = uuid4()
    event = report(uow.now, impact=ImpactFacts(scope=Scope.ENTERPRISE), dedup_key="db-1")
    await open_incidents(uow, [wrapped(event, tenant_id)])
    await open_incidents(uow, [wrapped(event, tenant_id)])  # redelivered: nothing more

    saved = await row(uow, event.incident_id)
    assert (saved["reference_code"], saved["status"]) == ("INC-000001", "open")
    assert (saved["severity"], saved["computed_severity"], saved["priority"]) == ("P1", "P1", "critical")
    assert saved["severity_flags"]["p1_wide_impact"] is True
    (created,) = emitted(uow, IncidentCreated)
    assert (created.incident_id, created.reference_code) == (event.incident_id, "INC-000001")
    count = await uow.session.scalar(
        select(func.count()).select_from(incidents).where(incidents.c.tenant_id == tenant_id)
    )
    assert count == 1


async def test_a_second_report_with_the_same_key_within_the_window_is_recurrent(uow: UnitOfWork) -> None:
    tenant_id = uuid4()
    first = await opened(uow, tenant_id, dedup_key="disk-full")
    again = report(uow.now + timedelta(days=1), dedup_key="disk-full")
    elsewhere = report(uow.now + timedelta(days=1), dedup_key="disk-full")
    await open_incidents(uow, [wrapped(again, tenant_id), wrapped(elsewhere, uuid4())])

    assert (await row(uow, first))["recurrent"] is False
    recurrent = await row(uow, again.incident_id)
    assert (recurrent["recurrent"], recurrent["severity"], recurrent["reference_code"]) == (
        True,
        "P1",
        "INC-000002",
    )
    # Another tenant's history is not this one's.
    assert (await row(uow, elsewhere.incident_id))["recurrent"] is False


async def test_the_alert_sources_acknowledgement_moves_the_incident_once(
    uow: UnitOfWork, clock: ManualClock
) -> None:
    tenant_id = uuid4()
    incident_id = await opened(uow, tenant_id, dedup_key="db-2")
    at = clock.now() - timedelta(minutes=2)
    ack = AlertAcknowledged(incident_id=incident_id, dedup_key="db-2", acknowledged_at=at)
    await acknowledge_from_alerts(uow, [wrapped(ack, tenant_id), wrapped(ack, tenant_id)])

    saved = await row(uow, incident_id)
    assert (saved["status"], saved["acknowledged_at"], saved["acknowledged_by"]) == ("acknowledged", at, None)
    (acknowledged,) = emitted(uow, IncidentAcknowledged)
    assert (acknowledged.via, acknowledged.acknowledged_at) == ("alert", at)
    (status,) = [r for r in await records(uow, incident_id) if r["field"] == "status"]
    assert (status["from_value"], status["to_value"], status["via"]) == ("open", "acknowledged", "alert")
    assert status["changed_at"] == clock.now()  # recorded when saved, not at the source's time


async def test_the_alert_source_resolves_and_announces_the_dedup_key(uow: UnitOfWork) -> None:
    tenant_id = uuid4()
    incident_id = await opened(uow, tenant_id, dedup_key="db-3")
    resolved_at = uow.now + timedelta(minutes=9)
    batch = [
        wrapped(AlertsResolved(incident_id=incident_id, dedup_key="db-3", resolved_at=resolved_at), tenant_id)
    ]
    await resolve_from_alerts(uow, batch)
    await resolve_from_alerts(uow, batch)  # resolved already: nothing more

    saved = await row(uow, incident_id)
    assert (saved["status"], saved["resolved_at"], saved["acknowledged_at"]) == (
        "resolved",
        resolved_at,
        None,
    )
    (resolved,) = emitted(uow, IncidentResolved)
    assert (resolved.via, resolved.dedup_key) == ("alert", "db-3")
    assert types(uow) == ["incident.created.v1", "incident.status_changed.v1", "incident.resolved.v1"]


async def test_alert_counts_only_go_up(uow: UnitOfWork) -> None:
    tenant_id = uuid4()
    incident_id = await opened(uow, tenant_id, dedup_key="db-4")
    repeats = [
        wrapped(
            AlertRepeated(incident_id=incident_id, dedup_key="db-4", alert_count=n, last_seen_at=uow.now),
            tenant_id,
        )
        for n in (5, 3)
    ]
    await count_alerts(uow, repeats)
    await count_alerts(uow, [repeats[1]])  # an older count arriving late
    assert (await row(uow, incident_id))["alert_count"] == 5


async def test_one_poll_resolves_many_incidents_each_with_its_own_state_and_records(uow: UnitOfWork) -> None:
    """Outcomes of a poll are saved together: each incident gets its own columns (one was
    acknowledged before, one was not), and every update record is kept."""
    tenant_id = uuid4()
    acked = await opened(uow, tenant_id, dedup_key="poll-1")
    fresh = await opened(uow, tenant_id, dedup_key="poll-2")
    acked_at = uow.now + timedelta(minutes=1)
    await acknowledge_from_alerts(
        uow,
        [
            wrapped(
                AlertAcknowledged(incident_id=acked, dedup_key="poll-1", acknowledged_at=acked_at), tenant_id
            )
        ],
    )
    ends = {acked: uow.now + timedelta(minutes=5), fresh: uow.now + timedelta(minutes=7)}
    resolutions = [
        wrapped(AlertsResolved(incident_id=i, dedup_key=k, resolved_at=ends[i]), tenant_id)
        for i, k in ((acked, "poll-1"), (fresh, "poll-2"), (acked, "poll-1"))  # a copy: nothing more
    ]
    await resolve_from_alerts(uow, resolutions)

    first, second = await row(uow, acked), await row(uow, fresh)
    assert (first["status"], first["acknowledged_at"], first["resolved_at"]) == (
        "resolved",
        acked_at,
        ends[acked],
    )
    assert (second["status"], second["acknowledged_at"], second["resolved_at"]) == (
        "resolved",
        None,
        ends[fresh],
    )
    assert sorted(e.incident_id for e in emitted(uow, IncidentResolved)) == sorted([acked, fresh])
    moves = {
        i: [(r["from_value"], r["to_value"]) for r in await records(uow, i) if r["field"] == "status"]
        for i in ends
    }
    assert moves == {
        acked: [("open", "acknowledged"), ("acknowledged", "resolved")],
        fresh: [("open", "resolved")],
    }
