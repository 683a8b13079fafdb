"""A service's settings by name, for the commands that act on one service."""

from __future__ import annotations

import importlib

import typer

from backbone.settings import ServiceSettings
from contracts.topics import SERVICES


def service_settings(service: str) -> ServiceSettings:
    if service not in SERVICES:
        raise typer.BadParameter(f"unknown service {service!r}; one of {', '.join(SERVICES)}")
    settings: ServiceSettings = importlib.import_module(f"{service}.config").Settings()
    return settings
