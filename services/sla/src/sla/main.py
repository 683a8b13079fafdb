"""SLA service: SLA policies (tier × severity), business calendars, SLA clocks and
performance metrics. Process entry: `incidentctl serve sla` (uvicorn factory)."""

from fastapi import FastAPI

from backbone.app import Service, create_app
from sla.config import Settings


def create(settings: Settings | None = None) -> FastAPI:
    return create_app(
        Service(
            settings=settings or Settings(),
            title="Sla service",
            description=__doc__ or "",
        )
    )
