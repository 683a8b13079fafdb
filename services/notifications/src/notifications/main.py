"""Notifications service: channels (email, Slack, webhook), routing rules, templates,
deliveries, recorded communications and reminders. Entry: `incidentctl serve notifications`."""

from fastapi import FastAPI

from backbone.app import Service, create_app
from notifications.config import Settings


def create(settings: Settings | None = None) -> FastAPI:
    return create_app(
        Service(
            settings=settings or Settings(),
            title="Notifications service",
            description=__doc__ or "",
        )
    )
