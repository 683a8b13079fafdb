"""Intake service: alerts from monitoring (Alertmanager, PagerDuty Events v2, generic webhooks)
and reports from people, deduplicated into incidents. Entry: `incidentctl serve intake`."""

from datetime import timedelta

from fastapi import FastAPI

from backbone.app import Service, create_app
from backbone.consumer import batched
from backbone.retention import Rule
from backbone.timers import SYSTEM_CLOCK, Clock
from contracts.events import (
    AlertAcknowledged,
    AlertRepeated,
    AlertsResolved,
    ClientOnboarded,
    ClientUpdated,
    ComponentRegistered,
    IncidentClosed,
    IncidentReported,
    IncidentResolved,
    IntegrationCreated,
    IntegrationDeleted,
    IntegrationTokenRotated,
    IntegrationUpdated,
    SilenceChanged,
    TenantCreated,
)
from contracts.events.intake import ChangeReceived
from contracts.topics import Topic
from intake.adapters import retention
from intake.config import Settings
from intake.entrypoints import pagerduty, public, reports
from intake.entrypoints.alerts import consume_batches, router
from intake.entrypoints.silences import router as silences_router
from intake.handlers import alerts, integrations, replicas


def create(settings: Settings | None = None, clock: Clock = SYSTEM_CLOCK) -> FastAPI:
    settings = settings or Settings()
    # One object for both event types, so a run of them is one batch (one statement).
    close_keys = batched(alerts.close_dedup_keys)
    # Tests pass a ManualClock to move the repeat announcer instead of sleeping.
    repeats = alerts.repeat_announcer(timedelta(seconds=settings.alert_repeat_event_interval_s), clock)
    clients = batched(replicas.replicate_clients)
    app = create_app(
        Service(
            clock=clock,
            settings=settings,
            title="Intake service",
            description=__doc__ or "",
            api=[router, silences_router, reports.router, public.pages, public.api, pagerduty.router],
            handlers={
                TenantCreated.event_type: batched(replicas.replicate_tenants),
                IntegrationCreated.event_type: integrations.replicate_integration,
                IntegrationUpdated.event_type: integrations.replicate_integration,
                IntegrationTokenRotated.event_type: integrations.replicate_integration,
                IntegrationDeleted.event_type: integrations.replicate_integration_deleted,
                # Reports from people: the replicas the manual report's pre-checks read.
                ClientOnboarded.event_type: clients,
                ClientUpdated.event_type: clients,
                ComponentRegistered.event_type: batched(replicas.replicate_components),
                IncidentResolved.event_type: close_keys,
                IncidentClosed.event_type: close_keys,
            },
            subscribes=[Topic.DIRECTORY_EVENTS, Topic.INCIDENT_EVENTS],
            publishes=[
                IncidentReported,
                AlertRepeated,
                AlertAcknowledged,
                AlertsResolved,
                SilenceChanged,
                ChangeReceived,
            ],
            background=[repeats],
            retention=[
                Rule("alerts", retention.ALERTS, timedelta(days=settings.alert_retention_days)),
                Rule(
                    "dedup_keys",
                    retention.CLOSED_DEDUP_KEYS,
                    timedelta(days=settings.dedup_key_retention_days),
                ),
            ],
        )
    )
    # Alerts accepted by requests are deduplicated by this consumer (docs/adr/0013-durable-fast-ingest.md).
    consume_batches(app.state.runtime)
    return app
