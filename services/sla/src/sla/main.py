"""SLA service: SLA policies (tier × severity), business calendars, SLA clocks and
performance metrics. Process entry: `incidentctl serve sla` (uvicorn factory)."""

from fastapi import FastAPI

from backbone.app import Service, create_app
from contracts.events import SlaCalendarChanged, SlaPolicyChanged
from sla.config import Settings
from sla.entrypoints import calendar as calendar_api
from sla.entrypoints import policy as policy_api


def create(settings: Settings | None = None) -> FastAPI:
    return create_app(
        Service(
            settings=settings or Settings(),
            title="Sla service",
            description=__doc__ or "",
            api=[policy_api.router, calendar_api.router],
            publishes=[SlaPolicyChanged, SlaCalendarChanged],
        )
    )
