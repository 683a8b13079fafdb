"""Clocks over the real broker and database, on a ManualClock: they start on incident.created.v1,
warn and breach at their instants exactly once, stop, pause, take extensions and severity
changes, and resume on reopen (docs/sla.md "Clocks")."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from backbone.testing import eventually
from contracts.enums import Role, Severity, SubscriptionTier
from contracts.events import (
    IncidentAcknowledged,
    IncidentReopened,
    IncidentResolved,
    IncidentStatusChanged,
    IncidentTriaged,
)
from sla.testing import Sla, Tenant, headline

pytestmark = pytest.mark.integration


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def types(sla: Sla, incident_id: UUID, kind: str | None = None) -> list[str]:
    return [e["type"] for e in await sla.events(incident_id) if kind is None or e["clock"] == kind]


async def test_clocks_start_warn_and_breach_at_their_instants_once(sla: Sla, tenant: Tenant) -> None:
    client_id = await tenant.subscribe(SubscriptionTier.PREMIUM)
    start = sla.clock.now()
    # The subscription reaches the replica before the incident (same topic order is not
    # guaranteed across topics): wait for it through the clock's tier.
    incident_id = await tenant.incident(Severity.P1, client_id)
    body = await tenant.sla(incident_id)
    if body["tier"] != "premium":  # the subscription came after: retiered
        await eventually(lambda: _tier_is(tenant, incident_id, "premium"), what="premium tier")
        body = await tenant.sla(incident_id)
    assert (body["incident_id"], body["client_id"], body["severity"]) == (
        str(incident_id),
        str(client_id),
        "P1",
    )
    response = tenant.clock(body, "response")
    # Premium P1: response 15/30 minutes on 24x7: warns at 15, due at 30.
    assert response["calendar"] == "24x7" and response["state"] == "running"
    assert at(response["started_at"]) == start
    assert at(response["warn_at"]) == start + timedelta(minutes=15)
    assert at(response["due_at"]) == start + timedelta(minutes=30)
    assert at(tenant.clock(body, "resolution")["due_at"]) == start + timedelta(hours=4)

    sla.clock.advance(minutes=15, seconds=-1)
    assert "sla.at_risk.v1" not in await types(sla, incident_id)
    sla.clock.advance(seconds=1)
    await eventually(lambda: _has(sla, incident_id, "sla.at_risk.v1"), what="the warning")
    warned = (await sla.events(incident_id, "sla.at_risk.v1"))[0]
    assert warned["clock"] == "response" and at(warned["warned_at"]) == start + timedelta(minutes=15)
    assert tenant.clock(await tenant.sla(incident_id), "response")["at_risk"] is True

    sla.clock.advance(minutes=15)
    await eventually(lambda: _has(sla, incident_id, "sla.breached.v1"), what="the breach")
    sla.clock.advance(seconds=30)  # more ticks: nothing fires twice
    sla.clock.advance(seconds=30)
    breaches = await sla.events(incident_id, "sla.breached.v1")
    assert len(breaches) == 1
    assert at(breaches[0]["breached_at"]) == start + timedelta(minutes=30)
    assert at(breaches[0]["due_at"]) == start + timedelta(minutes=30)
    shown = tenant.clock(await tenant.sla(incident_id), "response")
    assert shown["state"] == "breached" and at(shown["breached_at"]) == start + timedelta(minutes=30)
    assert shown["remaining_minutes"] == -1.0
    assert [e for e in await types(sla, incident_id, "response")].count("sla.at_risk.v1") == 1


async def test_acknowledgement_meets_the_response_clock(sla: Sla, tenant: Tenant) -> None:
    incident_id = await tenant.incident(Severity.P1)  # no client: the default tier, basic
    start = sla.clock.now()
    body = await tenant.sla(incident_id)
    assert body["tier"] == "basic"
    await sla.publish(
        IncidentAcknowledged(
            **headline(incident_id, Severity.P1, status="acknowledged"),
            acknowledged_at=start + timedelta(minutes=5),
        ),
        tenant.id,
    )
    await eventually(lambda: _has(sla, incident_id, "sla.clock_stopped.v1"), what="the stop")
    body = await tenant.sla(incident_id)
    response = tenant.clock(body, "response")
    assert response["state"] == "met" and at(response["stopped_at"]) == start + timedelta(minutes=5)
    assert tenant.clock(body, "resolution")["state"] == "running"
    stopped = (await sla.events(incident_id, "sla.clock_stopped.v1"))[0]
    assert stopped["outcome"] == "met" and stopped["clock"] == "response"


async def test_pause_while_waiting_on_the_client_shifts_the_deadline(sla: Sla, tenant: Tenant) -> None:
    settings = {"pause_enabled": True, "pause_statuses": ["waiting_on_client"]}
    put = await tenant.s.client.put("/v1/sla/settings", json=settings, headers=tenant.auth())
    assert put.status_code == 200, put.text
    refused = await tenant.s.client.put(
        "/v1/sla/settings", json=settings, headers=tenant.auth(Role.TECHNICAL_SUPPORT)
    )
    assert refused.status_code == 403
    client_id = await tenant.subscribe(SubscriptionTier.PREMIUM)
    await eventually(lambda: _subscribed(tenant, client_id), what="the subscription")
    incident_id = await tenant.incident(Severity.P2, client_id)
    start = sla.clock.now()
    due = at(tenant.clock(await tenant.sla(incident_id), "resolution")["due_at"])
    assert due == start + timedelta(hours=24)

    async def move(to_status: str, from_status: str, minutes: int, then: str) -> dict[str, Any]:
        """Triage moves the incident ``minutes`` after the start; once both clocks announced
        ``then``, the resolution clock."""
        moved = IncidentStatusChanged(
            **headline(incident_id, Severity.P2, client_id, to_status),
            from_status=from_status,
            to_status=to_status,
        )
        await sla.publish(moved, tenant.id, at=start + timedelta(minutes=minutes))
        await eventually(lambda: _has(sla, incident_id, then, 2), what=f"both clocks: {then}")
        return tenant.clock(await tenant.sla(incident_id), "resolution")

    paused = await move("waiting_on_client", "in_progress", 10, "sla.clock_paused.v1")
    assert paused["state"] == "paused" and paused["due_at"] is None
    resumed = await move("in_progress", "waiting_on_client", 40, "sla.clock_resumed.v1")
    assert resumed["state"] == "running" and resumed["paused_minutes"] == 30
    assert at(resumed["due_at"]) == due + timedelta(minutes=30)


async def test_extension_moves_the_deadline_and_is_recorded(sla: Sla, tenant: Tenant) -> None:
    client_id = await tenant.subscribe(SubscriptionTier.PREMIUM)
    await eventually(lambda: _subscribed(tenant, client_id), what="the subscription")
    incident_id = await tenant.incident(Severity.P1, client_id)
    start = sla.clock.now()
    path = f"/v1/incidents/{incident_id}/sla/extensions"
    body = {"clock": "resolution", "minutes": 60, "reason": "client asked for a maintenance window"}
    refused = await tenant.s.client.post(path, json=body, headers=tenant.auth(Role.TECHNICAL_SUPPORT))
    assert refused.status_code == 403
    other = await tenant.s.client.post(
        path, json=body, headers=tenant.s.stack.auth(tenant_id=UUID(int=7), role="incident_manager")
    )
    assert other.status_code == 404
    created = await tenant.s.client.post(path, json=body, headers=tenant.auth())
    assert created.status_code == 201, created.text
    resolution = tenant.clock(created.json(), "resolution")
    assert at(resolution["due_at"]) == start + timedelta(hours=5)
    assert at(resolution["warn_at"]) == start + timedelta(hours=3)
    assert [(e["minutes"], e["reason"]) for e in resolution["extensions"]] == [(60, body["reason"])]
    extended = await sla.events(incident_id, "sla.clock_extended.v1")
    assert len(extended) == 1 and extended[0]["total_extension_minutes"] == 60

    await sla.publish(
        IncidentResolved(**headline(incident_id, Severity.P1, client_id, "resolved"), resolved_at=start),
        tenant.id,
    )
    await eventually(lambda: _has(sla, incident_id, "sla.clock_stopped.v1", 2), what="both stopped")
    late = await tenant.s.client.post(path, json=body, headers=tenant.auth())
    assert late.status_code == 409, late.text


async def test_severity_change_takes_the_new_figures_from_the_start(sla: Sla, tenant: Tenant) -> None:
    client_id = await tenant.subscribe(SubscriptionTier.PREMIUM)
    await eventually(lambda: _subscribed(tenant, client_id), what="the subscription")
    incident_id = await tenant.incident(Severity.P3, client_id)
    start = sla.clock.now()
    assert at(tenant.clock(await tenant.sla(incident_id), "resolution")["due_at"]) == start + timedelta(
        hours=72
    )
    await sla.publish(
        IncidentTriaged(
            **headline(incident_id, Severity.P1, client_id),
            previous_severity=Severity.P3,
            computed_severity=Severity.P1,
            severity_flags={},
        ),
        tenant.id,
        at=start + timedelta(minutes=10),
    )
    await eventually(lambda: _has(sla, incident_id, "sla.clock_retargeted.v1", 2), what="retargeted")
    body = await tenant.sla(incident_id)
    assert body["severity"] == "P1"
    resolution = tenant.clock(body, "resolution")
    assert at(resolution["due_at"]) == start + timedelta(hours=4)
    assert resolution["history"][0]["severity"] == "P3"


async def test_reopen_resumes_resolution_with_its_elapsed_time(sla: Sla, tenant: Tenant) -> None:
    client_id = await tenant.subscribe(SubscriptionTier.PREMIUM)
    await eventually(lambda: _subscribed(tenant, client_id), what="the subscription")
    incident_id = await tenant.incident(Severity.P1, client_id)
    start = sla.clock.now()
    await sla.publish(
        IncidentResolved(
            **headline(incident_id, Severity.P1, client_id, "resolved"),
            resolved_at=start + timedelta(minutes=60),
        ),
        tenant.id,
    )
    await eventually(lambda: _has(sla, incident_id, "sla.clock_stopped.v1", 2), what="stopped")
    await sla.publish(
        IncidentReopened(
            **headline(incident_id, Severity.P1, client_id, "in_progress"),
            reopened_at=start + timedelta(minutes=100),
        ),
        tenant.id,
    )
    await eventually(lambda: _has(sla, incident_id, "sla.clock_resumed.v1"), what="resumed")
    resolution = tenant.clock(await tenant.sla(incident_id), "resolution")
    assert resolution["state"] == "running"
    # 60 minutes counted before the resolve; 180 of the 240 left from the reopen.
    assert at(resolution["due_at"]) == start + timedelta(minutes=100 + 180)
    assert tenant.clock(await tenant.sla(incident_id), "response")["state"] == "met"


async def _has(sla: Sla, incident_id: UUID, event_type: str, count: int = 1) -> bool:
    return len(await sla.events(incident_id, event_type)) >= count


async def _tier_is(tenant: Tenant, incident_id: UUID, tier: str) -> bool:
    return (await tenant.sla(incident_id))["tier"] == tier


async def _subscribed(tenant: Tenant, client_id: UUID) -> bool:
    from sqlalchemy import select

    from sla.adapters.orm import subscriptions

    async with tenant.s.db.sessions() as s:
        return (
            await s.scalar(select(subscriptions.c.tier).where(subscriptions.c.client_id == client_id))
            is not None
        )
