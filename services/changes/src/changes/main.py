"""Changes service: change and rollback requests, work orders, problem tickets, workarounds,
RCAs, knowledge-base articles and post-incident reviews. Entry: `incidentctl serve changes`."""

from fastapi import FastAPI

from backbone.app import Service, create_app
from backbone.clock import SYSTEM_CLOCK, Clock
from changes.config import Settings
from changes.entrypoints import (
    change_request,
    consumers,
    kb_article,
    post_incident_review,
    problem,
    rollback_request,
    root_cause_analysis,
    work_order,
    workaround,
)
from contracts.envelope import EventData, known_event_types
from contracts.topics import Topic


def _published() -> list[type[EventData]]:
    """Every event type of change.events (contracts.events.change)."""
    return [c for c in known_event_types().values() if c.topic == Topic.CHANGE_EVENTS]


def create(settings: Settings | None = None, clock: Clock = SYSTEM_CLOCK) -> FastAPI:
    return create_app(
        Service(
            clock=clock,
            settings=settings or Settings(),
            title="Changes service",
            description=__doc__ or "",
            api=[
                module.router
                for module in (
                    change_request,
                    rollback_request,
                    work_order,
                    workaround,
                    root_cause_analysis,
                    problem,
                    kb_article,
                    post_incident_review,
                )
            ],
            handlers=consumers.HANDLERS,
            subscribes=[Topic.INCIDENT_EVENTS, Topic.DIRECTORY_EVENTS, Topic.INTAKE_EVENTS],
            publishes=_published(),
        )
    )
