"""Intake's commands and replicas against the real database: rows written, events emitted, the
time taken from the unit of work's clock, another tenant's rows unknown."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select

from backbone.auth import Principal, replicate_users
from backbone.problems import NotFound, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import IncidentSource, IntegrationKind, Role
from contracts.envelope import Envelope, EventData, new_id
from contracts.events import (
    AlertAcknowledged,
    AlertsResolved,
    ClientOnboarded,
    ClientUpdated,
    ComponentRegistered,
    IncidentReported,
    IncidentResolved,
    IntegrationCreated,
    IntegrationDeleted,
    Matcher,
    SilenceChanged,
    TenantCreated,
    UserRegistered,
    token_sha256,
)
from intake.adapters.reports import clients
from intake.domain.reports import ManualReport
from intake.domain.signals import Signal
from intake.handlers import alerts, integrations, replicas, reports, silences


def _batch(*events: EventData) -> list[tuple[Envelope, Any]]:
    return [
        (Envelope.wrap(e, source="directory", tenant_id=getattr(e, "tenant_id", None)), e) for e in events
    ]


def _firing(key: str, fingerprint: str = "a", **labels: str) -> Signal:
    return Signal(dedup_key=key, fingerprint=fingerprint, firing=True, title=f"{key} is down", labels=labels)


def _resolved(key: str, fingerprint: str = "a") -> Signal:
    return Signal(dedup_key=key, fingerprint=fingerprint, firing=False, title="", labels={})


async def _integration(uow: UnitOfWork, kind: IntegrationKind = IntegrationKind.ALERTMANAGER) -> Any:
    """An integration replicated as directory's event leaves it; found again by its token."""
    token = f"tok-{new_id()}"
    event = IntegrationCreated(
        integration_id=new_id(),
        tenant_id=new_id(),
        kind=kind,
        name="prom",
        token_sha256=token_sha256(token),
        revision=1,
    )
    await integrations.replicate_integration(uow, _batch(event)[0][0], event)
    found = await integrations.integration_for_token(uow, token)
    assert found is not None and found.id == event.integration_id
    return found, token


def _client(cls: type[ClientOnboarded], client_id: UUID, tenant_id: UUID, status: str = "active") -> Any:
    return cls(
        client_id=client_id,
        tenant_id=tenant_id,
        client_name="C",
        registration_number="R",
        contact_email="c@c.example",
        client_type="enterprise",
        status=status,
    )


async def test_tenants_are_replicated_newest_last(uow: UnitOfWork) -> None:
    tenant_id = new_id()
    slug = f"acme-{tenant_id.hex[:8]}"
    await replicas.replicate_tenants(
        uow,
        _batch(
            TenantCreated(tenant_id=tenant_id, slug=slug, name="Old name"),
            TenantCreated(tenant_id=tenant_id, slug=slug, name="Acme"),
        ),
    )
    found = await reports.public_tenant(uow, slug)
    assert found is not None and (found.id, found.name) == (tenant_id, "Acme")


async def test_another_tenants_event_never_takes_a_client_over(uow: UnitOfWork) -> None:
    client_id, tenant_id = new_id(), new_id()

    onboarded = _client(ClientOnboarded, client_id, tenant_id)
    await replicas.replicate_clients(
        uow, _batch(onboarded, _client(ClientUpdated, client_id, tenant_id, "suspended"))
    )
    await replicas.replicate_clients(uow, _batch(_client(ClientUpdated, client_id, new_id(), "inactive")))
    row = (await uow.session.execute(select(clients).where(clients.c.id == client_id))).one()
    assert (row.tenant_id, row.status) == (tenant_id, "suspended")


async def _staging_silence(
    uow: UnitOfWork, caller: Principal, lasting: timedelta, comment: str = ""
) -> dict[str, Any]:
    """A silence of env=staging alerts, from now on."""
    return await silences.create(
        uow,
        caller,
        matchers=[Matcher(name="env", value="staging")],
        starts_at=None,
        ends_at=uow.now + lasting,
        comment=comment,
        client_id=None,
    )


async def _reporting_user(uow: UnitOfWork) -> tuple[Principal, UUID, UUID]:
    """A tenant's active incident manager in the users replica, a client and its component."""
    tenant_id, user_id, client_id, component_id = new_id(), new_id(), new_id(), new_id()
    await replicate_users(
        uow,
        _batch(UserRegistered(user_id=user_id, tenant_id=tenant_id, role=Role.INCIDENT_MANAGER)),
    )
    await replicas.replicate_clients(uow, _batch(_client(ClientOnboarded, client_id, tenant_id)))
    await replicas.replicate_components(
        uow,
        _batch(
            ComponentRegistered(
                component_id=component_id, tenant_id=tenant_id, client_id=client_id, name="db"
            )
        ),
    )
    caller = Principal(user_id=user_id, tenant_id=tenant_id, role=Role.INCIDENT_MANAGER)
    return caller, client_id, component_id


async def test_a_manual_report_is_detected_now_by_the_clock(uow: UnitOfWork) -> None:
    caller, client_id, component_id = await _reporting_user(uow)
    report = ManualReport(title="Checkout fails", client_id=client_id, component_id=component_id)
    incident_id = await reports.report_incident(uow, caller, report, uow.now)
    (event,) = uow.emitted
    assert event.type == IncidentReported.event_type and event.data["incident_id"] == str(incident_id)
    assert event.data["detected_at"] == uow.now.isoformat().replace("+00:00", "Z")
    assert event.data["source"] == IncidentSource.MANUAL.value


async def test_a_manual_report_is_refused_for_an_unknown_component_or_the_future(uow: UnitOfWork) -> None:
    caller, client_id, _ = await _reporting_user(uow)
    with pytest.raises(Unprocessable, match="component"):
        await reports.report_incident(
            uow, caller, ManualReport(title="t", client_id=client_id, component_id=new_id()), uow.now
        )
    later = ManualReport(title="t", client_id=client_id, detected_at=uow.now + timedelta(hours=1))
    with pytest.raises(Unprocessable, match="future"):
        await reports.report_incident(uow, caller, later, uow.now)
    assert uow.emitted == []


async def test_a_silence_starts_now_and_expires_now(uow: UnitOfWork) -> None:
    caller = Principal(user_id=new_id(), tenant_id=new_id(), role=Role.INCIDENT_MANAGER)
    made = await _staging_silence(uow, caller, timedelta(hours=2), "maintenance")
    assert made["starts_at"] == uow.now and made["state"] == "active"
    assert [s["id"] for s in await silences.listed(uow, caller, state="active")] == [made["id"]]
    assert await silences.listed(uow, caller, state="expired") == []
    expired = await silences.expire(uow, caller, made["id"])
    assert expired["ends_at"] == uow.now and expired["state"] == "expired"
    assert [e.type for e in uow.emitted] == [SilenceChanged.event_type] * 2
    assert uow.emitted[1].data["expired"] is True
    stranger = Principal(user_id=new_id(), tenant_id=new_id(), role=Role.INCIDENT_MANAGER)
    with pytest.raises(NotFound, match=f"no silence {made['id']}"):
        await silences.expire(uow, stranger, made["id"])


async def test_firing_alerts_open_one_incident_per_key_and_silences_hold_theirs(uow: UnitOfWork) -> None:
    integration, _ = await _integration(uow)
    caller = Principal(user_id=new_id(), tenant_id=integration.tenant_id, role=Role.INCIDENT_MANAGER)
    await _staging_silence(uow, caller, timedelta(hours=1))
    signals = [_firing("db", "a"), _firing("db", "b"), _firing("web", env="staging")]
    outcomes = await alerts.accept_signals(uow, integration, IncidentSource.ALERTMANAGER, signals)
    assert [o.outcome for o in outcomes] == ["opened", "attached", "silenced"]
    reported = [e for e in uow.emitted if e.type == IncidentReported.event_type]
    assert len(reported) == 1 and reported[0].data["dedup_key"] == "db"
    assert reported[0].data["detected_at"] == uow.now.isoformat().replace("+00:00", "Z")
    again = await alerts.accept_signals(uow, integration, IncidentSource.ALERTMANAGER, [_firing("db", "a")])
    assert again[0].outcome == "attached" and again[0].incident_id == outcomes[0].incident_id


async def test_the_last_resolved_alert_resolves_the_key_at_the_clocks_time(uow: UnitOfWork) -> None:
    integration, _ = await _integration(uow)
    signals = [_firing("db", "a"), _firing("db", "b")]
    (opened, _) = await alerts.accept_signals(uow, integration, IncidentSource.ALERTMANAGER, signals)
    first = await alerts.accept_signals(uow, integration, IncidentSource.ALERTMANAGER, [_resolved("db", "a")])
    assert first[0].outcome == "recorded"
    last = await alerts.accept_signals(uow, integration, IncidentSource.ALERTMANAGER, [_resolved("db", "b")])
    assert last[0].outcome == "resolved" and last[0].incident_id == opened.incident_id
    resolved = [e for e in uow.emitted if e.type == AlertsResolved.event_type]
    assert len(resolved) == 1
    assert resolved[0].data["resolved_at"] == uow.now.isoformat().replace("+00:00", "Z")


async def test_an_acknowledgement_tells_triage_once(uow: UnitOfWork) -> None:
    integration, _ = await _integration(uow)
    (opened,) = await alerts.accept_signals(uow, integration, IncidentSource.EVENTS_V2, [_firing("db")])
    assert await alerts.acknowledge(uow, integration, "db") == opened.incident_id
    assert await alerts.acknowledge(uow, integration, "db") is None
    assert await alerts.acknowledge(uow, integration, "nothing-open") is None
    acked = [e for e in uow.emitted if e.type == AlertAcknowledged.event_type]
    assert len(acked) == 1 and acked[0].data["incident_id"] == str(opened.incident_id)


async def test_a_resolved_incident_closes_its_key_so_the_alert_opens_anew(uow: UnitOfWork) -> None:
    integration, _ = await _integration(uow)
    (opened,) = await alerts.accept_signals(uow, integration, IncidentSource.ALERTMANAGER, [_firing("db")])
    resolved = IncidentResolved(
        incident_id=opened.incident_id,
        reference_code="INC-1",
        title="db is down",
        severity="P2",
        status="resolved",
        resolved_at=uow.now,
    )
    envelope = Envelope.wrap(resolved, source="triage", tenant_id=integration.tenant_id)
    await alerts.close_dedup_keys(uow, [(envelope, resolved)])
    (again,) = await alerts.accept_signals(uow, integration, IncidentSource.ALERTMANAGER, [_firing("db")])
    assert again.outcome == "opened" and again.incident_id != opened.incident_id


async def test_a_deleted_integrations_token_is_refused(uow: UnitOfWork) -> None:
    integration, token = await _integration(uow, IntegrationKind.GENERIC)
    deleted = IntegrationDeleted(integration_id=integration.id, tenant_id=integration.tenant_id, revision=2)
    await integrations.replicate_integration_deleted(uow, _batch(deleted)[0][0], deleted)
    assert await integrations.integration_for_token(uow, token) is None
