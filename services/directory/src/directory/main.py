"""Directory service: tenants, clients, subscriptions, users, vendors, components, API keys
and integrations. Process entry: `incidentctl serve directory` (uvicorn factory)."""

from fastapi import FastAPI

from backbone.app import Service, create_app
from contracts.events import TenantCreated, UserRegistered
from directory.config import Settings
from directory.entrypoints.api import router


def create(settings: Settings | None = None) -> FastAPI:
    return create_app(
        Service(
            settings=settings or Settings(),
            title="Directory service",
            description=__doc__ or "",
            api=[router],
            publishes=[TenantCreated, UserRegistered],
        )
    )
