"""Changes service: change and rollback requests, work orders, problem tickets, workarounds,
RCAs, knowledge-base articles and post-incident reviews. Entry: `incidentctl serve changes`."""

from fastapi import FastAPI

from backbone.app import Service, create_app
from changes.config import Settings


def create(settings: Settings | None = None) -> FastAPI:
    return create_app(
        Service(
            settings=settings or Settings(),
            title="Changes service",
            description=__doc__ or "",
        )
    )
