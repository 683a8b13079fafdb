"""A service's settings by name, for the commands that act on one service."""

from __future__ import annotations

import importlib

import typer

from backbone.settings import ServiceSettings
from contracts.topics import SERVICES

# What `serve` and `wait` know: the services, and the console, which serves pages over their
# APIs and has no schema or topic (docs/adr/0014-web-console.md).
SERVED = (*SERVICES, "console")


def service_settings(service: str) -> ServiceSettings:
    if service not in SERVED:
        raise typer.BadParameter(f"unknown service {service!r}; one of {', '.join(SERVED)}")
    settings: ServiceSettings = importlib.import_module(f"{service}.config").Settings()
    return settings
