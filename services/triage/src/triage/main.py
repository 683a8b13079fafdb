"""Triage service: the incident record, severity, lifecycle, assignment and escalation.
Entry: `incidentctl serve triage`."""

from fastapi import FastAPI

from backbone.app import Service, create_app
from backbone.consumer import batched
from contracts.events import AlertRepeated, ComponentRegistered, IncidentCreated, IncidentReported
from contracts.topics import Topic
from triage import handlers
from triage.config import Settings
from triage.entrypoints.api import router


def create(settings: Settings | None = None) -> FastAPI:
    return create_app(
        Service(
            settings=settings or Settings(),
            title="Triage service",
            description=__doc__ or "",
            api=[router],
            handlers={
                IncidentReported.event_type: batched(handlers.open_incidents),
                AlertRepeated.event_type: batched(handlers.count_alerts),
                ComponentRegistered.event_type: batched(handlers.replicate_components),
            },
            subscribes=[Topic.INTAKE_EVENTS, Topic.DIRECTORY_EVENTS],
            publishes=[IncidentCreated],
        )
    )
