"""SLA service: SLA policies (tier × severity), business calendars, SLA clocks and
performance metrics. Process entry: `incidentctl serve sla` (uvicorn factory)."""

from fastapi import FastAPI

from backbone.app import Service, create_app
from backbone.clock import SYSTEM_CLOCK, Clock
from contracts.events import SlaCalendarChanged, SlaMetricRecorded, SlaPolicyChanged
from contracts.topics import Topic
from sla.config import Settings
from sla.entrypoints import calendar as calendar_api
from sla.entrypoints import clock as clock_api
from sla.entrypoints import metric as metric_api
from sla.entrypoints import policy as policy_api
from sla.handlers.clock import Clocks


def create(settings: Settings | None = None, clock: Clock = SYSTEM_CLOCK) -> FastAPI:
    settings = settings or Settings()
    # Clocks: their consumers, endpoints and timer loop share the injected clock.
    clocks = Clocks(clock, batch=settings.clock_batch_size)
    app = create_app(
        Service(
            clock=clock,
            settings=settings,
            title="Sla service",
            description=__doc__ or "",
            api=[policy_api.router, calendar_api.router, clock_api.router, metric_api.router],
            handlers={**clock_api.consumers(clocks)},
            subscribes=[Topic.INCIDENT_EVENTS, Topic.DIRECTORY_EVENTS],
            publishes=[SlaPolicyChanged, SlaCalendarChanged, *clock_api.PUBLISHES, SlaMetricRecorded],
            background=[clock_api.timer_loop(settings, clocks)],
        )
    )
    app.state.sla_clocks = clocks
    return app
