"""Audit service: an append-only, hash-chained log of every event; incident timelines and
reports. Entry: `incidentctl serve audit`."""

from fastapi import FastAPI

from audit.config import Settings
from audit.entrypoints.chain import router
from audit.handlers import chain as handlers
from backbone.app import Service, create_app
from backbone.consumer import batched
from contracts.envelope import known_event_types
from contracts.topics import Topic


def create(settings: Settings | None = None) -> FastAPI:
    # Audit records every event type the contracts define, from every *.events topic.
    return create_app(
        Service(
            settings=settings or Settings(),
            title="Audit service",
            description=__doc__ or "",
            api=[router],
            # One Batched handler for every type: a run of mixed types is still one run.
            handlers=dict.fromkeys(known_event_types(), batched(handlers.record)),
            subscribes=[t for t in Topic if t.value.endswith(".events") and t is not Topic.AUDIT_EVENTS],
        )
    )
