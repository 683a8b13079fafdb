"""Intake service: alerts from monitoring (Alertmanager, PagerDuty Events v2, generic webhooks)
and reports from people, deduplicated into incidents. Entry: `incidentctl serve intake`."""

from fastapi import FastAPI

from backbone.app import Service, create_app
from contracts.events import AlertRepeated, IncidentReported, IntegrationCreated, TenantCreated
from contracts.topics import Topic
from intake import handlers
from intake.config import Settings
from intake.entrypoints.api import router


def create(settings: Settings | None = None) -> FastAPI:
    return create_app(
        Service(
            settings=settings or Settings(),
            title="Intake service",
            description=__doc__ or "",
            api=[router],
            handlers={
                TenantCreated.event_type: handlers.record_tenant,
                IntegrationCreated.event_type: handlers.record_integration,
            },
            subscribes=[Topic.DIRECTORY_EVENTS],
            publishes=[IncidentReported, AlertRepeated],
        )
    )
